import Testing

@testable import MoERouting

@Suite struct SequenceCountsTests {
    /// Top-2 of 4 experts: t0 {0,1}, t1 {0,2}, t2 {3,2}, t3 {3,2}.
    /// Top-1 repeats: t1 (0 = 0), t3 (3 = 3) → 2 of 3 pairs.
    /// Overlaps: |{0}|/2, |{2}|/2, |{3,2}|/2 → (0.5 + 0.5 + 1) / 3.
    func sample() -> SequenceCounts {
        var counts = SequenceCounts(expertCount: 4)
        for experts: [Int32] in [[0, 1], [0, 2], [3, 2], [3, 2]] { counts.add(experts) }
        return counts
    }

    @Test func repeatRates() throws {
        let counts = sample()
        #expect(counts.pairs == 3)
        let top1 = try #require(counts.top1RepeatRate)
        let overlap = try #require(counts.topKOverlap)
        #expect(abs(top1 - 2.0 / 3.0) < 1e-12)
        #expect(abs(overlap - 2.0 / 3.0) < 1e-12)
    }

    @Test func coActivation() throws {
        let counts = sample()
        let table: [(Int, Int, Int)] = [
            (0, 0, 2), (1, 1, 1), (2, 2, 3), (3, 3, 2),
            (0, 1, 1), (1, 0, 1), (0, 2, 1), (2, 3, 2), (3, 2, 2), (0, 3, 0), (1, 2, 0),
        ]
        for (a, b, want) in table {
            #expect(counts.count(a, b) == want, "M[\(a)][\(b)]")
        }
        #expect(try #require(counts.conditional(2, given: 3)) == 1)
        #expect(abs(try #require(counts.conditional(3, given: 2)) - 2.0 / 3.0) < 1e-12)
        #expect(counts.topPairs(2).map { [$0.a, $0.b, $0.count] } == [[2, 3, 2], [0, 1, 1]])
    }

    /// Above 512 experts pairs are counted sparsely (a dense table of 32,767 experts took
    /// 8 GB per layer in `trace stats`); both ways give the same counts and top pairs.
    @Test func manyExpertsCountPairsSparselyWithTheSameResults() throws {
        let tokens: [[Int]] = [[3, 700], [700, 3], [5, 700], [3, 5], [700, 3]]
        var sparse = SequenceCounts(expertCount: 32_767)
        var smaller = SequenceCounts(expertCount: 701)
        #expect(smaller.expertCount > SequenceCounts.denseExpertLimit)
        var reference = SequenceCounts(expertCount: SequenceCounts.denseExpertLimit)
        for token in tokens {
            sparse.add(token)
            smaller.add(token)
            reference.add(token.map { $0 == 700 ? 511 : $0 })
        }
        #expect(sparse.count(3, 700) == 3 && sparse.count(700, 700) == 4)
        #expect(sparse.count(3, 5) == 1 && sparse.count(1, 2) == 0)
        #expect(sparse.topPairs(2).map { [$0.a, $0.b, $0.count] } == [[3, 700, 3], [3, 5, 1]])
        #expect(
            smaller.topPairs(3).map { [$0.a, $0.b, $0.count] }
                == sparse.topPairs(3).map {
                    [$0.a, $0.b, $0.count]
                })
        #expect(
            reference.topPairs(3).map { [$0.a, $0.b == 511 ? 700 : $0.b, $0.count] }
                == sparse.topPairs(3).map { [$0.a, $0.b, $0.count] })
        #expect(sparse.top1RepeatRate == reference.top1RepeatRate)
    }

    @Test func breakSequenceStopsPairing() throws {
        var counts = SequenceCounts(expertCount: 4)
        counts.add([1, 2])
        counts.breakSequence()
        counts.add([1, 2])
        #expect(counts.pairs == 0)
        #expect(counts.top1RepeatRate == nil)
        counts.add([2, 1])
        #expect(counts.pairs == 1)
        #expect(counts.top1RepeatRate == 0)
        #expect(counts.topKOverlap == 1)
    }

    @Test func outOfRangeIdsAreIgnored() {
        var counts = SequenceCounts(expertCount: 2)
        counts.add([5, -1, 1])
        #expect(counts.count(1, 1) == 1)
    }

    @Test func baselines() {
        #expect(RepeatBaseline.top1(expertCount: 8) == 0.125)
        #expect(RepeatBaseline.topKOverlap(expertsPerToken: 2, expertCount: 8) == 0.25)
    }
}
