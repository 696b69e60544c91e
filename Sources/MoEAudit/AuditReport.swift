import MoERouting

/// The outcome of one check. Ordered: a report's verdict is its worst check's.
public enum Verdict: String, Sendable, Codable, Comparable, CaseIterable {
    /// The check could not be made (no prompts of that kind, or it cannot tell for this model).
    case notApplicable = "n/a"
    case pass
    case warn
    case fail

    private var rank: Int {
        switch self {
        case .notApplicable: 0
        case .pass: 1
        case .warn: 2
        case .fail: 3
        }
    }

    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }

    /// `PASS`, `WARN`, `FAIL`, `n/a`.
    public var label: String { self == .notApplicable ? "n/a" : rawValue.uppercased() }
}

/// One check of the protocol: its verdict and the numbers behind it.
public struct CheckResult: Sendable, Equatable, Codable {
    /// Stable id, e.g. `distribution.top3`.
    public var id: String
    /// Step of the protocol, 1 to 5.
    public var step: Int
    public var title: String
    public var verdict: Verdict
    /// One or two sentences with the measured values and the thresholds they were held to.
    public var summary: String
    /// The measured values, by name.
    public var numbers: [String: Double]
    /// Names of the thresholds the verdict used.
    public var thresholds: [String]
}

// MARK: step 1

/// Balance of one MoE layer over every prompt.
public struct LayerDistribution: Sendable, Equatable, Codable {
    /// Block index of the layer.
    public var layer: Int
    public var tokens: Int
    /// Activations per expert.
    public var load: [Int]
    public var shares: [Double]
    /// share × E: 1 is a fair share.
    public var relativeLoads: [Double]
    public var top3Share: Double
    public var entropy: Double
    public var normalizedEntropy: Double
    public var effectiveExperts: Double
    public var gini: Double
    public var jainIndex: Double
    public var coefficientOfVariation: Double
    public var maxOverMean: Double
    public var coverage: Double
    public var deadExperts: [Int]
    public var rareExperts: [Int]
    public var hotExperts: [Int]
    public var verdict: Verdict
    /// Why the layer warns or fails, one phrase each.
    public var reasons: [String]
}

public struct DistributionSection: Sendable, Equatable, Codable {
    public var prompts: Int
    /// Prompt tokens routed (each counted once per layer).
    public var tokens: Int
    public var layers: [LayerDistribution]
    /// Share of all (layer, expert) slots chosen at least once.
    public var coverage: Double
    public var deadSlots: Int
    public var rareSlots: Int
}

// MARK: step 2

/// A set of tokens' routing per layer: a domain's prompts, or its batch.
public struct DomainProfile: Sendable, Equatable, Codable {
    public var domain: String
    public var prompts: Int
    public var tokens: Int
    /// Load shares. `[layer slot][expert]`.
    public var shares: [[Double]]
    /// Per layer, the most used expert and the share of tokens that chose it (its activation
    /// rate; 1 means every token).
    public var topExpert: [Int]
    public var topRate: [Double]
    public var top3Share: [Double]
}

/// A domain's prompts run as one sequence.
public struct BatchProfile: Sendable, Equatable, Codable {
    public var profile: DomainProfile
    /// Sequences the prompts were split into to fit the context.
    public var chunks: Int
    /// Per layer, JS divergence from the domain's prompt-by-prompt profile, nats.
    public var shift: [Double]
    public var meanShift: Double
}

/// An expert used far more by one domain than overall.
public struct Specialist: Sendable, Equatable, Codable {
    public var layer: Int
    public var expert: Int
    public var domain: String
    public var domainShare: Double
    public var overallShare: Double
    public var ratio: Double
}

public struct DomainSection: Sendable, Equatable, Codable {
    public var domains: [String]
    public var profiles: [DomainProfile]
    public var batches: [BatchProfile]
    /// Mean over layers of the JS divergence between two domains' profiles, nats.
    /// `[domain][domain]`, in `domains` order.
    public var divergence: [[Double]]
    /// Per layer, the mean JS divergence over all pairs of domains.
    public var layerDivergence: [Double]
    public var meanDivergence: Double
    public var specialists: [Specialist]
}

// MARK: step 3

public struct BoundaryResult: Sendable, Equatable, Codable {
    public var id: String
    public var parents: [String]
    /// Mean over layers of the JS divergence to each parent's profile, nats.
    public var distances: [Double]
    /// Each parent's median distance of its own prompts to its profile (leave-one-out).
    public var baselines: [Double]
    /// distance / baseline per parent.
    public var ratios: [Double]
    /// The domain whose profile lies nearest, parents or not.
    public var nearestDomain: String
    public var nearestDistance: Double
    /// The nearer parent's ratio is above the threshold.
    public var far: Bool
}

