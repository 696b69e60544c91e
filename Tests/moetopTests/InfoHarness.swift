import Foundation

/// Runs the moetop binary for the `info` tests (kept in a namespace so that other commands'
/// test helpers in this target cannot clash with it).
enum InfoHarness {
    /// The result of one run.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Non-empty stderr lines.
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// The package root (this file is Tests/moetopTests/InfoHarness.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The binary under test: $MOETOP_BIN (set by Scripts/test.sh), else .build/debug/moetop.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty {
            return path
        }
        return packageRoot.appendingPathComponent(".build/debug/moetop").path
    }()

    /// Runs moetop with `arguments` and extra environment, waiting for it to exit.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // read both pipes to the end before waiting, so a large output cannot block the child
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
