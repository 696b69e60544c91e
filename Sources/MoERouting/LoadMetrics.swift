import Foundation

// Balance metrics over the load of one MoE layer.
//
// Legend, used in every formula below:
//   E      number of routed experts in the layer
//   k      experts chosen per token (top-k)
//   T      tokens counted
//   c_i    how many of those tokens chose expert i (its load); C = Σ c_i = T·k
//   f_i    load share c_i / C; Σ f_i = 1; the even share is 1/E
//   r_i    relative load c_i / (C/E) = E·f_i; 1 is a fair share, 0 a dead expert
//   a_i    activation rate c_i / T: the share of tokens that used expert i; the even rate is k/E
//
// Every function takes the load as counts (any non-negative scale works: counts, shares or
// probability mass) and returns nil when the load is empty or sums to zero, where the metric
// is undefined. Logarithms are natural (nats).

/// Pure functions over a load vector. See the legend at the top of this file.
public enum LoadMetrics {
    /// Load shares f_i = c_i / C. Nil when C = 0.
    public static func shares(_ load: [Double]) -> [Double]? {
        let total = load.reduce(0, +)
        guard total > 0 else { return nil }
        return load.map { $0 / total }
    }

    /// Activation rates a_i = c_i / T: the share of `tokens` that chose each expert. Its even
    /// value is the fair share k/E. Nil when `tokens` is zero.
    public static func activationRates(_ counts: [Double], tokens: Int) -> [Double]? {
        guard tokens > 0 else { return nil }
        return counts.map { $0 / Double(tokens) }
    }

    /// The fair activation rate k/E: what every expert would get under perfectly even routing.
    public static func fairShare(expertsPerToken: Int, expertCount: Int) -> Double {
        expertCount == 0 ? 0 : Double(expertsPerToken) / Double(expertCount)
    }

    /// Relative loads r_i = c_i / (C/E) = E·f_i. 1 is a fair share, 2 twice that, 0 dead.
    public static func relativeLoads(_ load: [Double]) -> [Double]? {
        guard let f = shares(load) else { return nil }
        let e = Double(load.count)
        return f.map { $0 * e }
    }

    /// Entropy of the load shares, H = −Σ f_i ln f_i (with 0 ln 0 = 0), in nats.
    /// 0 when one expert takes everything, ln E when the load is even.
    public static func entropy(_ load: [Double]) -> Double? {
        guard let f = shares(load) else { return nil }
        var h = 0.0
        for p in f where p > 0 { h -= p * log(p) }
        return h
    }

    /// Normalised entropy H / ln E, in [0, 1]: 1 is even, 0 total collapse. For E = 1 it is 1.
    public static func normalizedEntropy(_ load: [Double]) -> Double? {
        guard let h = entropy(load) else { return nil }
        return load.count > 1 ? h / log(Double(load.count)) : 1
    }

    /// Effective number of experts exp(H), in [1, E]: how many evenly used experts would have
    /// the same entropy.
    public static func effectiveExperts(_ load: [Double]) -> Double? {
        entropy(load).map { exp($0) }
    }

    /// Gini coefficient G = Σ_i Σ_j |c_i − c_j| / (2·E·C), in [0, (E−1)/E]: 0 when even,
    /// (E−1)/E when one expert takes everything. Computed from the ascending sort c_(1..E) as
    /// G = 2·Σ i·c_(i) / (E·C) − (E+1)/E.
    public static func gini(_ load: [Double]) -> Double? {
        let total = load.reduce(0, +)
        guard total > 0 else { return nil }
        let sorted = load.sorted()
        let e = Double(load.count)
        var weighted = 0.0
        for (index, c) in sorted.enumerated() { weighted += Double(index + 1) * c }
        return max(0, 2 * weighted / (e * total) - (e + 1) / e)
    }

    /// Jain's fairness index J = C² / (E·Σ c_i²), in [1/E, 1]: 1 when even, 1/E when one
    /// expert takes everything.
    public static func jainIndex(_ load: [Double]) -> Double? {
        let total = load.reduce(0, +)
        guard total > 0 else { return nil }
        let squares = load.reduce(0) { $0 + $1 * $1 }
        return total * total / (Double(load.count) * squares)
    }

    /// Share of the load taken by the `n` most used experts: the sum of the n largest f_i.
    /// The audit flags a layer whose top-3 share exceeds 60 %.
    public static func topShare(_ load: [Double], count n: Int = 3) -> Double? {
        guard let f = shares(load) else { return nil }
        return f.sorted(by: >).prefix(max(0, n)).reduce(0, +)
    }

