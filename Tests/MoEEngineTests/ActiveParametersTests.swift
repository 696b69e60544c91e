import MoEEngine
import MoERouting
import Testing

@Suite("Active parameters")
struct ActiveParametersTests {
    @Test("observed per step and per layer, and coverage, against the transformers routing")
    func observedAndCoverage() throws {
        let (fixture, url) = try EngineFixture.load("olmoe", type: "f32")
        let generator = try Generator(url: url)
        let active = ActiveParameters(model: generator.model)
        let perExpert = 3 * 32 * 32
        #expect(active.parametersPerExpert == [perExpert, perExpert])
        #expect(active.configured == active.alwaysOn + 2 * 2 * perExpert)
        #expect(active.total == active.alwaysOn + 2 * 8 * perExpert)

        var coverage = ExpertCoverage(moeLayers: active.moeLayers, expertCount: active.expertCount)
        let run = try generator.generate(
            prompt: fixture.prompt,
            options: GenerationOptions(
                maxTokens: 32, sampler: .greedy, stopsAtEndOfGeneration: false))
        for step in run {
            let observed = try #require(active.observed(step.records))
            // top-2 of distinct experts in each layer: exactly the configured count
            #expect(observed.perLayer == [2 * perExpert, 2 * perExpert])
            #expect(observed.total == active.configured)
            coverage.add(step.records)
        }

        // experts touched per layer, from the transformers routing of the same positions
        let expected = fixture.routing.map { layer in Set(layer.experts.joined()).count }
        #expect(coverage.touchedPerLayer == expected)
        #expect(coverage.touchedShare == Double(expected.reduce(0, +)) / 16)
        #expect(active.observed([]) == nil)
    }
}
