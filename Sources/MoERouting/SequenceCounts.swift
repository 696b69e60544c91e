/// How one layer's choices relate from token to token and within a token: the consecutive-token
/// repeat rate (Mixtral §5) and co-activation counts (OLMoE).
///
/// Feed it each token's chosen experts, best first, in sequence order; call `breakSequence()`
/// where the sequence restarts (a new prompt) so that no pair spans the gap.
///
/// - repeat rate (top-1): P(top1(t) = top1(t−1)) over consecutive pairs. Under independent
///   even routing it is 1/E.
/// - top-k overlap: the mean of |S_t ∩ S_{t−1}| / k over consecutive pairs, S_t the chosen
///   set. Under independent even routing its expectation is k/E (hypergeometric mean k²/E,
///   divided by k).
/// - co-activation: M[a][b] = number of tokens that chose both a and b (a ≠ b), and
///   M[a][a] = c_a, the load of a. P(b chosen | a chosen) = M[a][b] / M[a][a].
public struct SequenceCounts: Sendable, Equatable {
    /// Experts in the layer (E).
    public let expertCount: Int
    /// Consecutive pairs seen.
    public private(set) var pairs = 0
    /// Pairs whose top-1 expert was the same.
    public private(set) var top1Repeats = 0
    /// Σ over pairs of |S_t ∩ S_{t−1}| / |S_t|.
    public private(set) var overlapSum = 0.0
    /// M, row-major `[expertCount, expertCount]`, for up to `denseExpertLimit` experts; empty
    /// above that, where `sparseCoActivation` holds the pairs seen.
    private var coActivation: [Int]
    /// M[a][b] at key a·E + b, for layers of more than `denseExpertLimit` experts (a dense
    /// table of 32,767 experts would take 8 GB for a layer).
    private var sparseCoActivation: [Int: Int] = [:]
    private var previous: [Int32] = []

    /// Layers up to this many experts count pairs in a dense table (2 MB at 512).
    public static let denseExpertLimit = 512

    /// Whether pairs are counted in `coActivation` (else in `sparseCoActivation`).
    private var countsDensely: Bool { expertCount <= Self.denseExpertLimit }

    public init(expertCount: Int) {
        self.expertCount = expertCount
        self.coActivation =
            expertCount <= Self.denseExpertLimit
            ? Array(repeating: 0, count: expertCount * expertCount) : []  // see countsDensely
    }

    /// Adds one token's chosen experts, best first. Ids outside 0..<E are ignored.
    public mutating func add<C: Collection>(_ experts: C) where C.Element: BinaryInteger {
        let e = Int32(expertCount)
        var chosen: [Int32] = []
        chosen.reserveCapacity(experts.count)
        for expert in experts where expert >= 0 && expert < e { chosen.append(Int32(expert)) }

        // consecutive pair with the previous token
        if !previous.isEmpty, !chosen.isEmpty {
            pairs += 1
            if previous[0] == chosen[0] { top1Repeats += 1 }
            let shared = chosen.count(where: { previous.contains($0) })
            overlapSum += Double(shared) / Double(chosen.count)
        }
        previous = chosen

        // co-activation within this token
        for a in chosen {
            for b in chosen {
                let key = Int(a) * expertCount + Int(b)
                if countsDensely {
                    coActivation[key] += 1
                } else {
                    sparseCoActivation[key, default: 0] += 1
                }
            }
        }
    }

    /// Starts a new sequence: the next token is not paired with the last one.
    public mutating func breakSequence() {
        previous = []
    }

    /// P(top1(t) = top1(t−1)). Nil before the first pair.
    public var top1RepeatRate: Double? {
        pairs == 0 ? nil : Double(top1Repeats) / Double(pairs)
    }

    /// Mean |S_t ∩ S_{t−1}| / k. Nil before the first pair.
    public var topKOverlap: Double? {
        pairs == 0 ? nil : overlapSum / Double(pairs)
    }

    /// M[a][b]: tokens that chose both a and b (the load of a when a = b).
    public func count(_ a: Int, _ b: Int) -> Int {
        let key = a * expertCount + b
        return countsDensely ? coActivation[key] : sparseCoActivation[key, default: 0]
    }

    /// P(b chosen | a chosen) = M[a][b] / M[a][a]. Nil when a was never chosen.
    public func conditional(_ b: Int, given a: Int) -> Double? {
        let base = count(a, a)
        return base == 0 ? nil : Double(count(a, b)) / Double(base)
    }

    /// The `n` most frequent pairs a < b, most frequent first (ties: lower ids first).
    public func topPairs(_ n: Int) -> [(a: Int, b: Int, count: Int)] {
        var result: [(a: Int, b: Int, count: Int)] = []
        if !countsDensely {
            for (key, count) in sparseCoActivation where key / expertCount < key % expertCount {
                result.append((key / expertCount, key % expertCount, count))
            }
        } else {
            for a in 0..<expertCount {
                for b in (a + 1)..<max(a + 1, expertCount) where count(a, b) > 0 {
                    result.append((a, b, count(a, b)))
                }
            }
        }
        result.sort { $0.count != $1.count ? $0.count > $1.count : ($0.a, $0.b) < ($1.a, $1.b) }
        return Array(result.prefix(max(0, n)))
    }
}

/// Random baselines for the repeat metrics of a layer with E experts and top-k routing, under
/// independent, even routing.
public enum RepeatBaseline {
    /// 1/E.
    public static func top1(expertCount: Int) -> Double {
        expertCount == 0 ? 0 : 1 / Double(expertCount)
    }

    /// k/E.
    public static func topKOverlap(expertsPerToken: Int, expertCount: Int) -> Double {
        expertCount == 0 ? 0 : Double(expertsPerToken) / Double(expertCount)
    }
}
