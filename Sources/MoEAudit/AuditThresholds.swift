import Foundation
import MoERouting

/// One named threshold of the audit: its default, its current value and what it decides.
public struct Threshold: Sendable, Equatable, Codable {
    /// `step.quantity[.level]`, e.g. `distribution.top3.fail`; what `--set` takes.
    public var name: String
    public var value: Double
    public var defaultValue: Double
    /// Allowed values.
    public var minimum: Double
    public var maximum: Double
    /// One sentence: what crossing it means.
    public var meaning: String
}

/// A `--set NAME=VALUE` that cannot be applied.
public enum ThresholdError: Error, Equatable, CustomStringConvertible {
    case unknownName(String, known: [String])
    case notANumber(name: String, text: String)
    case outOfRange(name: String, value: Double, minimum: Double, maximum: Double)
    case malformed(String)

    public var description: String {
        switch self {
        case .unknownName(let name, let known):
            return "unknown threshold '\(name)'; known: \(known.joined(separator: ", "))"
        case .notANumber(let name, let text):
            return "threshold \(name) expects a number, got '\(text)'"
        case .outOfRange(let name, let value, let minimum, let maximum):
            return "threshold \(name) must lie in \(minimum)...\(maximum), got \(value)"
        case .malformed(let text):
            return "expected NAME=VALUE, got '\(text)'"
        }
    }
}

/// Every threshold the audit uses, by name. Each has a default and can be changed with
/// `set(_:to:)` (the command line's `--set NAME=VALUE`); the report lists them all.
///
/// Shares are fractions in [0, 1]; distances are Jensen-Shannon divergences in nats, in
/// [0, ln 2]; scores are mean log-likelihoods in nats per token.
public struct AuditThresholds: Sendable, Equatable, Codable {
    public private(set) var all: [Threshold]

    public init() {
        func t(_ name: String, _ value: Double, _ range: ClosedRange<Double>, _ meaning: String)
            -> Threshold
        {
            Threshold(
                name: name, value: value, defaultValue: value, minimum: range.lowerBound,
                maximum: range.upperBound, meaning: meaning)
        }
        all = [
            // experts
            t(
                Name.expertDead, 0, 0...1,
                "an expert is dead in a layer when its relative load (share × E) is at or below this"
            ),
            t(
                Name.expertRare, 0.1, 0...1,
                "an expert is rare when its relative load is above the dead level but below this"),
            t(
                Name.expertHot, 2, 1...1000,
                "an expert is hot when its relative load is at least this"),

            // step 1
            t(
                Name.top3Fail, 0.60, 0...1,
                "a layer FAILS when its three most used experts take more than this share of activations"
            ),
            t(
                Name.top3Warn, 0.50, 0...1,
                "a layer warns when its three most used experts take more than this share"),
            t(
                Name.entropyWarn, 0.80, 0...1,
                "a layer warns when the normalised entropy H/ln E of its load is below this"),
            t(
                Name.giniWarn, 0.40, 0...1,
                "a layer warns when the Gini coefficient of its load is above this"),
            t(
                Name.jainWarn, 0.60, 0...1,
                "a layer warns when Jain's index of its load is below this"),
            t(
                Name.deadWarn, 0, 0...1,
                "a layer warns when the share of its experts that are dead is above this"),
            t(
                Name.deadFail, 0.25, 0...1,
                "a layer FAILS when the share of its experts that are dead is above this"),

            // step 2
            t(
                Name.collapseWarn, 0.75, 0...1,
                "a domain warns when, in some layer, one expert is chosen by at least this share of its tokens"
            ),
            t(
                Name.collapseFail, 0.90, 0...1,
                "a domain FAILS when, in some layer, one expert is chosen by at least this share of its tokens (prompts run one by one or as one batch)"
            ),
            t(
                Name.batchShiftWarn, 0.10, 0...0.7,
                "a domain warns when its routing run as one batch lies further than this (JS, mean over layers) from its routing prompt by prompt"
            ),
            t(
                Name.specialistRatio, 2, 1...1000,
                "an expert is a specialist of a domain when its share there is at least this many times its overall share (and above the even share 1/E)"
            ),

            // step 3
            t(
                Name.boundaryRatio, 1.5, 0...100,
                "a boundary prompt is far when its distance to the nearer parent is more than this many times that parent's median prompt-to-profile distance"
            ),
            t(
                Name.boundaryFarWarn, 0.25, 0...1,
                "the boundary check warns when more than this share of boundary prompts are far"),
            t(
                Name.boundaryFarFail, 0.50, 0...1,
                "the boundary check FAILS when more than this share of boundary prompts are far"),
            t(
                Name.rewordingWarn, 1.0, 0...100,
                "the rewording check warns when rewording pairs lie, on average, at least this share of the mean distance between unrelated prompts of their domain"
            ),

            // step 4
            t(
                Name.outlierZ, 3, 0...100,
                "a prompt is an outlier when its score lies more than this many robust standard deviations (1.4826 × MAD) from its domain's median"
            ),
            t(
                Name.outlierShareWarn, 0.05, 0...1,
                "the variance check warns when more than this share of prompts are outliers"),
            t(
                Name.domainGapWarn, 1.0, 0...100,
                "a domain warns when its mean score lies this many nats per token below the mean of all domains' means"
            ),
            t(
                Name.domainGapFail, 2.0, 0...100,
                "a domain FAILS when its mean score lies this many nats per token below the mean of all domains' means"
            ),

            // step 5
            t(
                Name.fragileMargin, 0.001, 0...1,
                "a routing decision is fragile when the probability gap between the k-th chosen and the best unchosen expert is below this"
            ),
            t(
                Name.fragileShareWarn, 0.05, 0...1,
                "the stability check warns when more than this share of routing decisions are fragile"
            ),
            t(
                Name.mismatchFail, 0, 0...1,
                "the stability check FAILS when more than this share of non-fragile routing decisions differ between runs (any differing fragile decision warns)"
            ),
        ]
    }

