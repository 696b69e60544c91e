import Foundation
import MoEEngine
import Testing

@Suite("Sampler")
struct SamplerTests {
    @Test("xoshiro256** seeded by SplitMix64 draws the reference sequence")
    func generatorSequence() {
        // reference: an independent Python implementation of the same two published algorithms
        var generator = SeededGenerator(seed: 42)
        #expect(generator.next() == 0x1578_0b2e_0c2e_c716)
        #expect(generator.next() == 0x6104_d986_6d11_3a7e)
        #expect(generator.next() == 0xae17_5332_39e4_99a1)
        var zero = SeededGenerator(seed: 0)
        #expect(zero.next() == 0x99ec_5f36_cb75_f2b4)
    }

    @Test("greedy takes the largest logit, ties to the lower id")
    func greedy() {
        var sampler = Sampler(settings: .greedy)
        #expect(sampler.sample([0.1, 2.5, -1, 2.5], history: []) == 1)
        #expect(sampler.sample([-3, -2, -5], history: []) == 1)
    }

    @Test("top-k 1, a tiny top-p and a min-p of 1 all reduce to the argmax")
    func filtersDownToArgmax() {
        let logits: [Float] = [0.3, 1.2, 1.1, -0.4]
        for settings in [
            SamplerSettings(temperature: 5, topK: 1, topP: 1, minP: 0, seed: 3),
            SamplerSettings(temperature: 5, topK: 0, topP: 0.01, minP: 0, seed: 3),
            SamplerSettings(temperature: 5, topK: 0, topP: 1, minP: 1, seed: 3),
        ] {
            var sampler = Sampler(settings: settings)
            for _ in 0..<50 { #expect(sampler.sample(logits, history: []) == 1) }
        }
    }

    @Test("temperature 1 with no filter draws tokens in proportion to softmax")
    func distribution() {
        let probabilities: [Float] = [0.5, 0.3, 0.2]
        var sampler = Sampler(
            settings: SamplerSettings(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 11))
        var counts = [0, 0, 0]
        let draws = 20_000
        for _ in 0..<draws {
            counts[Int(sampler.sample(probabilities.map { logf($0) }, history: []))] += 1
        }
        let largest = zip(counts, probabilities).map {
            abs(Double($0) / Double(draws) - Double($1))
        }
        .max()!
        print("largest frequency error \(largest)")
        #expect(largest < 0.015)  // 3 standard deviations at n = 20 000 is about 0.011
    }

    @Test("top-p keeps the shortest prefix reaching p; min-p drops the unlikely")
    func nucleusAndMinP() {
        // probabilities 0.5, 0.3, 0.2: top-p 0.7 keeps {0, 1}; min-p 0.5 keeps {0, 1} (0.2 < 0.25)
        let logits = [Float(0.5), 0.3, 0.2].map { logf($0) }
        for settings in [
            SamplerSettings(temperature: 1, topK: 0, topP: 0.7, minP: 0, seed: 5),
            SamplerSettings(temperature: 1, topK: 0, topP: 1, minP: 0.5, seed: 5),
        ] {
            var sampler = Sampler(settings: settings)
            var seen = Set<Int32>()
            for _ in 0..<500 { seen.insert(sampler.sample(logits, history: [])) }
            #expect(seen == [0, 1])
        }
    }

    @Test("the repetition penalty divides positive and multiplies negative logits of recent tokens")
    func repetitionPenalty() {
        var sampler = Sampler(settings: SamplerSettings(temperature: 0, repetitionPenalty: 2))
        // token 0: 3 / 2 = 1.5 < 2; token 1 wins
        #expect(sampler.sample([3, 2, -1], history: [0]) == 1)
        // outside the window the penalty does not apply
        var windowed = Sampler(
            settings: SamplerSettings(temperature: 0, repetitionPenalty: 2, repetitionWindow: 1))
        #expect(windowed.sample([3, 2, -1], history: [0, 2]) == 0)
        // negative logits are multiplied: -1 × 2 = -2 < -1.5
        #expect(sampler.sample([-1, -1.5], history: [0]) == 1)
    }

    @Test("the same seed gives the same tokens; another seed gives others")
    func seeds() {
        let logits = (0..<50).map { Float(sin(Double($0))) }
        func draw(_ seed: UInt64) -> [Int32] {
            var sampler = Sampler(
                settings: SamplerSettings(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: seed))
            return (0..<40).map { _ in sampler.sample(logits, history: []) }
        }
        #expect(draw(7) == draw(7))
        #expect(draw(7) != draw(8))
    }

    @Test(
        "settings out of range are refused",
        arguments: [
            SamplerSettings(temperature: .nan),
            SamplerSettings(topK: -1),
            SamplerSettings(topP: 0),
            SamplerSettings(topP: 1.5),
            SamplerSettings(minP: -0.1),
            SamplerSettings(repetitionPenalty: 0),
            SamplerSettings(repetitionWindow: -2),
        ])
    func invalidSettings(settings: SamplerSettings) {
        #expect(throws: EngineError.self) { try settings.validate() }
    }
}
