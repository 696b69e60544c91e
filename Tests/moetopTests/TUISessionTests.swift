import Foundation
import MoERouting
import Testing

/// End-to-end: the live session on the embedded moetop-tiny (4 MoE layers x 16 experts, top-2),
/// under tmux, at 80x24 and 200x60; and a replay of its trace showing the same heatmap.
///
/// `MOETOP_MODEL` stands in for the embedded model when set (as the binary itself does).
@Suite(.serialized) struct TUISessionTests {
    /// moetop-tiny's shape (Training/common.py).
    static let layerCount = 4
    static let expertCount = 16
    static let expertsPerToken = 2

    static var ready: Bool {
        TmuxSession.tmuxBinary() != nil && TmuxSession.moetopBinary() != nil
            && AuditCommandTests.embeddedModelPresent
    }

    /// The heatmap's layer rows: `L0` to `L3` followed by cells, each row as drawn, from its
    /// label to the pane's right border.
    static func heatmapRows(_ screen: String) -> [String] {
        screen.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: #"│L[0-9]+ "#, options: .regularExpression),
                !line[range.upperBound...].hasPrefix("E")
            else { return nil }
            return String(line[line.index(after: range.lowerBound)...])
        }
    }

    /// The session's token count in the Text pane's title (`╭─ Text · ... ── 15 tok ─`).
    static func sessionTokens(_ screen: String) -> Int? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains("─ Text ·") }),
            let range = line.range(of: #"\d+ tok ─"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].split(separator: " ")[0])
    }

    /// The Router pane's own text on every line (what lies right of its left border), from its
    /// title down to its bottom border.
    static func routerPane(_ screen: String) -> [String] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        guard let top = lines.firstIndex(where: { $0.contains("Router · token") }),
            let column = lines[top].range(of: "╭─ Router")
        else { return [] }
        let start = lines[top].distance(from: lines[top].startIndex, to: column.lowerBound)
        var pane: [String] = []
        for line in lines[top...] {
            let characters = Array(line)
            guard characters.count > start else { break }
            pane.append(String(characters[start...]))
            if characters[start] == "╰" { break }
        }
        return pane
    }

    @Test(
        .enabled(if: ready, "needs tmux, the moetop binary and the embedded model"),
        arguments: [(80, 24), (200, 60)])
    func liveSessionShowsRoutingSurvivesResizeAndRestoresTheTerminal(width: Int, height: Int)
        throws
    {
        let binary = try #require(TmuxSession.moetopBinary())
        let session = try TmuxSession(
            command: TUIReplayTests.paneCommand(binary, "--temp 0 -n 24 --threads 2"),
            width: width, height: height)
        defer { session.kill() }

        // the prompt line takes focus at start; type a prompt and send it
        var screen = try session.waitFor { $0.contains("type a prompt") }
        #expect(screen.contains("Router") && screen.contains("Parameters"), "screen:\n\(screen)")
        try session.type("def read_config(path):")
        try session.sendKeys("Enter")
        screen = try session.waitFor(seconds: 60) { $0.contains("tok/s") && $0.contains("idle") }
        #expect(screen.contains("tok/s"), "screen:\n\(screen)")

        // heatmap: one row per MoE layer, each with the top-2 experts marked
        let rows = Self.heatmapRows(screen)
        #expect(rows.count == Self.layerCount, "screen:\n\(screen)")
        #expect(
            rows.allSatisfy { $0.filter { $0 == "◆" }.count == Self.expertsPerToken },
            "screen:\n\(screen)")
        // bars: experts of layer 0 with their share and ratio to the fair share (2/16 = 12.5 %)
        let bars = screen.split(separator: "\n").filter {
            $0.range(
                of: #"│E\d+ +[^ ]*[█▏▎▍▌▋▊▉·┊]+ +\d+(\.\d)?% +\d+\.\dx"#,
                options: .regularExpression) != nil
        }
        #expect(bars.count >= 3, "screen:\n\(screen)")
        // counters: total and active per token as the model says, and touched experts out of 64
        #expect(screen.contains("total") && screen.contains("active/token"), "screen:\n\(screen)")
        let touched = try #require(
            TUIReplayTests.fraction(after: "experts touched", in: screen), "screen:\n\(screen)")
        #expect(touched.1 == Self.layerCount * Self.expertCount)
        #expect(touched.0 >= Self.expertsPerToken * Self.layerCount && touched.0 <= touched.1)

        // resize to 20x5: the size notice; back: the panes again
        try session.expectSmallSizeNoticeAndRecovery(width: width, height: height)

        // quit: focus is on the text after sending, so q quits; the terminal is cooked again
        try session.expectQuitRestoresTheTerminal()
    }

    /// A greedy live session recorded with --trace; token N selected there, and the replay of
    /// the trace seeked to N, show the same Router pane: title, marks, entropy, top-k, cell.
    @Test(.enabled(if: ready, "needs tmux, the moetop binary and the embedded model"))
    func replayShowsTheHeatmapTheLiveSessionShowed() throws {
        let binary = try #require(TmuxSession.moetopBinary())
        let trace = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-live-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let token = 9

        let live = try TmuxSession(
            command: TUIReplayTests.paneCommand(
                binary,
                "--temp 0 -n 16 --threads 2 --trace '\(trace)' --prompt 'The tutorial shows how'"
            ),
            width: 120, height: 40)
        defer { live.kill() }
        var screen = try live.waitFor(seconds: 60) { $0.contains("tok/s") && $0.contains("idle") }
        try live.sendKeys("Home")
        for _ in 0..<token { try live.sendKeys("Right") }
        screen = try live.waitFor { $0.contains("Router · token · #\(token) ") }
        let livePane = Self.routerPane(screen)
        #expect(livePane.first?.contains("#\(token) ") == true, "screen:\n\(screen)")
        try live.sendKeys("q")
        _ = try live.waitFor { $0.contains("EXIT=") }

        let replay = try TmuxSession(
            command: TUIReplayTests.paneCommand(binary, "replay '\(trace)'"), width: 120,
            height: 40)
        defer { replay.kill() }
        _ = try replay.waitFor { $0.contains("Router") }
        // typing a position seeks: N + 1 tokens shown, the newest is token N
        try replay.type("\(token + 1)")
        try replay.sendKeys("Enter")
        screen = try replay.waitFor { $0.contains("Router · token · #\(token) ") }
        let replayPane = Self.routerPane(screen)
        #expect(Self.heatmapRows(livePane.joined(separator: "\n")).count == Self.layerCount)
        #expect(
            replayPane == livePane,
            "live:\n\(livePane.joined(separator: "\n"))\nreplay:\n\(replayPane.joined(separator: "\n"))"
        )
    }

    /// `moetop demo`: the attract loop streams the first sample prompt's answer with the large
    /// counters, and any key ends it with the terminal restored.
    @Test(.enabled(if: ready, "needs tmux, the moetop binary and the embedded model"))
    func demoStreamsWithLargeCountersUntilAKey() throws {
        let binary = try #require(TmuxSession.moetopBinary())
        let session = try TmuxSession(
            command: TUIReplayTests.paneCommand(binary, "demo --threads 2"), width: 100,
            height: 30)
        defer { session.kill() }
        var screen = try session.waitFor(seconds: 30) {
            ($0.range(of: #"[1-9]\d* tok ─"#, options: .regularExpression) != nil)
                && $0.contains("tok/s")
        }
        #expect(screen.contains("demo 1/"), "screen:\n\(screen)")
        #expect(screen.contains("active parameters per token"), "screen:\n\(screen)")
        #expect(screen.contains("any key exits"), "screen:\n\(screen)")
        #expect(Self.heatmapRows(screen).count == Self.layerCount, "screen:\n\(screen)")
        try session.sendKeys("x")
        screen = try session.waitFor { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(screen.contains("EXIT=0"), "screen:\n\(screen)")
        let modes = screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" })
        #expect(modes.contains("icanon") && !modes.contains("-icanon"), "screen:\n\(screen)")
    }

    /// The `s` key records to the XDG data folder: twice in a row gives two files, each a
    /// valid trace of what was generated while it was on.
    @Test(.enabled(if: ready, "needs tmux, the moetop binary and the embedded model"))
    func sKeyRecordsToTheDataFolder() throws {
        let binary = try #require(TmuxSession.moetopBinary())
        let data = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-xdg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let session = try TmuxSession(
            command: "env XDG_DATA_HOME='\(data.path)' "
                + TUIReplayTests.paneCommand(binary, "--temp 0 -n 8 --threads 2"),
            width: 100, height: 30)
        defer { session.kill() }
        _ = try session.waitFor { $0.contains("type a prompt") }
        var tokens = 0
        for turn in 0..<2 {
            // leave the prompt, start recording, send a prompt, wait, stop recording
            try session.sendKeys("Escape")
            try session.sendKeys("s")
            var screen = try session.waitFor { $0.contains("REC") }
            #expect(screen.contains("REC moetop-"), "screen:\n\(screen)")
            try session.sendKeys("Enter")
            try session.type("Permission is hereby granted \(turn)")
            try session.sendKeys("Enter")
            // the text pane's title counts the session's tokens: prompt and 8 answer tokens more
            screen = try session.waitFor(seconds: 60) {
                $0.contains("idle") && (Self.sessionTokens($0) ?? 0) >= tokens + 9
            }
            tokens = try #require(Self.sessionTokens(screen), "\(screen)")
            try session.sendKeys("s")
            screen = try session.waitFor { !$0.contains("REC moetop-") }
            #expect(!screen.contains("REC moetop-"), "screen:\n\(screen)")
        }
        try session.sendKeys("q")
        _ = try session.waitFor { $0.contains("EXIT=") }

        let folder = data.appendingPathComponent("moetop/traces")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count == 2, "\(files)")
        for file in files {
            let trace = try TraceReader.read(path: folder.appendingPathComponent(file).path)
            #expect(trace.count >= 8, "\(file): \(trace.count) tokens")
            #expect(trace.expertCount == Self.expertCount)
        }
    }
}
