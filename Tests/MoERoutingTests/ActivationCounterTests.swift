import Testing

@testable import MoERouting

@Suite struct ActivationCounterTests {
    /// A token whose MoE layers (blocks 1 and 3 of a 4-expert model) chose `first` and `second`.
    func step(_ first: [Int32], _ second: [Int32], phase: Phase = .decode) -> TokenStep {
        TokenStep(
            tokenID: 0, piece: "", position: 0, phase: phase,
            records: [
                RoutingRecord(
                    layer: 1, logits: [], probabilities: [0.4, 0.3, 0.2, 0.1], experts: first,
                    weights: []),
                RoutingRecord(
                    layer: 3, logits: [], probabilities: [], experts: second, weights: []),
            ])
    }

    @Test func sessionAndWindowCounts() {
        var counter = ActivationCounter(moeLayers: [1, 3], expertCount: 4, windowSize: 2)
        counter.add(step([0, 1], [2, 3]))
        counter.add(step([0, 2], [2, 1]))
        counter.add(step([3, 2], [2, 0]))

        #expect(counter.sessionTokens == 3)
        #expect(counter.windowTokens == 2)
        #expect(counter.counts(.session, slot: 0) == [2, 1, 2, 1])
        #expect(counter.counts(.session, slot: 1) == [1, 1, 3, 1])
        // the window holds the last two tokens only
        #expect(counter.counts(.window, slot: 0) == [1, 0, 2, 1])
        #expect(counter.counts(.window, slot: 1) == [1, 1, 2, 0])
        // Σ = tokens·k in every scope
        for scope in CountScope.allCases {
            for slot in 0..<2 {
                #expect(counter.counts(scope, slot: slot).reduce(0, +) == counter.tokens(scope) * 2)
            }
        }
        #expect(counter.coverage(.session) == 1)
        #expect(counter.coverage(.window) == 6.0 / 8.0)
    }

    @Test func windowKeepsSlidingPastManyWraps() {
        var counter = ActivationCounter(moeLayers: [1, 3], expertCount: 4, windowSize: 3)
        var history: [[Int32]] = []
        for t in 0..<20 {
            let first: [Int32] = [Int32(t % 4), Int32((t * 3 + 1) % 4)]
            history.append(first)
            counter.add(step(first, [0, 1]))
        }
        var want = [0, 0, 0, 0]
        for experts in history.suffix(3) { for e in experts { want[Int(e)] += 1 } }
        #expect(counter.counts(.window, slot: 0) == want)
    }

    @Test func probabilityMassIsAveraged() throws {
        var counter = ActivationCounter(moeLayers: [1, 3], expertCount: 4)
        counter.add(step([0, 1], [2, 3]))
        counter.add(step([0, 1], [2, 3]))
        let mean = try #require(counter.meanProbability(slot: 0))
        #expect(zip(mean, [0.4, 0.3, 0.2, 0.1]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(counter.meanProbability(slot: 1) == nil)
    }

    @Test func badRecordsAreSkippedAndCounted() {
        var counter = ActivationCounter(moeLayers: [1, 3], expertCount: 4)
        var bad = step([0, 9], [2, -1])
        bad.records.append(
            RoutingRecord(layer: 2, logits: [], probabilities: [], experts: [0], weights: []))
        counter.add(bad)
        #expect(counter.skippedRecords == 1)
        #expect(counter.skippedExperts == 2)
        #expect(counter.counts(.session, slot: 0) == [1, 0, 0, 0])
    }

    @Test func phaseFilterAndReset() {
        var counter = ActivationCounter(
            moeLayers: [1, 3], expertCount: 4, phases: [.decode], tracksSequences: true)
        counter.add(step([0, 1], [2, 3], phase: .prefill))
        counter.add(step([0, 1], [2, 3]))
        counter.add(step([0, 2], [2, 3]))
        #expect(counter.sessionTokens == 2)
        #expect(counter.sequence(slot: 0)?.top1RepeatRate == 1)
        #expect(counter.sequence(slot: 1)?.topKOverlap == 1)
        counter.reset()
        #expect(counter.sessionTokens == 0)
        #expect(counter.counts(.session, slot: 0) == [0, 0, 0, 0])
        #expect(counter.balance(.session, slot: 0) == nil)
        #expect(counter.sequence(slot: 0)?.pairs == 0)
    }
}
