import Foundation
import MoERouting
import Testing

/// End-to-end: `moetop replay` of a synthesised trace, under tmux, at 80x24 and 200x60.
/// Skipped (with a message) when tmux or the built binary is missing; CI installs tmux.
@Suite(.serialized) struct TUIReplayTests {
    /// A 6-layer, 8-expert, top-2 model; router probabilities follow a fixed per-layer
    /// preference so that the heatmap and bars have structure.
    static func writeTrace(tokens: Int, layers: Int = 6, experts: Int = 8) throws -> String {
        let model = ModelDescription(
            name: "e2e-model", architecture: "qwen3moe", fingerprint: "e2e-fingerprint",
            layerCount: layers, moeLayers: Array(0..<layers), expertCount: experts,
            expertsPerToken: 2, sharedExpertCount: 0, gating: .softmax, normalizesTopK: true,
            weightsScale: 1, totalParameters: 14_200_000, activeParameters: 4_100_000,
            parametersPerExpert: 200_000, bytesPerExpert: 400_000, alwaysActiveBytes: 3_000_000)
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-e2e-\(UUID().uuidString).jsonl").path
        let writer = try TraceWriter(path: path, header: TraceHeader(model: model))
        try writer.write(prompt: "The router sends each token")
        let words = ["The", " router", " sends", " each", " token", " to", " experts", ".", "\n"]
        for position in 0..<tokens {
            var records: [RoutingRecord] = []
            for layer in 0..<layers {
                // expert (layer + position) % E is favoured, its neighbour second
                var p = [Float](repeating: 0.02, count: experts)
                let first = (layer + position / 3) % experts
                let second = (first + 1 + layer % 3) % experts
                p[first] = 0.6
                p[second] = 0.28
                let sum = p.reduce(0, +)
                p = p.map { $0 / sum }
                records.append(
                    RoutingRecord(
                        layer: layer, logits: [], probabilities: p,
                        experts: [Int32(first), Int32(second)],
                        weights: [
                            p[first] / (p[first] + p[second]), p[second] / (p[first] + p[second]),
                        ]))
            }
            try writer.write(
                step: TokenStep(
                    tokenID: Int32(position), piece: words[position % words.count],
                    position: position, phase: position < 5 ? .prefill : .decode,
                    records: records, timing: StepTiming(forward: 0.01, sampling: 0.001)))
        }
        try writer.close()
        return path
    }

    /// The command a pane runs: moetop, then `stty -a` so the test can see the terminal mode
    /// moetop left behind.
    static func paneCommand(_ binary: String, _ arguments: String) -> String {
        "env -u NO_COLOR LANG=C.UTF-8 TERM=tmux-256color \(binary) \(arguments); echo EXIT=$?; stty -a; sleep 120"
    }

