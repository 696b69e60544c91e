import Foundation
import Testing

@testable import MoERouting

/// A valid token line for `smallModel()` (top-2 of 4 experts, 2 MoE layers).
let goodToken =
    #"{"event":"token","position":5,"phase":"decode","id":17,"piece":"x","experts":[[0,1],[2,3]],"weights":[[0.5,0.5],[0.75,0.25]]}"#

/// Bad event lines and a word each that their error message must contain.
let badLines: [(line: String, mentions: String)] = [
    ("garbage", "expected '{'"),
    ("{\"event\":\"token\"", "expected ',' or '}'"),
    ("[1,2,3]", "expected '{'"),
    (#"{"position":1}"#, "without \"event\""),
    (#"{"event":"token","position":1}"#, "without \"phase\""),
    (goodToken.replacingOccurrences(of: "\"decode\"", with: "\"sideways\""), "sideways"),
    (goodToken.replacingOccurrences(of: "[[0,1],[2,3]]", with: "[[0,9],[2,3]]"), "outside 0...3"),
    (goodToken.replacingOccurrences(of: "[[0,1],[2,3]]", with: "[[1,1],[2,3]]"), "twice"),
    (goodToken.replacingOccurrences(of: "[[0,1],[2,3]]", with: "[[0,1,2],[2,3]]"), "more than 2"),
    (goodToken.replacingOccurrences(of: "[[0,1],[2,3]]", with: "[[0],[2,3]]"), "expected 2"),
    (goodToken.replacingOccurrences(of: "[[0,1],[2,3]]", with: "[[0,1]]"), "1 layers"),
    (goodToken.replacingOccurrences(of: "0.75", with: "\"heavy\""), "heavy"),
    (goodToken.replacingOccurrences(of: "0.75", with: "0.7.5"), "expected ','"),
    (goodToken.replacingOccurrences(of: "\"position\":5", with: "\"position\":-5"), "outside"),
    (goodToken.replacingOccurrences(of: "\"id\":17", with: "\"id\":1.5"), "integer"),
    (goodToken.replacingOccurrences(of: "\"piece\":\"x\"", with: "\"piece\":\"x"), "expected"),
    (goodToken.replacingOccurrences(of: "\"x\"", with: "\"\\q\""), "unknown escape"),
    (goodToken.replacingOccurrences(of: "\"x\"", with: "\"\\ud800\""), "surrogate"),
    (goodToken + " 42", "after the closing"),
    (goodToken.replacingOccurrences(of: "\"id\":17", with: "\"id\":17,\"id\":18"), "repeated"),
    (#"{"event":"prompt"}"#, "without \"text\""),
    (#"{"event":"prompt","text":"a","experts":[]}"#, "carries routing"),
]

@Suite struct TraceReaderErrorTests {
    /// A trace whose third line (the second event) is `bad`, with good tokens around it.
    func traceWithBadLine(_ bad: String) throws -> String {
        let path = temporaryPath("bad.jsonl")
        try writeTrace(path, steps: [])
        var content = try lines(of: path)
        content.removeLast()  // the empty string after the final newline
        content += [goodToken, bad, goodToken, ""]
        try write(lines: content, to: path)
        return path
    }

    @Test(arguments: badLines)
    func badLineFailsWithItsLineNumber(line: String, mentions: String) throws {
        let path = try traceWithBadLine(line)
        // line 1 header, 2 prompt, 3 good token, 4 the bad line
        do {
            _ = try TraceReader.read(path: path)
            Issue.record("read a trace with a bad line 4: \(line)")
        } catch {
            guard case .badLine(_, let number, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(number == 4)
            #expect(reason.contains(mentions), "\(reason)")
            #expect(error.description.hasPrefix("\(path):4: column "))
        }
    }

    @Test(arguments: badLines)
    func badLineIsSkippedAndCountedWhenLenient(line: String, mentions: String) throws {
        let path = try traceWithBadLine(line)
        let trace = try TraceReader.read(path: path, options: .init(lenient: true))
        #expect(trace.count == 2)
        #expect(trace.report.skippedLines == 1)
        #expect(trace.report.issues.map(\.line) == [4])
        #expect(trace.report.tornLastLine == nil)
    }

    @Test func invalidUTF8IsABadLine() throws {
        let path = try traceWithBadLine("")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let good = goodToken.replacingOccurrences(of: "\"x\"", with: "\"\u{7f}\"")
        bytes.append(contentsOf: Array(good.utf8).map { $0 == 0x7f ? 0xff : $0 } + [0x0a])
        bytes.append(contentsOf: Array(goodToken.utf8) + [0x0a])
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(
            throws: TraceError.badLine(
                path: path, line: 6, reason: "column 64: string is not valid UTF-8")
        ) {
            try TraceReader.read(path: path)
        }
    }

    @Test func weightsMayBeLeftOut() throws {
        let line = goodToken.replacingOccurrences(
            of: #","weights":[[0.5,0.5],[0.75,0.25]]"#, with: "")
        let path = try traceWithBadLine(line)
        let trace = try TraceReader.read(path: path)
        #expect(trace.count == 3)
        let unknown = trace.weights(token: 1, slot: 1).allSatisfy { $0.isNaN }
        #expect(unknown)
        #expect(trace.experts(token: 1, slot: 1) == [2, 3])
        #expect(trace.weights(token: 2, slot: 1) == [0.75, 0.25])
    }

    @Test func unknownEventsAndKeysAreIgnored() throws {
        let path = try traceWithBadLine(#"{"event":"marker","label":"later addition"}"#)
        var content = try lines(of: path)
        content.insert(
            goodToken.replacingOccurrences(
                of: "\"id\":17", with: "\"id\":17,\"extra\":{\"a\":[1,null,true]}"),
            at: 2)
        try write(lines: content, to: path)
        let trace = try TraceReader.read(path: path)
        #expect(trace.count == 3)
        #expect(trace.report.ignoredEvents == 1)
    }

    @Test func tornLastLineIsReportedNotFailed() throws {
        let path = temporaryPath("torn.jsonl")
        let steps = sampleSteps(count: 20)
        try writeTrace(path, steps: steps)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // cut the last token line in half (drop its newline and the second half)
        let lastLineStart = bytes.dropLast().lastIndex(of: 0x0a)! + 1
        bytes = bytes.prefix(lastLineStart + (bytes.count - lastLineStart) / 2)
        try bytes.write(to: URL(fileURLWithPath: path))
        let trace = try TraceReader.read(path: path)
        #expect(trace.count == 19)
        #expect(trace.report.tornLastLine == 22)
        #expect(trace.steps == Array(steps.prefix(19)))
    }

    @Test func cutGzipReadsBackItsWholeTokens() throws {
        let path = temporaryPath("cut.jsonl.gz")
        let steps = sampleSteps(count: 60)
        try writeTrace(path, steps: steps)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        for fraction in [0.3, 0.6, 0.9, 0.999] {
            try whole.prefix(Int(Double(whole.count) * fraction)).write(
                to: URL(fileURLWithPath: path))
            let trace = try TraceReader.read(path: path)
            #expect(trace.report.truncatedCompression)
            #expect(trace.count > 0 && trace.count <= 60)
            #expect(trace.steps == Array(steps.prefix(trace.count)))
        }
    }

    @Test func newerVersionIsRefused() throws {
        let path = temporaryPath("v2.jsonl")
        try write(
            lines: [#"{"format":"moetop-trace","version":2,"model":"something new"}"#, ""],
            to: path)
        #expect(throws: TraceError.newerVersion(path: path, found: 2, supported: 1)) {
            try TraceReader.read(path: path)
        }
    }

    @Test(arguments: [
        (#"{"format":"other","version":1}"#, "not a moetop trace"),
        (#"{"version":1}"#, "not a moetop trace"),
        (#"{"format":"moetop-trace","version":0}"#, "version"),
        (#"{"format":"moetop-trace","version":1}"#, "missing key \"model\""),
        ("not json", "bad trace header"),
    ])
    func badHeadersAreRefused(header: String, mentions: String) throws {
        let path = temporaryPath("header.jsonl")
        try write(lines: [header, goodToken, ""], to: path)
        do {
            _ = try TraceReader.read(path: path, options: .init(lenient: true))
            Issue.record("read a trace with header \(header)")
        } catch {
            #expect(error.description.contains(mentions), "\(error)")
            #expect(error.description.hasPrefix("\(path):1: "))
        }
    }

    @Test func headerWithImpossibleModelIsRefused() throws {
        let path = temporaryPath("shape.jsonl")
        var model = smallModel()
        model.expertsPerToken = 5
        let header = String(
            decoding: try JSONEncoder().encode(TraceHeader(model: model)), as: UTF8.self)
        try write(lines: [header, ""], to: path)
        #expect(throws: TraceError.self) { try TraceReader.read(path: path) }
        #expect(throws: TraceError.self) {
            try TraceWriter(path: temporaryPath("shape2.jsonl"), header: TraceHeader(model: model))
        }
    }

    @Test func emptyAndMissingFiles() throws {
        let path = temporaryPath("empty.jsonl")
        try write(lines: [""], to: path)
        #expect(throws: TraceError.empty(path: path)) { try TraceReader.read(path: path) }
        #expect(throws: TraceError.self) { try TraceReader.read(path: path + ".missing") }
    }

    @Test func fingerprintMismatchIsRefusedWithTheReason() throws {
        let path = temporaryPath("fp.jsonl")
        try writeTrace(path, steps: sampleSteps(count: 3))
        let trace = try TraceReader.read(path: path)
        try trace.check(against: smallModel())
        var other = smallModel(fingerprint: "fedcba9876543210")
        other.name = "other"
        do {
            try trace.check(against: other)
            Issue.record("attached a trace to another model")
        } catch {
            #expect(error.description.contains("0123456789abcdef (small, qwen3moe) in the trace"))
            #expect(error.description.contains("fedcba9876543210 (other, qwen3moe) in the model"))
        }
        other = smallModel()
        other.expertCount = 8
        #expect(throws: TraceError.self) { try trace.check(against: other) }
    }
}
