import Foundation

/// Standard error, for diagnostics. Data goes to stdout, everything else here.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

nonisolated(unsafe) var standardError = StandardError()

/// Prints one diagnostic line to stderr.
func printError(_ message: String) {
    print(message, to: &standardError)
}
