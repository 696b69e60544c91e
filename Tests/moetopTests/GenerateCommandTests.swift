import Foundation
import MoERouting
import Testing

/// `moetop generate` and `moetop params` through the binary, on a synthesised model.
@Suite(.serialized) struct GenerateCommandTests {
    /// One line of `generate --json`.
    struct Line: Decodable {
        struct Routing: Decodable {
            var layer: Int
            var experts: [Int32]
            var weights: [Float]
        }
        var position: Int
        var phase: String
        var id: Int32
        var piece: String
        var routing: [Routing]
    }

    static func scratch(_ name: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-generate-\(UUID().uuidString)-\(name)").path
    }

    /// A 3-block qwen3moe of 8 experts, top-2, written by `moetop synth`.
    static func synthModel() throws -> String {
        let path = scratch("model.gguf")
        let run = try InfoHarness.run([
            "synth", "--arch", "qwen3moe", "--out", path, "--layers", "3", "--hidden", "64",
            "--experts", "8", "--top-k", "2", "--expert-ff", "32", "--vocab", "512", "--seed", "7",
        ])
        try #require(run.status == 0, "\(run.stderr)")
        return path
    }

    @Test func jsonAndTraceCarryTheSameRouting() throws {
        let model = try Self.synthModel()
        let trace = Self.scratch("trace.jsonl")
        defer {
            try? FileManager.default.removeItem(atPath: model)
            try? FileManager.default.removeItem(atPath: trace)
        }
        let run = try InfoHarness.run([
            "generate", "-m", model, "--prompt", "The router sends", "-n", "12", "--temp", "0",
            "--ignore-eos", "--json", "--trace", trace, "--threads", "2",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try run.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(Line.self, from: Data($0.utf8))
        }
        let decoded = lines.filter { $0.phase == "decode" }
        #expect(decoded.count == 12)
        #expect(lines.map(\.position) == Array(0..<lines.count))
        #expect(lines.allSatisfy { $0.routing.map(\.layer) == [0, 1, 2] })
        #expect(run.stderr.contains("decode: 12 tokens"), "\(run.stderr)")

        // the trace holds every step, with the routing --json printed
        let read = try TraceReader.read(path: trace)
        #expect(read.count == lines.count)
        #expect(read.header.model.expertCount == 8)
        for (index, line) in lines.enumerated() {
            let step = read.step(at: index)
            #expect(step.tokenID == line.id)
            #expect(step.piece == line.piece)
            #expect(step.records.map(\.experts) == line.routing.map(\.experts))
            #expect(step.records.map(\.weights) == line.routing.map(\.weights))
        }
        let validate = try InfoHarness.run(["trace", "validate", trace])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    }

    @Test func greedyTextIsTheSameWithOneAndTwoThreads() throws {
        let model = try Self.synthModel()
        defer { try? FileManager.default.removeItem(atPath: model) }
        let texts = try [1, 2].map { threads in
            let run = try InfoHarness.run([
                "generate", "-m", model, "--prompt", "Experts", "-n", "16", "--temp", "0",
                "--ignore-eos", "--threads", "\(threads)",
            ])
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout
        }
        #expect(texts[0] == texts[1])
        #expect(!texts[0].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    @Test(arguments: [
        (["generate", "-m", "/nonexistent/model.gguf", "--prompt", "x"], Int32(1)),
        (["generate"], Int32(2)),
        (["generate", "--prompt", "x", "--temp", "-1"], Int32(2)),
        (["generate", "--prompt", "x", "--bogus"], Int32(2)),
        (["params", "--experts", "8", "--top-k", "2"], Int32(2)),
        (["params", "--experts", "8", "--expert-params", "1Q", "--top-k", "2"], Int32(2)),
        (["params", "--experts", "8", "--expert-params", "1B", "--top-k", "9"], Int32(2)),
    ])
    func badArgumentsExitWithOneLine(arguments: [String], status: Int32) throws {
        let run = try InfoHarness.run(arguments)
        #expect(run.status == status, "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(arguments)")
        #expect(run.stderrLines.count >= 1, "\(arguments)")
    }

    /// Mixtral 8x7B's published figures: 46.7 B total, 12.9 B active (its --help example).
    @Test func paramsReproducesMixtral() throws {
        let run = try InfoHarness.run([
            "params", "--experts", "8", "--expert-params", "176160768", "--layers", "32",
            "--top-k", "2", "--dense-params", "1.606B",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("46.7 B"), "\(run.stdout)")
        #expect(run.stdout.contains("12.9 B"), "\(run.stdout)")
    }
}

/// Input and output that cannot be read or written: one line naming what failed, exit 1,
/// never a crash (a directory and a full disk were crashes).
@Suite struct UnreadableAndUnwritableTests {
    @Test func tokenizeRefusesADirectory() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let run = try InfoHarness.run(["tokenize", "--file", directory])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.contains("\(directory): Is a directory"), "\(run.stderr)")
    }

    @Test(arguments: [["generate", "--prompt", "hi", "-n", "4"], ["tokenize", "Hello"]])
    func aFullDiskIsAnError(arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: InfoHarness.binary)
        process.arguments = arguments
        process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(
            decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1, "\(arguments): \(message)")
        #expect(message.contains("cannot write to standard output"), "\(message)")
    }
}
