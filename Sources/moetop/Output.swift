import Foundation

/// Standard error, for diagnostics. Data goes to stdout, everything else here.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        // a closed or full stderr loses the message; it must not crash the command
        try? FileHandle.standardError.write(contentsOf: Data(string.utf8))
    }
}

nonisolated(unsafe) var standardError = StandardError()

/// Prints one diagnostic line to stderr.
func printError(_ message: String) {
    print(message, to: &standardError)
}

/// Writes `data` to standard output. A failed write (a full disk, a closed pipe) is an error
/// that names stdout and its reason, not a crash.
func writeStandardOutput(_ data: Data) throws {
    do {
        try FileHandle.standardOutput.write(contentsOf: data)
    } catch {
        throw OutputError(reason: String(cString: strerror(errno)))
    }
}

/// Standard output could not be written.
struct OutputError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot write to standard output: \(reason)" }
}
