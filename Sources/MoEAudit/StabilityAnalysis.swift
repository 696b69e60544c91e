// Step 5: longitudinal stability. The fixed stability set is run again, interleaved with other
// prompts and at other thread counts; every routing decision (token, layer) must choose the same
// experts in the same order. A decision whose top-k margin (the probability gap between the k-th
// chosen and the best unchosen expert) is below the fragile margin may flip under a different
// summation order without any fault: those are counted, and a differing fragile decision warns,
// while a differing robust one fails.

enum StabilityAnalysis {
    /// Differing decisions kept in the report as examples.
    static let mismatchExamples = 20

    static func run(data: AuditData, thresholds: AuditThresholds) -> (
        StabilitySection, [CheckResult]
    ) {
        typealias N = AuditThresholds.Name
        let fragileMargin = thresholds[N.fragileMargin]
        let ids = data.plan.stability.map(\.id).filter { data.stabilityBaseline[$0] != nil }
        let layers = data.model.moeLayers

        // first run: decisions, fragile ones, the smallest margin
        var tokens = 0
        var decisions = 0
        var fragile = 0
        var minimumMargin = Double.infinity
        for id in ids {
            let first = data.stabilityBaseline[id]!
            tokens += first.tokenCount
            for margins in first.margins {
                decisions += margins.count
                for margin in margins {
                    if Double(margin) < fragileMargin { fragile += 1 }
                    minimumMargin = min(minimumMargin, Double(margin))
                }
            }
        }

        // reruns against the first run
        var summaries: [RerunSummary] = []
        var examples: [StabilityMismatch] = []
        for rerun in data.reruns {
            var summary = RerunSummary(
                threads: rerun.threads, prompts: 0, decisions: 0, differing: 0,
                differingFragile: 0, retokenized: 0, maxProbabilityDifference: 0)
            for id in ids {
                let first = data.stabilityBaseline[id]!
                guard let again = rerun.sequences[id] else { continue }
                summary.prompts += 1
                let count = first.margins.map(\.count).reduce(0, +)
                summary.decisions += count
                guard first.tokenIDs == again.tokenIDs, first.layerCount == again.layerCount
                else {
                    summary.retokenized += 1
                    summary.differing += count
                    continue
                }
                for token in 0..<first.tokenCount {
                    for slot in 0..<first.layerCount {
                        let p = first.probabilities[token][slot]
                        let q = again.probabilities[token][slot]
                        if p.count == q.count {
                            for i in p.indices {
                                summary.maxProbabilityDifference = max(
                                    summary.maxProbabilityDifference, Double(abs(p[i] - q[i])))
                            }
                        }
                        guard first.choices[token][slot] != again.choices[token][slot] else {
                            continue
                        }
                        let margin = Double(first.margins[token][slot])
                        summary.differing += 1
                        if margin < fragileMargin { summary.differingFragile += 1 }
                        if examples.count < mismatchExamples {
                            examples.append(
                                StabilityMismatch(
                                    id: id, threads: rerun.threads, token: token,
                                    layer: slot < layers.count ? layers[slot] : slot,
                                    first: first.choices[token][slot].map(Int.init),
                                    rerun: again.choices[token][slot].map(Int.init),
                                    margin: margin))
                        }
                    }
                }
            }
            summaries.append(summary)
        }
        let section = StabilitySection(
            prompts: ids, baselineThreads: data.plan.baselineThreads, tokens: tokens,
            decisions: decisions, fragileDecisions: fragile,
            fragileShare: decisions == 0 ? 0 : Double(fragile) / Double(decisions),
            minimumMargin: minimumMargin.isFinite ? minimumMargin : 0, reruns: summaries,
            mismatches: examples)
        return (section, checks(section, thresholds: thresholds))
    }

    private static func checks(_ section: StabilitySection, thresholds: AuditThresholds)
        -> [CheckResult]
    {
        typealias N = AuditThresholds.Name
        let pct = AuditAnalysis.percent
        guard section.decisions > 0, !section.reruns.isEmpty else {
            let reason = section.decisions == 0 ? "no stability prompts" : "no reruns"
            return [
                CheckResult(
                    id: "stability.identical", step: 5, title: "Identical routing on rerun",
                    verdict: .notApplicable, summary: reason, numbers: [:], thresholds: []),
                CheckResult(
                    id: "stability.fragile", step: 5, title: "Fragile routing decisions",
                    verdict: .notApplicable, summary: reason, numbers: [:], thresholds: []),
            ]
        }
        let compared = section.reruns.map(\.decisions).reduce(0, +)
        let differing = section.reruns.map(\.differing).reduce(0, +)
        let differingFragile = section.reruns.map(\.differingFragile).reduce(0, +)
        let robust = differing - differingFragile
        let robustShare = compared == 0 ? 0 : Double(robust) / Double(compared)
        let verdict: Verdict =
            robustShare > thresholds[N.mismatchFail]
            ? .fail : (differingFragile > 0 ? .warn : .pass)
        let runs = section.reruns.map {
            "\(AuditAnalysis.counted($0.threads, "thread")): \($0.differing) of \($0.decisions) "
                + "differ (\($0.differingFragile) fragile), largest probability change "
                + String(format: "%.2e", $0.maxProbabilityDifference)
        }.joined(separator: "; ")
        let identical = CheckResult(
            id: "stability.identical", step: 5, title: "Identical routing on rerun",
            verdict: verdict,
            summary:
                "\(section.prompts.count) prompts, first run at "
                + "\(AuditAnalysis.counted(section.baselineThreads, "thread")), rerun interleaved with other prompts at other thread counts; \(runs); "
                + "non-fragile decisions that differ: \(robust) (\(pct(robustShare)); fail above "
                + "\(pct(thresholds[N.mismatchFail])))",
            numbers: [
                "compared": Double(compared), "differing": Double(differing),
                "differingFragile": Double(differingFragile), "differingRobustShare": robustShare,
            ], thresholds: [N.mismatchFail, N.fragileMargin])
        let fragile = CheckResult(
            id: "stability.fragile", step: 5, title: "Fragile routing decisions",
            verdict: section.fragileShare > thresholds[N.fragileShareWarn] ? .warn : .pass,
            summary:
                "\(section.fragileDecisions) of \(section.decisions) routing decisions "
                + "(\(pct(section.fragileShare))) have a top-k margin below "
                + "\(thresholds[N.fragileMargin]) (warn above "
                + "\(pct(thresholds[N.fragileShareWarn]))); smallest margin "
                + String(format: "%.2e", section.minimumMargin),
            numbers: [
                "fragile": Double(section.fragileDecisions), "decisions": Double(section.decisions),
                "fragileShare": section.fragileShare, "minimumMargin": section.minimumMargin,
            ], thresholds: [N.fragileMargin, N.fragileShareWarn])
        return [identical, fragile]
    }
}