    /// Coefficient of variation CV = σ / μ of the loads, with the population standard
    /// deviation σ = sqrt(Σ (c_i − μ)² / E) and μ = C / E. 0 when even, sqrt(E − 1) for one-hot.
    public static func coefficientOfVariation(_ load: [Double]) -> Double? {
        let total = load.reduce(0, +)
        guard total > 0 else { return nil }
        let mean = total / Double(load.count)
        let variance = load.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(load.count)
        return variance.squareRoot() / mean
    }

    /// Peak-to-average max_i c_i / μ, in [1, E]. MaxVio (DeepSeek) is this minus one, and the
    /// "balancedness" of vLLM and SGLang is its inverse μ / max_i c_i.
    public static func maxOverMean(_ load: [Double]) -> Double? {
        let total = load.reduce(0, +)
        guard total > 0, let peak = load.max() else { return nil }
        return peak / (total / Double(load.count))
    }

    /// Coverage: the share of experts chosen at least once, |{i : c_i > 0}| / E.
    public static func coverage(_ load: [Double]) -> Double? {
        guard !load.isEmpty, load.contains(where: { $0 > 0 }) else { return nil }
        return Double(load.count(where: { $0 > 0 })) / Double(load.count)
    }

    /// Experts whose relative load r_i is at or below `thresholds.dead` (by default: never
    /// chosen), ascending ids.
    public static func deadExperts(_ load: [Double], thresholds: ExpertThresholds = .init())
        -> [Int]?
    {
        guard let r = relativeLoads(load) else { return nil }
        return r.indices.filter { r[$0] <= thresholds.dead }
    }

    /// Experts that are not dead but whose relative load r_i is below `thresholds.rare`
    /// (by default a tenth of a fair share), ascending ids.
    public static func rareExperts(_ load: [Double], thresholds: ExpertThresholds = .init())
        -> [Int]?
    {
        guard let r = relativeLoads(load) else { return nil }
        return r.indices.filter { r[$0] > thresholds.dead && r[$0] < thresholds.rare }
    }

    /// Experts whose relative load r_i is at least `thresholds.hot` (by default twice a fair
    /// share), ascending ids.
    public static func hotExperts(_ load: [Double], thresholds: ExpertThresholds = .init())
        -> [Int]?
    {
        guard let r = relativeLoads(load) else { return nil }
        return r.indices.filter { r[$0] >= thresholds.hot }
    }

    /// The `n` most used experts, most used first (ties: lower id first), with their shares.
    public static func topExperts(_ load: [Double], count n: Int) -> [(expert: Int, share: Double)]?
    {
        guard let f = shares(load) else { return nil }
        let order = f.indices.sorted { f[$0] != f[$1] ? f[$0] > f[$1] : $0 < $1 }
        return order.prefix(max(0, n)).map { ($0, f[$0]) }
    }

    /// Kullback-Leibler divergence KL(p ‖ q) = Σ p_i ln(p_i / q_i) of the two loads after
    /// normalising each to sum to one; terms with p_i = 0 contribute 0, and a term with
    /// p_i > 0 = q_i makes it +∞. Nil when either is empty, sums to zero, or their lengths differ.
    public static func klDivergence(_ p: [Double], _ q: [Double]) -> Double? {
        guard p.count == q.count, let pn = shares(p), let qn = shares(q) else { return nil }
        var sum = 0.0
        for i in pn.indices where pn[i] > 0 {
            guard qn[i] > 0 else { return .infinity }
            sum += pn[i] * log(pn[i] / qn[i])
        }
        return max(0, sum)
    }

    /// KL divergence from the even load, KL(f ‖ 1/E) = ln E − H. 0 when even, ln E one-hot.
    public static func klFromUniform(_ load: [Double]) -> Double? {
        guard let h = entropy(load) else { return nil }
        return max(0, log(Double(load.count)) - h)
    }

