import Foundation
import MoERouting

/// Turns what the audit measured into sections, checks and verdicts. Pure: no model needed.
public enum AuditAnalysis {
    public static func report(
        data: AuditData, thresholds: AuditThresholds, promptDirectory: String,
        date: Date = Date()
    ) -> AuditReport {
        let plan = data.plan
        let (distribution, distributionChecks) = DistributionAnalysis.run(
            data: data, thresholds: thresholds)
        let (coverage, coverageChecks) = CoverageAnalysis.run(data: data, thresholds: thresholds)
        let (boundary, boundaryChecks) = BoundaryAnalysis.run(data: data, thresholds: thresholds)
        let (variance, varianceChecks) = VarianceAnalysis.run(data: data, thresholds: thresholds)
        let (stability, stabilityChecks) = StabilityAnalysis.run(
            data: data, thresholds: thresholds)
        let checks =
            distributionChecks + coverageChecks + boundaryChecks + varianceChecks
            + stabilityChecks
        var seconds = data.seconds
        seconds["total"] = data.seconds.values.reduce(0, +)
        return AuditReport(
            model: data.model, promptDirectory: promptDirectory, quick: plan.quick,
            domains: plan.domains, promptCount: plan.prompts.count,
            boundaryCount: plan.boundary.count, pairCount: plan.pairs.count,
            stabilityCount: plan.stability.count, baselineThreads: plan.baselineThreads,
            rerunThreads: plan.rerunThreads, date: ISO8601DateFormatter().string(from: date),
            seconds: seconds, verdict: checks.map(\.verdict).max() ?? .notApplicable,
            thresholds: thresholds.all, checks: checks, distribution: distribution,
            coverage: coverage, boundary: boundary, variance: variance, stability: stability)
    }

    /// Mean over layers of the JS divergence between two routings, skipping layers where either
    /// is empty; nil when no layer has both.
    static func distance(_ a: RoutingCounts, _ b: RoutingCounts) -> Double? {
        var sum = 0.0
        var layers = 0
        for slot in a.counts.indices {
            guard let js = LoadMetrics.jensenShannon(a.load(slot), b.load(slot)) else { continue }
            sum += js
            layers += 1
        }
        return layers == 0 ? nil : sum / Double(layers)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Population variance.
    static func variance(_ values: [Double]) -> Double? {
        guard let m = mean(values) else { return nil }
        return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
    }

    /// A number for a summary line: 3 significant decimals, or percent.
    static func format(_ value: Double, digits: Int = 3) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// "1 expert", "4 experts": a count and its noun, plural unless the count is 1.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.1f %%", value * 100)
    }
}

// MARK: step 1: routing distribution

