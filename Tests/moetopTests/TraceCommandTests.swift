import Foundation
import MoERouting
import Testing

/// The moetop binary under test: $MOETOP_BIN, else the debug build of this checkout.
private func traceTestBinary() -> URL {
    if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty {
        return URL(fileURLWithPath: path)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/moetop")
}

private struct TraceRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs moetop to completion with `arguments`.
private func moetop(_ arguments: [String]) throws -> TraceRun {
    let process = Process()
    process.executableURL = traceTestBinary()
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // read before waiting, so a full pipe cannot stall the child
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return TraceRun(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

private func scratchPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("moetop-cli-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

@Suite(.serialized) struct TraceCommandTests {
    /// The steps `trace synth` writes for these settings, from the library itself.
    func expectedSteps(layers: Int, experts: Int, topK: Int, seed: UInt64, count: Int)
        -> [TokenStep]
    {
        let model = SyntheticRouting.model(layers: layers, experts: experts, topK: topK, seed: seed)
        var routing = SyntheticRouting(model: model, seed: seed)
        // synth writes probabilities but not logits
        return (0..<count).map { _ in
            var step = routing.next()
            for slot in step.records.indices { step.records[slot].logits = [] }
            return step
        }
    }

    @Test(arguments: ["killed.jsonl", "killed.jsonl.gz"])
    func recordingKilledWithSIGKILLReadsBackToItsLastWholeToken(name: String) throws {
        let path = scratchPath(name)
        let process = Process()
        process.executableURL = traceTestBinary()
        process.arguments = [
            "trace", "synth", "--layers", "3", "--experts", "8", "--top-k", "2", "--tokens",
            "100000", "--delay-ms", "2", "--seed", "11", "--out", path,
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // wait until a few tokens are on disk, then kill without warning
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if size > 8_000 { break }
            usleep(20_000)
        }
        usleep(150_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let trace = try TraceReader.read(path: path)
        #expect(trace.count > 5)
        #expect(trace.count < 100_000)
        if name.hasSuffix(".gz") { #expect(trace.report.truncatedCompression) }
        let want = expectedSteps(layers: 3, experts: 8, topK: 2, seed: 11, count: trace.count)
        let differing = (0..<trace.count).filter { trace.step(at: $0) != want[$0] }
        #expect(
            differing.isEmpty, "tokens that differ from the seed's routing: \(differing.prefix(5))")
        // `validate` agrees: no bad lines, exit 0
        let validate = try moetop(["trace", "validate", path])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("\(trace.count) tokens"))
    }

    @Test func validateListsBadLinesAndSetsTheExitStatus() throws {
        let path = scratchPath("bad.jsonl")
        #expect(
            try moetop([
                "trace", "synth", "--layers", "2", "--experts", "4", "--top-k", "2", "--tokens",
                "5", "--out", path,
            ]).status == 0)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .map(String.init)
        lines.insert("{\"event\":\"token\",\"position\":\"x\"}", at: 3)
        lines.insert("not json", at: 5)
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: path, atomically: false, encoding: .utf8)

        let strict = try moetop(["trace", "validate", path])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("\(path):4: column 29: expected an integer for position"))
        #expect(strict.stderr.contains("\(path):6: column 1: expected '{'"))
        #expect(strict.stdout.contains("5 tokens") && strict.stdout.contains("2 bad lines"))

        let lenient = try moetop(["trace", "validate", path, "--lenient"])
        #expect(lenient.status == 0)

        // the other tools refuse the bad trace unless lenient reading were asked for
        let stats = try moetop(["trace", "stats", path])
        #expect(stats.status == 1)
        #expect(stats.stderr.contains(":4: column 29"))
    }

    @Test func validateRefusesANewerVersion() throws {
        let path = scratchPath("v9.jsonl")
        try "{\"format\":\"moetop-trace\",\"version\":9}\n".write(
            toFile: path, atomically: false, encoding: .utf8)
        let run = try moetop(["trace", "validate", path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("version 9 is newer than this moetop reads (1)"))
    }

    @Test func exportHasOneRowPerTokenLayerAndRank() throws {
        let path = scratchPath("export.jsonl.gz")
        _ = try moetop([
            "trace", "synth", "--layers", "3", "--experts", "8", "--top-k", "2", "--tokens", "7",
            "--prefill", "3", "--out", path, "--no-probs",
        ])
        let csv = try moetop(["trace", "export", path, "--csv"])
        #expect(csv.status == 0)
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first == "token,position,phase,token_id,layer,rank,expert,weight")
        #expect(rows.count == 1 + 7 * 3 * 2)
        let decode = try moetop(["trace", "export", path, "--jsonl", "--phase", "decode"])
        #expect(decode.stdout.split(separator: "\n").count == 4 * 3 * 2)
        // each row matches the trace
        let trace = try TraceReader.read(path: path)
        // token 2, layer 2, rank 1: after the header row, 6 rows per token, 2 per layer
        let index: Int = 1 + 2 * 6 + 2 * 2 + 1
        let row = rows[index].split(separator: ",")
        #expect(Int(row[6]) == Int(trace.experts(token: 2, slot: 2).last!))
        #expect(Float(row[7]) == trace.weights(token: 2, slot: 2).last!)
    }

    @Test func statsJSONMatchesTheLibrary() throws {
        let path = scratchPath("stats.jsonl")
        _ = try moetop([
            "trace", "synth", "--layers", "2", "--experts", "8", "--top-k", "2", "--tokens", "300",
            "--out", path,
        ])
        let run = try moetop(["trace", "stats", path, "--json"])
        #expect(run.status == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.count == 2)
        let trace = try TraceReader.read(path: path)
        var counts = [Int](repeating: 0, count: 8)
        for token in 0..<trace.count {
            for expert in trace.experts(token: token, slot: 1) { counts[Int(expert)] += 1 }
        }
        let balance = try #require(LoadBalance(counts: counts))
        let gini = try #require(layers[1]["gini"] as? Double)
        #expect(abs(gini - balance.gini) < 1e-12)
        #expect(json["tokens"] as? Int == 300)
    }

    @Test(arguments: [
        ["trace", "--help"], ["trace", "stats", "--help"], ["trace", "export", "--help"],
        ["trace", "validate", "--help"], ["trace", "synth", "--help"],
    ])
    func helpPrintsUsage(arguments: [String]) throws {
        let run = try moetop(arguments)
        #expect(run.status == 0)
        #expect(run.stdout.contains("usage: moetop trace"))
    }

    @Test(arguments: [
        ["trace"], ["trace", "frobnicate"], ["trace", "stats"], ["trace", "export", "x.jsonl"],
        ["trace", "synth", "--layers", "2"], ["trace", "stats", "a", "b"],
        [
            "trace", "synth", "--layers", "2", "--experts", "4", "--top-k", "5", "--tokens", "1",
            "--out", "/dev/null",
        ],
    ])
    func misuseExitsWithTwo(arguments: [String]) throws {
        let run = try moetop(arguments)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }

    @Test func missingFileExitsWithOne() throws {
        let run = try moetop(["trace", "stats", "/nonexistent/trace.jsonl"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("/nonexistent/trace.jsonl: cannot open"))
    }
}