    /// Jensen-Shannon divergence JS(p, q) = ½·KL(p ‖ m) + ½·KL(q ‖ m) with m = (p + q) / 2,
    /// after normalising each load. Symmetric, finite, in [0, ln 2]: 0 when identical, ln 2
    /// when they share no expert.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double? {
        guard p.count == q.count, let pn = shares(p), let qn = shares(q) else { return nil }
        var sum = 0.0
        for i in pn.indices {
            let m = (pn[i] + qn[i]) / 2
            if pn[i] > 0 { sum += 0.5 * pn[i] * log(pn[i] / m) }
            if qn[i] > 0 { sum += 0.5 * qn[i] * log(qn[i] / m) }
        }
        return min(log(2), max(0, sum))
    }

    /// The Switch Transformer balance loss without its coefficient, E·Σ f_i·P_i, where f is the
    /// dispatch share (hard assignments) and P the mean router probability of each expert.
    /// 1 at perfect balance; larger when both concentrate on the same experts.
    public static func switchBalanceLoss(dispatch: [Double], meanProbability: [Double])
        -> Double?
    {
        guard dispatch.count == meanProbability.count, let f = shares(dispatch),
            let p = shares(meanProbability)
        else { return nil }
        var sum = 0.0
        for i in f.indices { sum += f[i] * p[i] }
        return Double(f.count) * sum
    }
}

/// Thresholds on the relative load r_i = c_i / (C/E) that name an expert dead, rare or hot.
///
/// They are relative to a fair share rather than absolute rates because an absolute rate such
/// as "used by under 1 % of tokens" flags every expert of a model whose fair rate k/E is itself
/// under 1 % (e.g. top-1 of 128).
public struct ExpertThresholds: Sendable, Equatable, Codable {
    /// At or below this relative load an expert is dead. Default 0: never chosen.
    public var dead: Double
    /// Below this relative load (and above `dead`) an expert is rare. Default 0.1: under a
    /// tenth of its fair share.
    public var rare: Double
    /// At or above this relative load an expert is hot. Default 2: twice its fair share.
    public var hot: Double

    public init(dead: Double = 0, rare: Double = 0.1, hot: Double = 2) {
        self.dead = dead
        self.rare = rare
        self.hot = hot
    }
}

/// Every balance metric of one layer's load, computed once for a screen, an audit or a report.
public struct LoadBalance: Sendable, Equatable {
    /// The load c_i per expert (counts, or any non-negative measure).
    public var load: [Double]
    /// Load shares f_i.
    public var shares: [Double]
    /// Relative loads r_i = E·f_i.
    public var relativeLoads: [Double]
    /// H in nats.
    public var entropy: Double
    /// H / ln E.
    public var normalizedEntropy: Double
    /// exp(H).
    public var effectiveExperts: Double
    /// exp(H) / E.
    public var diversity: Double
    /// ln E − H.
    public var klFromUniform: Double
    public var gini: Double
    public var jainIndex: Double
    /// Share of the three most used experts.
    public var top3Share: Double
    public var coefficientOfVariation: Double
    /// Peak-to-average; MaxVio = maxOverMean − 1; balancedness = 1 / maxOverMean.
    public var maxOverMean: Double
    public var coverage: Double
    public var deadExperts: [Int]
    public var rareExperts: [Int]
    public var hotExperts: [Int]
    public var thresholds: ExpertThresholds

    /// Computes every metric of `load`. Nil when the load is empty or sums to zero.
    public init?(load: [Double], thresholds: ExpertThresholds = .init()) {
        guard let shares = LoadMetrics.shares(load), let entropy = LoadMetrics.entropy(load),
            let normalized = LoadMetrics.normalizedEntropy(load),
            let kl = LoadMetrics.klFromUniform(load), let gini = LoadMetrics.gini(load),
            let jain = LoadMetrics.jainIndex(load), let top3 = LoadMetrics.topShare(load),
            let cv = LoadMetrics.coefficientOfVariation(load),
            let peak = LoadMetrics.maxOverMean(load), let coverage = LoadMetrics.coverage(load),
            let relative = LoadMetrics.relativeLoads(load)
        else { return nil }
        self.load = load
        self.shares = shares
        self.relativeLoads = relative
        self.entropy = entropy
        self.normalizedEntropy = normalized
        self.effectiveExperts = exp(entropy)
        self.diversity = exp(entropy) / Double(load.count)
        self.klFromUniform = kl
        self.gini = gini
        self.jainIndex = jain
        self.top3Share = top3
        self.coefficientOfVariation = cv
        self.maxOverMean = peak
        self.coverage = coverage
        self.deadExperts = relative.indices.filter { relative[$0] <= thresholds.dead }
        self.rareExperts = relative.indices.filter {
            relative[$0] > thresholds.dead && relative[$0] < thresholds.rare
        }
        self.hotExperts = relative.indices.filter { relative[$0] >= thresholds.hot }
        self.thresholds = thresholds
    }

    /// Convenience for integer counts.
    public init?(counts: [Int], thresholds: ExpertThresholds = .init()) {
        self.init(load: counts.map(Double.init), thresholds: thresholds)
    }
}