enum DistributionAnalysis {
    static func run(data: AuditData, thresholds: AuditThresholds) -> (
        DistributionSection, [CheckResult]
    ) {
        typealias N = AuditThresholds.Name
        let model = data.model
        let e = model.expertCount
        let runs = data.plan.prompts.compactMap { data.runs[$0.id] }
        let total =
            RoutingCounts.sum(runs.map(\.routing))
            ?? RoutingCounts(layers: model.moeLayers.count, experts: e)

        // per layer: MoERouting's balance metrics, then verdicts against the thresholds
        var layers: [LayerDistribution] = []
        for (slot, block) in model.moeLayers.enumerated() {
            guard let b = LoadBalance(load: total.load(slot), thresholds: thresholds.experts)
            else { continue }
            var verdict = Verdict.pass
            var reasons: [String] = []
            func flag(_ level: Verdict, _ reason: String) {
                verdict = max(verdict, level)
                reasons.append(reason)
            }
            let deadShare = Double(b.deadExperts.count) / Double(max(1, e))
            if top3Applies(e, thresholds) {
                if b.top3Share > thresholds[N.top3Fail] {
                    flag(.fail, "top-3 share \(AuditAnalysis.percent(b.top3Share))")
                } else if b.top3Share > thresholds[N.top3Warn] {
                    flag(.warn, "top-3 share \(AuditAnalysis.percent(b.top3Share))")
                }
            }
            let deadText = AuditAnalysis.counted(b.deadExperts.count, "dead expert")
            if deadShare > thresholds[N.deadFail] {
                flag(.fail, deadText)
            } else if deadShare > thresholds[N.deadWarn] {
                flag(.warn, deadText)
            }
            if !b.rareExperts.isEmpty {
                flag(.warn, AuditAnalysis.counted(b.rareExperts.count, "rare expert"))
            }
            if b.normalizedEntropy < thresholds[N.entropyWarn] {
                flag(.warn, "entropy \(AuditAnalysis.format(b.normalizedEntropy))")
            }
            if b.gini > thresholds[N.giniWarn] {
                flag(.warn, "Gini \(AuditAnalysis.format(b.gini))")
            }
            if b.jainIndex < thresholds[N.jainWarn] {
                flag(.warn, "Jain \(AuditAnalysis.format(b.jainIndex))")
            }
            layers.append(
                LayerDistribution(
                    layer: block, tokens: total.tokens, load: total.counts[slot],
                    shares: b.shares, relativeLoads: b.relativeLoads, top3Share: b.top3Share,
                    entropy: b.entropy, normalizedEntropy: b.normalizedEntropy,
                    effectiveExperts: b.effectiveExperts, gini: b.gini, jainIndex: b.jainIndex,
                    coefficientOfVariation: b.coefficientOfVariation, maxOverMean: b.maxOverMean,
                    coverage: b.coverage, deadExperts: b.deadExperts, rareExperts: b.rareExperts,
                    hotExperts: b.hotExperts, verdict: verdict, reasons: reasons))
        }
        let slots = layers.count * e
        let deadSlots = layers.map(\.deadExperts.count).reduce(0, +)
        let rareSlots = layers.map(\.rareExperts.count).reduce(0, +)
        let section = DistributionSection(
            prompts: runs.count, tokens: total.tokens, layers: layers,
            coverage: slots == 0 ? 0 : Double(slots - deadSlots) / Double(slots),
            deadSlots: deadSlots, rareSlots: rareSlots)
        return (section, checks(section, model: model, thresholds: thresholds))
    }

    /// The top-3 rule means nothing when an even load already gives three experts 3/E above
    /// the fail level (E ≤ 5 at the default 60 %).
    static func top3Applies(_ expertCount: Int, _ thresholds: AuditThresholds) -> Bool {
        expertCount > 3
            && 3 / Double(expertCount) < thresholds[AuditThresholds.Name.top3Fail]
    }

