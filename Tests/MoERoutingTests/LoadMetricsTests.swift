import Foundation
import Testing

@testable import MoERouting

/// One row of hand-computed metrics for a load vector (see the legend in LoadMetrics.swift).
struct LoadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var load: [Double]
    var entropy: Double
    var normalizedEntropy: Double
    var effectiveExperts: Double
    var gini: Double
    var jain: Double
    var top3: Double
    var cv: Double
    var maxOverMean: Double
    var coverage: Double
    var dead: [Int]
    var rare: [Int]
    var hot: [Int]
    var testDescription: String { name }
}

// Hand-computed values. ln 2 = 0.6931472, ln 4 = 1.3862944.
let loadCases: [LoadCase] = [
    // f = 1/4 each: H = ln 4, G = 0, J = 1, σ = 0.
    LoadCase(
        name: "uniform", load: [1, 1, 1, 1], entropy: 1.3862944, normalizedEntropy: 1,
        effectiveExperts: 4, gini: 0, jain: 1, top3: 0.75, cv: 0, maxOverMean: 1, coverage: 1,
        dead: [], rare: [], hot: []),
    // One expert takes all: H = 0, G = (E−1)/E, J = 1/E, CV = sqrt(E−1).
    LoadCase(
        name: "one-hot", load: [0, 0, 5, 0], entropy: 0, normalizedEntropy: 0,
        effectiveExperts: 1, gini: 0.75, jain: 0.25, top3: 1, cv: 1.7320508, maxOverMean: 4,
        coverage: 0.25, dead: [0, 1, 3], rare: [], hot: [2]),
    // f = (1/2, 0, 1/2, 0): H = ln 2, sorted (0,0,2,2): G = 2·14/16 − 5/4 = 0.5,
    // J = 16/(4·8), μ = 1, σ = 1.
    LoadCase(
        name: "two-hot", load: [2, 0, 2, 0], entropy: 0.6931472, normalizedEntropy: 0.5,
        effectiveExperts: 2, gini: 0.5, jain: 0.5, top3: 1, cv: 1, maxOverMean: 2,
        coverage: 0.5, dead: [1, 3], rare: [], hot: [0, 2]),
    // f = (1/2, 1/4, 1/8, 1/8): H = 1.75 ln 2, sorted (1,1,2,4): G = 2·25/32 − 5/4 = 0.3125,
    // J = 64/(4·22), μ = 2, σ² = 6/4.
    LoadCase(
        name: "skewed", load: [4, 2, 1, 1], entropy: 1.2130076, normalizedEntropy: 0.875,
        effectiveExperts: 3.3635857, gini: 0.3125, jain: 0.7272727, top3: 0.875,
        cv: 0.6123724, maxOverMean: 2, coverage: 1, dead: [], rare: [], hot: [0]),
    // C = 205, r = 4·c/205 = (1.951, 1.951, 0.0976, 0): expert 2 is rare, 3 dead.
    // f = (20/41, 20/41, 1/41, 0): H = −2·(20/41)ln(20/41) − (1/41)ln(1/41);
    // sorted (0,5,100,100): G = 2·710/820 − 5/4; J = 205²/(4·20025). Checked with numpy.
    LoadCase(
        name: "rare and dead", load: [100, 100, 5, 0], entropy: 0.7909064,
        normalizedEntropy: 0.5705184, effectiveExperts: 2.2053946, gini: 0.4817073,
        jain: 0.5246567, top3: 1, cv: 0.9518447, maxOverMean: 1.9512195, coverage: 0.75,
        dead: [3], rare: [2], hot: []),
]

@Suite struct LoadMetricsTests {
    @Test(arguments: loadCases)
    func metricsMatchHandComputedValues(_ c: LoadCase) throws {
        let balance = try #require(LoadBalance(load: c.load))
        let pairs: [(String, Double, Double)] = [
            ("entropy", balance.entropy, c.entropy),
            ("normalized entropy", balance.normalizedEntropy, c.normalizedEntropy),
            ("effective experts", balance.effectiveExperts, c.effectiveExperts),
            ("diversity", balance.diversity, c.effectiveExperts / Double(c.load.count)),
            ("KL from uniform", balance.klFromUniform, log(Double(c.load.count)) - c.entropy),
            ("gini", balance.gini, c.gini),
            ("jain", balance.jainIndex, c.jain),
            ("top-3 share", balance.top3Share, c.top3),
            ("cv", balance.coefficientOfVariation, c.cv),
            ("max/mean", balance.maxOverMean, c.maxOverMean),
            ("coverage", balance.coverage, c.coverage),
        ]
        for (name, got, want) in pairs {
            #expect(abs(got - want) < 1e-6, "\(name): got \(got), want \(want)")
        }
        #expect(balance.deadExperts == c.dead)
        #expect(balance.rareExperts == c.rare)
        #expect(balance.hotExperts == c.hot)
        #expect(abs(balance.shares.reduce(0, +) - 1) < 1e-12)
    }