    /// The number before `label` (e.g. the "12" of "12 tok ─" in the text pane's title).
    static func count(of label: String, in screen: String) -> Int? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains(label) }),
            let range = line.range(of: #"\d+ "# + label, options: .regularExpression)
        else { return nil }
        return Int(line[range].split(separator: " ").first ?? "")
    }

    /// Numbers in "a/b" form on the line that contains `label`.
    static func fraction(after label: String, in screen: String) -> (Int, Int)? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains(label) }),
            let range = line.range(of: #"\d+/\d+"#, options: .regularExpression)
        else { return nil }
        let parts = line[range].split(separator: "/").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    @Test(arguments: [(80, 24), (200, 60)])
    func replayShowsPanesSurvivesResizeAndRestoresTheTerminal(width: Int, height: Int) throws {
        guard TmuxSession.tmuxBinary() != nil else {
            print("skipped: tmux is not installed (apt-get install tmux)")
            return
        }
        guard let binary = TmuxSession.moetopBinary() else {
            print("skipped: no moetop binary (swift build, or set MOETOP_BIN)")
            return
        }
        let trace = try Self.writeTrace(tokens: 120)
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let session = try TmuxSession(
            command: Self.paneCommand(binary, "replay '\(trace)'"), width: width, height: height)
        defer { session.kill() }

        // the screen comes up paused at token 0; End jumps to the last token
        var screen = try session.waitFor { $0.contains("0/120") }
        #expect(screen.contains("Router"), "screen:\n\(screen)")
        try session.sendKeys("End")
        screen = try session.waitFor { $0.contains("120/120") }

        // heatmap: six layer rows with the chosen experts marked, and the selected cell's line
        let layerRows = screen.split(separator: "\n").filter {
            $0.range(of: #"│L[0-5] "#, options: .regularExpression) != nil && !$0.contains(" E0 ")
        }
        #expect(layerRows.count == 6, "screen:\n\(screen)")
        #expect(layerRows.allSatisfy { $0.filter { $0 == "◆" }.count == 2 }, "screen:\n\(screen)")
        #expect(screen.contains("Router · token · #119"))
        // bars: the experts of layer 0 with rates and ratios to the fair share (25 %)
        let bars = screen.split(separator: "\n").filter {
            $0.range(
                of: #"│E[0-7] +[^ ]*[█▏▎▍▌▋▊▉·┊]+ +\d+(\.\d)?% +\d+\.\dx"#,
                options: .regularExpression) != nil
        }
        #expect(bars.count >= 3, "screen:\n\(screen)")
        #expect(screen.contains("fair 25%"))
        // counters: the model's totals, and every one of the 48 (layer, expert) pairs touched
        #expect(screen.contains("14.2 M"))
        #expect(screen.contains("4.10 M"))
        let touched = try #require(Self.fraction(after: "experts touched", in: screen))
        #expect(touched.1 == 48 && touched.0 > 0 && touched.0 <= 48)

        // play from the start: the counter moves
        try session.sendKeys("Home")
        try session.sendKeys("Space")
        screen = try session.waitFor {
            $0.range(of: #" [1-9]\d*/120"#, options: .regularExpression) != nil
        }
        #expect(screen.range(of: #" [1-9]\d*/120"#, options: .regularExpression) != nil)

        // resize to 20x5: the size notice; back: the panes again
        try session.expectSmallSizeNoticeAndRecovery(width: width, height: height)

        // quit: exit status 0 and the terminal back in cooked mode (icanon, echo)
        try session.expectQuitRestoresTheTerminal()
    }

    @Test func traceOfAnotherShapeIsRefusedWithTheReason() throws {
        guard let binary = TmuxSession.moetopBinary() else {
            print("skipped: no moetop binary (swift build, or set MOETOP_BIN)")
            return
        }
        let garbage = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-e2e-\(UUID().uuidString).jsonl").path
        try "not a trace\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["replay", garbage]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let message = String(
            decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(message.contains(garbage), "stderr: \(message)")
    }

    /// A signal while the screen is up (SIGTERM, SIGHUP, SIGINT, and SIGQUIT and SIGUSR1,
    /// which used to leave the terminal raw): the terminal is restored and the exit status is
    /// 128 + the signal's number.
    @Test(arguments: [SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1])
    func signalRestoresTheTerminal(number: Int32) throws {
        guard TmuxSession.tmuxBinary() != nil, let binary = TmuxSession.moetopBinary() else {
            print("skipped: tmux or the moetop binary is missing")
            return
        }
        let trace = try Self.writeTrace(tokens: 10)
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let session = try TmuxSession(
            command:
                "sh -c 'echo $$ > \(trace).pid; exec env LANG=C.UTF-8 TERM=tmux-256color \(binary) replay \(trace)'; echo EXIT=$?; stty -a; sleep 120",
            width: 80, height: 24)
        defer { session.kill() }
        _ = try session.waitFor { $0.contains("0/10") }
        let pidText = try String(contentsOfFile: trace + ".pid", encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: trace + ".pid") }
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, number)
        let screen = try session.waitFor { $0.contains("icanon") }
        #expect(screen.contains("EXIT=\(128 + number)"), "screen:\n\(screen)")
        let modes = screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" })
        #expect(modes.contains("icanon") && modes.contains("echo"), "screen:\n\(screen)")
    }
}
