import Foundation
import MoEEngine
import MoERouting
import Testing

/// The generator on the qwen3moe fixture: step sequence, stop conditions, determinism.
@Suite("Generator")
struct GeneratorTests {
    static func generator(threads: Int = 1, context: Int? = nil) throws -> (
        Generator, EngineFixture
    ) {
        let (fixture, url) = try EngineFixture.load("qwen3moe", type: "f32")
        return (try Generator(url: url, contextLength: context, threads: threads), fixture)
    }

    static let greedy = GenerationOptions(
        maxTokens: 32, sampler: .greedy, stopsAtEndOfGeneration: false)

    @Test("greedy steps: the prompt (prefill) then transformers' continuation (decode)")
    func greedySteps() throws {
        let (generator, fixture) = try Self.generator()
        let run = try generator.generate(prompt: fixture.prompt, options: Self.greedy)
        let steps = Array(run)
        let prompt = steps.prefix { $0.phase == .prefill }
        let decoded = steps.drop { $0.phase == .prefill }
        #expect(prompt.map(\.tokenID) == fixture.prompt)
        #expect(decoded.map(\.tokenID) == fixture.continuation)
        #expect(steps.map(\.position) == Array(0..<(fixture.prompt.count + 32)))
        #expect(steps.allSatisfy { $0.records.map(\.layer) == [0, 1] })
        #expect(run.stopReason == .tokenLimit)
        #expect(run.text == generator.tokenizer.decode(fixture.continuation))
        #expect(decoded.map(\.piece).joined() == run.text)
        #expect(run.throughput.promptTokens == fixture.prompt.count)
        #expect(run.throughput.generatedTokens == 32)
        #expect(run.throughput.timedDecodeTokens == 31)
    }

    @Test("the same seed gives the same tokens and routing with 1 and 2 threads")
    func deterministicAcrossThreads() throws {
        let options = GenerationOptions(
            maxTokens: 24,
            sampler: SamplerSettings(temperature: 1.2, topK: 50, topP: 0.95, minP: 0.02, seed: 99),
            stopsAtEndOfGeneration: false)
        var runs: [[TokenStep]] = []
        for threads in [1, 2, 1] {
            let (generator, fixture) = try Self.generator(threads: threads)
            runs.append(
                Array(try generator.generate(prompt: fixture.prompt, options: options)).map {
                    var step = $0
                    step.timing = StepTiming()
                    return step
                })
        }
        #expect(runs[0] == runs[1])
        #expect(runs[0] == runs[2])
        let (generator, fixture) = try Self.generator()
        var other = options
        other.sampler.seed = 100
        let otherTokens = Array(try generator.generate(prompt: fixture.prompt, options: other))
            .map(\.tokenID)
        #expect(otherTokens != runs[0].map(\.tokenID))
    }

    @Test("a stop string ends the run and is not part of the text")
    func stopString() throws {
        let (generator, fixture) = try Self.generator()
        let full = generator.tokenizer.decode(fixture.continuation)
        // a stop string from the middle of the known greedy text
        let characters = Array(full)
        let start = characters.count / 2
        let stop = String(characters[start..<(start + 3)])
        var options = Self.greedy
        options.stopStrings = [stop]
        let run = try generator.generate(prompt: fixture.prompt, options: options)
        let pieces = run.filter { $0.phase == .decode }.map(\.piece).joined()
        #expect(run.stopReason == .stopString)
        #expect(run.text == String(full[..<full.range(of: stop)!.lowerBound]))
        #expect(pieces == run.text)
    }

    @Test("token limit, stop request and capture off")
    func limits() throws {
        let (generator, fixture) = try Self.generator()
        var options = Self.greedy
        options.maxTokens = 5
        options.capturesRouting = false
        let run = try generator.generate(prompt: fixture.prompt, options: options)
        let steps = Array(run)
        #expect(steps.filter { $0.phase == .decode }.count == 5)
        #expect(steps.allSatisfy { $0.records.isEmpty })
        #expect(run.stopReason == .tokenLimit)

        let stopping = try generator.generate(prompt: fixture.prompt, options: Self.greedy)
        var decoded = 0
        for step in stopping where step.phase == .decode {
            decoded += 1
            if decoded == 3 { generator.requestStop() }
        }
        #expect(decoded == 3)
        #expect(stopping.stopReason == .stopRequested)
    }

    @Test("a prompt longer than the context is a clear error; a full context stops the run")
    func context() throws {
        let (generator, fixture) = try Self.generator(context: 16)
        #expect(throws: EngineError.promptTooLong(tokens: 20, contextLength: 16)) {
            try generator.generate(prompt: fixture.prompt, options: Self.greedy)
        }
        let run = try generator.generate(
            prompt: Array(fixture.prompt.prefix(12)), options: Self.greedy)
        let decoded = run.filter { $0.phase == .decode }
        #expect(decoded.count == 4)
        #expect(decoded.last?.position == 15)
        #expect(run.stopReason == .contextFull)
    }
}
