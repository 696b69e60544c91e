// Step 4: performance variance. The quality score of a prompt is the model's mean
// log-likelihood per token of its text, or of its reference given the prompt where it has one.
// Scores are compared within each domain (robust z-scores name the outliers) and across domains
// (a domain far below the others is a blind spot).

enum VarianceAnalysis {
    /// 1.4826 · MAD estimates the standard deviation of normally distributed data.
    static let madScale = 1.4826

    static func run(data: AuditData, thresholds: AuditThresholds) -> (
        VarianceSection, [CheckResult]
    ) {
        typealias N = AuditThresholds.Name
        let plan = data.plan
        let groups = plan.domains + (plan.boundary.isEmpty ? [] : [PromptSet.boundaryDomain])

        // scores, grouped by domain (boundary prompts form a group of their own)
        var scores: [PromptScore] = []
        var domainScores: [DomainScore] = []
        for group in groups {
            let prompts =
                group == PromptSet.boundaryDomain
                ? plan.boundary : (plan.domainPrompts[group] ?? [])
            let scored = prompts.compactMap { prompt in
                data.runs[prompt.id].flatMap { run in run.score.map { (prompt, run, $0) } }
            }
            let values = scored.map(\.2)
            guard let median = AuditAnalysis.median(values), let mean = AuditAnalysis.mean(values)
            else { continue }
            let mad = AuditAnalysis.median(values.map { abs($0 - median) }) ?? 0
            let spread =
                mad > 0 ? madScale * mad : (AuditAnalysis.variance(values) ?? 0).squareRoot()
            for (prompt, run, score) in scored {
                scores.append(
                    PromptScore(
                        id: prompt.id, domain: group, scoredTokens: run.scoredTokens, score: score,
                        robustZ: spread > 0 ? (score - median) / spread : 0,
                        reference: prompt.reference != nil))
            }
            domainScores.append(
                DomainScore(
                    domain: group, prompts: values.count, mean: mean,
                    standardDeviation: (AuditAnalysis.variance(values) ?? 0).squareRoot(),
                    median: median, minimum: values.min() ?? 0, maximum: values.max() ?? 0, gap: 0))
        }

        // across domains: gap to the mean of the domain means; variance within and between
        let meanOfMeans = AuditAnalysis.mean(domainScores.map(\.mean)) ?? 0
        for index in domainScores.indices {
            domainScores[index].gap = meanOfMeans - domainScores[index].mean
        }
        let all = scores.map(\.score)
        let overall = AuditAnalysis.mean(all) ?? 0
        let count = Double(max(1, all.count))
        let within =
            domainScores.map { Double($0.prompts) * $0.standardDeviation * $0.standardDeviation }
            .reduce(0, +) / count
        let between =
            domainScores.map { Double($0.prompts) * ($0.mean - overall) * ($0.mean - overall) }
            .reduce(0, +) / count
        let outliers = scores.filter { abs($0.robustZ) > thresholds[N.outlierZ] }
            .sorted { $0.robustZ < $1.robustZ }
        let section = VarianceSection(
            scores: scores, domains: domainScores, overallMean: overall,
            totalVariance: AuditAnalysis.variance(all) ?? 0, withinVariance: within,
            betweenVariance: between, outliers: outliers)
        return (section, checks(section, thresholds: thresholds))
    }

    private static func checks(_ section: VarianceSection, thresholds: AuditThresholds)
        -> [CheckResult]
    {
        typealias N = AuditThresholds.Name
        let fmt = { AuditAnalysis.format($0) }
        guard let worst = section.domains.max(by: { $0.gap < $1.gap }) else {
            return [
                CheckResult(
                    id: "variance.domains", step: 4, title: "Quality across domains",
                    verdict: .notApplicable, summary: "no scored prompts", numbers: [:],
                    thresholds: []),
                CheckResult(
                    id: "variance.outliers", step: 4, title: "Outlier prompts",
                    verdict: .notApplicable, summary: "no scored prompts", numbers: [:],
                    thresholds: []),
            ]
        }
        let failing = section.domains.filter { $0.gap >= thresholds[N.domainGapFail] }
        let warning = section.domains.filter { $0.gap >= thresholds[N.domainGapWarn] }
        let best = section.domains.min { $0.gap < $1.gap }!
        let domains = CheckResult(
            id: "variance.domains", step: 4, title: "Quality across domains",
            verdict: failing.isEmpty ? (warning.isEmpty ? .pass : .warn) : .fail,
            summary:
                "mean log-likelihood per token by domain from \(fmt(worst.mean)) (\(worst.domain)) "
                + "to \(fmt(best.mean)) (\(best.domain)); \(worst.domain) lies \(fmt(worst.gap)) "
                + "nats below the mean of domain means (warn at "
                + "\(fmt(thresholds[N.domainGapWarn])), fail at "
                + "\(fmt(thresholds[N.domainGapFail]))); variance within domains "
                + "\(fmt(section.withinVariance)), across \(fmt(section.betweenVariance))"
                + (warning.isEmpty
                    ? "" : "; flagged: " + warning.map(\.domain).joined(separator: ", ")),
            numbers: [
                "worstGap": worst.gap, "worstMean": worst.mean, "bestMean": best.mean,
                "withinVariance": section.withinVariance,
                "betweenVariance": section.betweenVariance,
            ], thresholds: [N.domainGapWarn, N.domainGapFail])
        let share = Double(section.outliers.count) / Double(max(1, section.scores.count))
        let outliers = CheckResult(
            id: "variance.outliers", step: 4, title: "Outlier prompts",
            verdict: share > thresholds[N.outlierShareWarn] ? .warn : .pass,
            summary:
                "\(section.outliers.count) of \(section.scores.count) prompts lie more than "
                + "\(fmt(thresholds[N.outlierZ])) robust standard deviations from their domain's "
                + "median (\(AuditAnalysis.percent(share)); warn above "
                + "\(AuditAnalysis.percent(thresholds[N.outlierShareWarn])))"
                + (section.outliers.isEmpty
                    ? ""
                    : ": "
                        + section.outliers.prefix(8).map { "\($0.id) (z \(fmt($0.robustZ)))" }
                        .joined(separator: ", ")),
            numbers: ["outliers": Double(section.outliers.count), "outlierShare": share],
            thresholds: [N.outlierZ, N.outlierShareWarn])
        return [domains, outliers]
    }
}