    /// Threshold names, for code and `--set`.
    public enum Name {
        public static let expertDead = "expert.dead"
        public static let expertRare = "expert.rare"
        public static let expertHot = "expert.hot"
        public static let top3Fail = "distribution.top3.fail"
        public static let top3Warn = "distribution.top3.warn"
        public static let entropyWarn = "distribution.entropy.warn"
        public static let giniWarn = "distribution.gini.warn"
        public static let jainWarn = "distribution.jain.warn"
        public static let deadWarn = "distribution.dead.warn"
        public static let deadFail = "distribution.dead.fail"
        public static let collapseWarn = "domain.collapse.warn"
        public static let collapseFail = "domain.collapse.fail"
        public static let batchShiftWarn = "domain.batchShift.warn"
        public static let specialistRatio = "domain.specialist.ratio"
        public static let boundaryRatio = "boundary.distanceRatio"
        public static let boundaryFarWarn = "boundary.far.warn"
        public static let boundaryFarFail = "boundary.far.fail"
        public static let rewordingWarn = "rewording.ratio.warn"
        public static let outlierZ = "variance.outlierZ"
        public static let outlierShareWarn = "variance.outliers.warn"
        public static let domainGapWarn = "variance.domainGap.warn"
        public static let domainGapFail = "variance.domainGap.fail"
        public static let fragileMargin = "stability.fragileMargin"
        public static let fragileShareWarn = "stability.fragile.warn"
        public static let mismatchFail = "stability.mismatch.fail"
    }

    /// The value of a threshold. `name` must be one of `Name`'s.
    public subscript(name: String) -> Double {
        guard let threshold = all.first(where: { $0.name == name }) else {
            preconditionFailure("no threshold named \(name)")
        }
        return threshold.value
    }

    /// Changes one threshold.
    public mutating func set(_ name: String, to value: Double) throws {
        guard let index = all.firstIndex(where: { $0.name == name }) else {
            throw ThresholdError.unknownName(name, known: all.map(\.name))
        }
        let threshold = all[index]
        guard value.isFinite, value >= threshold.minimum, value <= threshold.maximum else {
            throw ThresholdError.outOfRange(
                name: name, value: value, minimum: threshold.minimum, maximum: threshold.maximum)
        }
        all[index].value = value
    }

    /// Applies `NAME=VALUE`.
    public mutating func apply(_ assignment: String) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ThresholdError.malformed(assignment)
        }
        let name = String(assignment[..<equals]).trimmingCharacters(in: .whitespaces)
        let text = String(assignment[assignment.index(after: equals)...])
            .trimmingCharacters(in: .whitespaces)
        guard !all.contains(where: { $0.name == name }) || Double(text) != nil else {
            throw ThresholdError.notANumber(name: name, text: text)
        }
        try set(name, to: Double(text) ?? .nan)
    }

    /// The thresholds that name an expert dead, rare or hot, for MoERouting's metrics.
    public var experts: ExpertThresholds {
        ExpertThresholds(
            dead: self[Name.expertDead], rare: self[Name.expertRare], hot: self[Name.expertHot])
    }
}