    private static func checks(
        _ section: DistributionSection, model: ModelDescription, thresholds: AuditThresholds
    ) -> [CheckResult] {
        typealias N = AuditThresholds.Name
        let layers = section.layers
        guard !layers.isEmpty else {
            let empty = "no routed tokens"
            return [
                CheckResult(
                    id: "distribution.top3", step: 1, title: "Top-3 share per layer",
                    verdict: .notApplicable, summary: empty, numbers: [:], thresholds: []),
                CheckResult(
                    id: "distribution.dead", step: 1, title: "Dead and rare experts",
                    verdict: .notApplicable, summary: empty, numbers: [:], thresholds: []),
                CheckResult(
                    id: "distribution.balance", step: 1, title: "Entropy, Gini, Jain",
                    verdict: .notApplicable, summary: empty, numbers: [:], thresholds: []),
            ]
        }
        let pct = AuditAnalysis.percent
        let fmt = { AuditAnalysis.format($0) }

        // top-3 share
        let worst = layers.max { $0.top3Share < $1.top3Share }!
        let failing = layers.filter { $0.top3Share > thresholds[N.top3Fail] }
        let warning = layers.filter { $0.top3Share > thresholds[N.top3Warn] }
        let even = 3 / Double(max(1, model.expertCount))
        var top3: Verdict = failing.isEmpty ? (warning.isEmpty ? .pass : .warn) : .fail
        var top3Summary =
            "highest top-3 share \(pct(worst.top3Share)) at layer \(worst.layer) "
            + "(even routing: \(pct(even))); \(failing.count) of \(layers.count) layers above "
            + "\(pct(thresholds[N.top3Fail])), \(warning.count) above \(pct(thresholds[N.top3Warn]))"
        if !failing.isEmpty {
            top3Summary +=
                "; failing layers: " + failing.map { "\($0.layer)" }.joined(separator: ", ")
        }
        if !top3Applies(model.expertCount, thresholds) {
            top3 = .notApplicable
            top3Summary =
                "not applicable: with \(model.expertCount) experts even routing already gives "
                + "the top 3 \(pct(even)); highest \(pct(worst.top3Share)) at layer \(worst.layer)"
        }

        // dead and rare
        let deadWorst = layers.max { $0.deadExperts.count < $1.deadExperts.count }!
        let e = Double(max(1, model.expertCount))
        let deadShare = Double(deadWorst.deadExperts.count) / e
        let dead: Verdict =
            deadShare > thresholds[N.deadFail]
            ? .fail : (deadShare > thresholds[N.deadWarn] || section.rareSlots > 0 ? .warn : .pass)
        let deadSummary =
            "\(section.deadSlots) dead and \(section.rareSlots) rare (layer, expert) slots of "
            + "\(layers.count * model.expertCount); coverage \(pct(section.coverage)); "
            + "most dead in one layer: \(deadWorst.deadExperts.count) at layer \(deadWorst.layer) "
            + "(warn above \(pct(thresholds[N.deadWarn])) of experts or at any rare expert, "
            + "fail above \(pct(thresholds[N.deadFail])))"

        // entropy, Gini, Jain
        let minEntropy = layers.min { $0.normalizedEntropy < $1.normalizedEntropy }!
        let maxGini = layers.max { $0.gini < $1.gini }!
        let minJain = layers.min { $0.jainIndex < $1.jainIndex }!
        let balanceWarn =
            minEntropy.normalizedEntropy < thresholds[N.entropyWarn]
            || maxGini.gini > thresholds[N.giniWarn] || minJain.jainIndex < thresholds[N.jainWarn]
        let balanceSummary =
            "lowest normalised entropy \(fmt(minEntropy.normalizedEntropy)) (layer "
            + "\(minEntropy.layer), warn below \(fmt(thresholds[N.entropyWarn]))); highest Gini "
            + "\(fmt(maxGini.gini)) (layer \(maxGini.layer), warn above "
            + "\(fmt(thresholds[N.giniWarn]))); lowest Jain \(fmt(minJain.jainIndex)) (layer "
            + "\(minJain.layer), warn below \(fmt(thresholds[N.jainWarn])))"

        return [
            CheckResult(
                id: "distribution.top3", step: 1, title: "Top-3 share per layer", verdict: top3,
                summary: top3Summary,
                numbers: [
                    "maxTop3Share": worst.top3Share, "layersFailing": Double(failing.count),
                    "layersWarning": Double(warning.count), "evenTop3Share": even,
                ], thresholds: [N.top3Fail, N.top3Warn]),
            CheckResult(
                id: "distribution.dead", step: 1, title: "Dead and rare experts", verdict: dead,
                summary: deadSummary,
                numbers: [
                    "deadSlots": Double(section.deadSlots), "rareSlots": Double(section.rareSlots),
                    "coverage": section.coverage,
                    "maxDeadInLayer": Double(deadWorst.deadExperts.count),
                ], thresholds: [N.deadWarn, N.deadFail, N.expertDead, N.expertRare]),
            CheckResult(
                id: "distribution.balance", step: 1, title: "Entropy, Gini, Jain",
                verdict: balanceWarn ? .warn : .pass, summary: balanceSummary,
                numbers: [
                    "minNormalizedEntropy": minEntropy.normalizedEntropy, "maxGini": maxGini.gini,
                    "minJain": minJain.jainIndex,
                ], thresholds: [N.entropyWarn, N.giniWarn, N.jainWarn]),
        ]
    }
}