    @Test func giniMatchesPairwiseDefinition() throws {
        // G = Σ_i Σ_j |c_i − c_j| / (2·E·C), straight from the definition.
        let load: [Double] = [7, 0, 3, 3, 11, 1]
        var pairwise = 0.0
        for a in load { for b in load { pairwise += abs(a - b) } }
        let want = pairwise / (2 * Double(load.count) * load.reduce(0, +))
        let got = try #require(LoadMetrics.gini(load))
        #expect(abs(got - want) < 1e-12, "got \(got), want \(want)")
    }

    @Test(arguments: [[Double](), [0, 0, 0]])
    func emptyOrZeroLoadHasNoMetrics(_ load: [Double]) {
        #expect(LoadBalance(load: load) == nil)
        #expect(LoadMetrics.entropy(load) == nil)
        #expect(LoadMetrics.gini(load) == nil)
        #expect(LoadMetrics.jainIndex(load) == nil)
        #expect(LoadMetrics.coverage(load) == nil)
    }

    @Test func fairShareAndRates() throws {
        #expect(LoadMetrics.fairShare(expertsPerToken: 2, expertCount: 8) == 0.25)
        // 4 tokens, top-2 over 4 experts: expert 0 used by every token.
        let rates = try #require(LoadMetrics.activationRates([4, 2, 1, 1], tokens: 4))
        #expect(rates == [1, 0.5, 0.25, 0.25])
        let relative = try #require(LoadMetrics.relativeLoads([4, 2, 1, 1]))
        #expect(relative == [2, 1, 0.5, 0.5])
        let top = try #require(LoadMetrics.topExperts([1, 4, 4, 2], count: 3))
        #expect(top.map(\.expert) == [1, 2, 3])
    }

    @Test(
        arguments: [
            // p, q, KL(p‖q), JS(p, q)
            // KL = ½ ln 2 + ½ ln(2/3); m = (3/8, 5/8): JS = ½(½ln(4/3) + ½ln(4/5)) + ½(¼ln(2/3)
            // + ¾ln(6/5)).
            ([0.5, 0.5], [0.25, 0.75], 0.1438410, 0.0338221),
            // identical
            ([1, 2, 3], [2, 4, 6], 0, 0),
            // disjoint: KL infinite, JS = ln 2
            ([1, 0], [0, 1], Double.infinity, 0.6931472),
            // m = (3/4, 1/4): KL(p‖m) = 0.1438410, KL(q‖m) = ln(4/3); JS = mean
            ([0.5, 0.5], [1, 0], Double.infinity, 0.2157616),
        ] as [([Double], [Double], Double, Double)])
    func divergences(p: [Double], q: [Double], kl: Double, js: Double) throws {
        let gotKL = try #require(LoadMetrics.klDivergence(p, q))
        let gotJS = try #require(LoadMetrics.jensenShannon(p, q))
        if kl.isInfinite {
            #expect(gotKL.isInfinite)
        } else {
            #expect(abs(gotKL - kl) < 1e-6, "KL got \(gotKL), want \(kl)")
        }
        #expect(abs(gotJS - js) < 1e-6, "JS got \(gotJS), want \(js)")
        let reverse = try #require(LoadMetrics.jensenShannon(q, p))
        #expect(abs(reverse - gotJS) < 1e-12)
    }

    @Test func divergenceOfMismatchedLengthsIsUndefined() {
        #expect(LoadMetrics.klDivergence([1, 2], [1, 2, 3]) == nil)
        #expect(LoadMetrics.jensenShannon([1], [0]) == nil)
    }

    @Test func switchBalanceLoss() throws {
        // even: E·Σ(1/E)² = 1; both on one expert: E.
        let even = try #require(
            LoadMetrics.switchBalanceLoss(dispatch: [1, 1, 1, 1], meanProbability: [1, 1, 1, 1]))
        #expect(abs(even - 1) < 1e-12)
        let collapsed = try #require(
            LoadMetrics.switchBalanceLoss(dispatch: [0, 3, 0, 0], meanProbability: [0, 1, 0, 0]))
        #expect(abs(collapsed - 4) < 1e-12)
    }
}