public struct RewordingResult: Sendable, Equatable, Codable {
    public var first: String
    public var second: String
    public var domain: String
    /// Mean over layers of the JS divergence between the two prompts' routing, nats.
    public var distance: Double
    /// Mean distance of the two prompts to the other prompts of their domain.
    public var unrelated: Double
}

public struct BoundarySection: Sendable, Equatable, Codable {
    public var prompts: [BoundaryResult]
    public var farCount: Int
    public var pairs: [RewordingResult]
    public var meanPairDistance: Double
    public var meanUnrelatedDistance: Double
    /// meanPairDistance / meanUnrelatedDistance.
    public var rewordingRatio: Double
}

// MARK: step 4

public struct PromptScore: Sendable, Equatable, Codable {
    public var id: String
    public var domain: String
    public var scoredTokens: Int
    /// Mean log-likelihood per scored token, nats (higher is better, at most 0).
    public var score: Double
    /// (score − domain median) / (1.4826 · domain MAD).
    public var robustZ: Double
    /// Whether the score is of the prompt's reference rather than of its own text.
    public var reference: Bool
}

public struct DomainScore: Sendable, Equatable, Codable {
    public var domain: String
    public var prompts: Int
    public var mean: Double
    public var standardDeviation: Double
    public var median: Double
    public var minimum: Double
    public var maximum: Double
    /// Mean of all domains' means minus this domain's mean (positive: worse than typical).
    public var gap: Double
}

public struct VarianceSection: Sendable, Equatable, Codable {
    public var scores: [PromptScore]
    /// Ten domains and `boundary`, each a group.
    public var domains: [DomainScore]
    public var overallMean: Double
    /// Variance of every prompt's score around the overall mean.
    public var totalVariance: Double
    /// Mean of the groups' variances, weighted by prompts (within domains).
    public var withinVariance: Double
    /// Variance of the group means, weighted by prompts (across domains).
    public var betweenVariance: Double
    /// Outliers, worst (most negative z) first.
    public var outliers: [PromptScore]
}

// MARK: step 5

public struct RerunSummary: Sendable, Equatable, Codable {
    public var threads: Int
    public var prompts: Int
    public var decisions: Int
    /// Decisions (token, layer) whose chosen experts differ from the first run.
    public var differing: Int
    /// Of those, how many were fragile in the first run.
    public var differingFragile: Int
    /// Prompts whose token ids differed (all their decisions count as differing).
    public var retokenized: Int
    /// Largest difference of any gating probability from the first run.
    public var maxProbabilityDifference: Double
}

public struct StabilityMismatch: Sendable, Equatable, Codable {
    public var id: String
    public var threads: Int
    public var token: Int
    /// Block index.
    public var layer: Int
    public var first: [Int]
    public var rerun: [Int]
    public var margin: Double
}

public struct StabilitySection: Sendable, Equatable, Codable {
    public var prompts: [String]
    public var baselineThreads: Int
    public var tokens: Int
    /// Tokens × MoE layers of the first run.
    public var decisions: Int
    public var fragileDecisions: Int
    public var fragileShare: Double
    public var minimumMargin: Double
    public var reruns: [RerunSummary]
    /// The first differing decisions, at most `StabilityAnalysis.mismatchExamples`.
    public var mismatches: [StabilityMismatch]
}

/// The audit's result: verdicts, the numbers behind them, and what was run.
public struct AuditReport: Sendable, Equatable, Codable {
    public var format = "moetop-audit"
    public var version = 1
    public var model: ModelDescription
    public var promptDirectory: String
    public var quick: Bool
    public var domains: [String]
    public var promptCount: Int
    public var boundaryCount: Int
    public var pairCount: Int
    public var stabilityCount: Int
    public var baselineThreads: Int
    public var rerunThreads: [Int]
    /// ISO 8601.
    public var date: String
    /// Wall seconds of each phase and `total`.
    public var seconds: [String: Double]
    /// The worst check's verdict.
    public var verdict: Verdict
    public var thresholds: [Threshold]
    public var checks: [CheckResult]
    public var distribution: DistributionSection
    public var coverage: DomainSection
    public var boundary: BoundarySection
    public var variance: VarianceSection
    public var stability: StabilitySection

    /// Exit status of `moetop audit`: 1 when any check fails, else 0.
    public var exitStatus: Int32 { verdict == .fail ? 1 : 0 }

    /// Checks of one verdict.
    public func count(_ verdict: Verdict) -> Int { checks.count(where: { $0.verdict == verdict }) }
}
