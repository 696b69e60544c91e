import Foundation
import MoERouting
import Testing

@testable import MoEAudit

/// The engine adapter on a small random qwen3moe written by `moetop synth`: shapes of the
/// routing it returns, where the scored tokens begin, and runs that must agree.
@Suite(.serialized) struct EngineSubjectTests {
    /// $MOETOP_BIN (Scripts/test.sh sets it), else the debug build of this checkout.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty {
            return path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/moetop").path
    }()

    /// Writes the model once per process.
    static let modelURL: Result<URL, any Error> = Result {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moetop-audit-engine-\(ProcessInfo.processInfo.processIdentifier).gguf")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "synth", "--arch", "qwen3moe", "--out", url.path, "--type", "F32", "--hidden", "64",
            "--layers", "3", "--heads", "2", "--experts", "8", "--top-k", "2", "--expert-ff",
            "32", "--vocab", "400", "--context", "512", "--seed", "7",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        return url
    }

    static func subject() throws -> EngineSubject {
        try EngineSubject(url: try modelURL.get())
    }

    @Test func routingHasOneRecordPerLayerAndToken() throws {
        let subject = try Self.subject()
        let text = "The tenant shall pay the rent on the first day of each month."
        let evaluation = try subject.evaluate(
            prompt: text, reference: nil, threads: 1, scoring: true)
        let tokens = try subject.tokenCount(of: text)
        #expect(evaluation.steps.count == tokens)
        #expect(evaluation.promptTokenCount == tokens)
        // without a reference every token after the first is scored
        #expect(evaluation.scoredTokenCount == tokens - 1)
        #expect(evaluation.logLikelihood < 0)
        for (index, step) in evaluation.steps.enumerated() {
            #expect(step.records.map(\.layer) == subject.model.moeLayers)
            #expect(step.position == index + (evaluation.steps.first?.position ?? 0))
            for record in step.records {
                #expect(record.experts.count == 2)
                #expect(abs(record.probabilities.reduce(0, +) - 1) < 1e-4)
            }
        }
    }

    /// Σ ln p over the reference given the prompt equals the score of the whole text minus the
    /// score of the prompt alone, when the joined text tokenizes as the prompt's tokens followed
    /// by the reference's.
    @Test func referenceScoreIsTheWholeTextMinusThePrompt() throws {
        let subject = try Self.subject()
        let prompt = "37 + 48 ="
        let reference = " 85"
        let whole = try subject.evaluate(
            prompt: prompt + reference, reference: nil, threads: 1, scoring: true)
        let alone = try subject.evaluate(prompt: prompt, reference: nil, threads: 1, scoring: true)
        let scored = try subject.evaluate(
            prompt: prompt, reference: reference, threads: 1, scoring: true)
        #expect(scored.promptTokenCount == alone.steps.count)
        #expect(scored.scoredTokenCount == whole.steps.count - alone.steps.count)
        let difference = whole.logLikelihood - alone.logLikelihood
        print("reference score \(scored.logLikelihood), whole − prompt \(difference)")
        #expect(abs(scored.logLikelihood - difference) < 1e-3 * max(1, abs(difference)))
        // the prompt's routing is the same whether the reference follows or not
        #expect(
            scored.steps.prefix(scored.promptTokenCount).map { $0.records.map(\.experts) }
                == alone.steps.map { $0.records.map(\.experts) })
    }

    @Test func threadCountsGiveTheSameRouting() throws {
        let subject = try Self.subject()
        let text = "def parse(line):\n    return [int(x) for x in line.split()]"
        let one = try subject.evaluate(prompt: text, reference: nil, threads: 1, scoring: false)
        let three = try subject.evaluate(prompt: text, reference: nil, threads: 3, scoring: false)
        #expect(
            one.steps.map { $0.records.map(\.experts) }
                == three.steps.map { $0.records.map(\.experts) })
        #expect(one.logLikelihood == 0)
    }
}
