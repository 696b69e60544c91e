import Foundation
import Testing

@testable import MoERouting

/// The parallel reader must give what the one-thread reader gives: same events, same report,
/// same line numbers in errors. `minimumSize: 0` forces it onto these small files.
@Suite struct TraceParallelReaderTests {
    func parallel(_ path: String, lenient: Bool = false) throws -> Trace {
        try #require(
            try TraceReader.readInParallel(
                path: path, options: .init(lenient: lenient), minimumSize: 0))
    }

    func expectSame(_ a: Trace, _ b: Trace) {
        #expect(a.count == b.count)
        #expect(a.steps == b.steps)
        #expect(a.prompts == b.prompts)
        #expect(a.report == b.report)
    }

    /// A trace with prompts in the middle, some tokens without routing, some without probs.
    func writeMixed(_ path: String) throws -> [TokenStep] {
        var steps = sampleSteps(count: 400)
        steps[17].records = []
        let writer = try TraceWriter(
            path: path, header: TraceHeader(model: smallModel()),
            options: .init(probabilities: true, logits: true))
        for (index, step) in steps.enumerated() {
            if index % 97 == 0 { try writer.write(prompt: "turn \(index)") }
            try writer.write(step: step)
        }
        try writer.close()
        return steps
    }

    @Test func joinsChunksInFileOrder() throws {
        let path = temporaryPath("mixed.jsonl")
        let steps = try writeMixed(path)
        let inOrder = try TraceReader.readInOrder(path: path, options: .init())
        let joined = try parallel(path)
        expectSame(joined, inOrder)
        #expect(joined.steps == steps)
        #expect(joined.prompts.map(\.tokenIndex) == [0, 97, 194, 291, 388])
    }

    @Test(arguments: [5, 150, 377])
    func badLineHasTheSameNumber(at index: Int) throws {
        let path = temporaryPath("bad.jsonl")
        _ = try writeMixed(path)
        var content = try lines(of: path)
        content.insert("{\"event\":\"token\",\"position\":-1}", at: index)
        try write(lines: content, to: path)
        func failure(_ read: () throws -> Trace) -> TraceError? {
            do {
                _ = try read()
                return nil
            } catch let error as TraceError {
                return error
            } catch {
                return nil
            }
        }
        let inOrder = failure { try TraceReader.readInOrder(path: path, options: .init()) }
        let joined = failure { try parallel(path) }
        #expect(inOrder != nil)
        #expect(joined == inOrder)
        if case .badLine(_, let line, _)? = joined { #expect(line == index + 1) }
        expectSame(
            try parallel(path, lenient: true),
            try TraceReader.readInOrder(path: path, options: .init(lenient: true)))
    }

    @Test func tornTailIsTheSame() throws {
        let path = temporaryPath("torn.jsonl")
        _ = try writeMixed(path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.dropLast(40).write(to: URL(fileURLWithPath: path))
        let joined = try parallel(path)
        expectSame(joined, try TraceReader.readInOrder(path: path, options: .init()))
        #expect(joined.report.tornLastLine != nil)
    }

    @Test func gzipAndHeaderOnlyFilesTakeTheOneThreadPath() throws {
        let compressed = temporaryPath("x.jsonl.gz")
        _ = try writeMixed(compressed)
        #expect(
            try TraceReader.readInParallel(path: compressed, options: .init(), minimumSize: 0)
                == nil)
        let headerOnly = temporaryPath("h.jsonl")
        try writeTrace(headerOnly, steps: [])
        let trace = try TraceReader.read(path: headerOnly)
        #expect(trace.count == 0 && trace.prompts.count == 1)
    }
}
