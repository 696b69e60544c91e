import MoERouting

// Step 2: coverage by domain. Each domain's routing profile per layer, the divergence between
// domains, specialist experts, and whether routing collapses onto one expert, with the
// domain's prompts run one by one and run as one batch.

enum CoverageAnalysis {
    static func run(data: AuditData, thresholds: AuditThresholds) -> (
        DomainSection, [CheckResult]
    ) {
        typealias N = AuditThresholds.Name
        let model = data.model
        let e = model.expertCount
        let layerCount = model.moeLayers.count
        let domains = data.plan.domains

        // profiles: each domain's prompts counted one by one
        var counts: [String: RoutingCounts] = [:]
        var profiles: [DomainProfile] = []
        for domain in domains {
            let prompts = data.plan.domainPrompts[domain] ?? []
            let routing =
                RoutingCounts.sum(prompts.compactMap { data.runs[$0.id]?.routing })
                ?? RoutingCounts(layers: layerCount, experts: e)
            counts[domain] = routing
            profiles.append(profile(domain, prompts: prompts.count, routing))
        }

        // batches: the same prompts as one sequence
        var batches: [BatchProfile] = []
        for domain in domains {
            guard let batch = data.batches[domain], let single = counts[domain] else { continue }
            let shift = (0..<layerCount).map {
                LoadMetrics.jensenShannon(batch.routing.load($0), single.load($0)) ?? 0
            }
            batches.append(
                BatchProfile(
                    profile: profile(domain, prompts: batch.prompts, batch.routing),
                    chunks: batch.chunks, shift: shift,
                    meanShift: AuditAnalysis.mean(shift) ?? 0))
        }

        // divergence between domains, per layer and averaged
        var divergence = Array(
            repeating: Array(repeating: 0.0, count: domains.count), count: domains.count)
        var layerDivergence = Array(repeating: 0.0, count: layerCount)
        var pairCount = 0
        for i in domains.indices {
            for j in domains.indices where j > i {
                guard let a = counts[domains[i]], let b = counts[domains[j]] else { continue }
                var sum = 0.0
                for slot in 0..<layerCount {
                    let js = LoadMetrics.jensenShannon(a.load(slot), b.load(slot)) ?? 0
                    layerDivergence[slot] += js
                    sum += js
                }
                divergence[i][j] = sum / Double(max(1, layerCount))
                divergence[j][i] = divergence[i][j]
                pairCount += 1
            }
        }
        if pairCount > 0 { layerDivergence = layerDivergence.map { $0 / Double(pairCount) } }
        let pairValues = domains.indices.flatMap { i in
            domains.indices.filter { $0 > i }.map { divergence[i][$0] }
        }

        // specialists: share in a domain far above the share overall, and above even
        let overall =
            RoutingCounts.sum(domains.compactMap { counts[$0] })
            ?? RoutingCounts(layers: layerCount, experts: e)
        var specialists: [Specialist] = []
        for (slot, block) in model.moeLayers.enumerated() {
            guard let overallShares = LoadMetrics.shares(overall.load(slot)) else { continue }
            for domain in domains {
                guard let shares = counts[domain].flatMap({ LoadMetrics.shares($0.load(slot)) })
                else { continue }
                for expert in 0..<e {
                    let ratio =
                        overallShares[expert] > 0 ? shares[expert] / overallShares[expert] : 0
                    guard ratio >= thresholds[N.specialistRatio], shares[expert] > 1 / Double(e)
                    else { continue }
                    specialists.append(
                        Specialist(
                            layer: block, expert: expert, domain: domain,
                            domainShare: shares[expert], overallShare: overallShares[expert],
                            ratio: ratio))
                }
            }
        }
        specialists.sort { $0.ratio > $1.ratio }

        let section = DomainSection(
            domains: domains, profiles: profiles, batches: batches, divergence: divergence,
            layerDivergence: layerDivergence, meanDivergence: AuditAnalysis.mean(pairValues) ?? 0,
            specialists: specialists)
        return (section, checks(section, model: model, thresholds: thresholds))
    }

    static func profile(_ domain: String, prompts: Int, _ routing: RoutingCounts) -> DomainProfile {
        let layers = routing.counts.indices
        let shares = layers.map {
            LoadMetrics.shares(routing.load($0))
                ?? Array(repeating: 0, count: routing.counts[$0].count)
        }
        let top = layers.map { slot in
            LoadMetrics.topExperts(routing.load(slot), count: 1)?.first?.expert ?? 0
        }
        let rate = layers.map { slot in
            routing.tokens == 0
                ? 0 : Double(routing.counts[slot][top[slot]]) / Double(routing.tokens)
        }
        return DomainProfile(
            domain: domain, prompts: prompts, tokens: routing.tokens, shares: shares,
            topExpert: top, topRate: rate,
            top3Share: layers.map { LoadMetrics.topShare(routing.load($0)) ?? 0 })
    }

    private static func collapseVerdict(_ rate: Double, _ thresholds: AuditThresholds) -> Verdict {
        typealias N = AuditThresholds.Name
        return rate >= thresholds[N.collapseFail]
            ? .fail : (rate >= thresholds[N.collapseWarn] ? .warn : .pass)
    }

    /// The layer where a profile's top expert takes the most tokens.
    private static func worstLayer(_ p: DomainProfile, model: ModelDescription) -> (
        layer: Int, expert: Int, rate: Double
    ) {
        let slot = p.topRate.indices.max { p.topRate[$0] < p.topRate[$1] } ?? 0
        guard slot < p.topRate.count else { return (0, 0, 0) }
        return (model.moeLayers[slot], p.topExpert[slot], p.topRate[slot])
    }

    private static func checks(
        _ section: DomainSection, model: ModelDescription, thresholds: AuditThresholds
    ) -> [CheckResult] {
        typealias N = AuditThresholds.Name
        let pct = AuditAnalysis.percent
        let levels =
            "(warn at \(pct(thresholds[N.collapseWarn])), fail at "
            + "\(pct(thresholds[N.collapseFail])) of tokens on one expert; even routing "
            + "\(pct(model.fairShare)))"

        // one by one
        let measured = section.profiles.filter { $0.tokens > 0 }
        var collapse: CheckResult
        if let worst = measured.max(by: {
            worstLayer($0, model: model).rate < worstLayer($1, model: model).rate
        }) {
            let w = worstLayer(worst, model: model)
            let verdicts = measured.map {
                collapseVerdict(worstLayer($0, model: model).rate, thresholds)
            }
            let named = zip(measured, verdicts).filter { $0.1 > .pass }.map(\.0.domain)
            collapse = CheckResult(
                id: "domain.collapse", step: 2, title: "Collapse within a domain",
                verdict: verdicts.max() ?? .pass,
                summary:
                    "most concentrated: \(worst.domain), expert \(w.expert) chosen by "
                    + "\(pct(w.rate)) of its tokens at layer \(w.layer) \(levels)"
                    + (named.isEmpty ? "" : "; flagged: " + named.joined(separator: ", ")),
                numbers: ["maxTopRate": w.rate, "domainsFlagged": Double(named.count)],
                thresholds: [N.collapseWarn, N.collapseFail])
        } else {
            collapse = CheckResult(
                id: "domain.collapse", step: 2, title: "Collapse within a domain",
                verdict: .notApplicable, summary: "no domain prompts", numbers: [:],
                thresholds: [])
        }

        // as one batch
        let batches = section.batches.filter { $0.profile.tokens > 0 }
        var batch: CheckResult
        if let worst = batches.max(by: {
            worstLayer($0.profile, model: model).rate < worstLayer($1.profile, model: model).rate
        }), let shifted = batches.max(by: { $0.meanShift < $1.meanShift }) {
            let w = worstLayer(worst.profile, model: model)
            var verdicts = batches.map {
                collapseVerdict(worstLayer($0.profile, model: model).rate, thresholds)
            }
            let moved = batches.filter { $0.meanShift > thresholds[N.batchShiftWarn] }
            if !moved.isEmpty { verdicts.append(.warn) }
            batch = CheckResult(
                id: "domain.batch", step: 2, title: "Collapse when a domain runs as one batch",
                verdict: verdicts.max() ?? .pass,
                summary:
                    "most concentrated batch: \(worst.profile.domain), expert \(w.expert) chosen "
                    + "by \(pct(w.rate)) of \(worst.profile.tokens) tokens at layer \(w.layer) "
                    + "\(levels); largest shift from prompt-by-prompt routing: "
                    + "\(shifted.profile.domain) \(AuditAnalysis.format(shifted.meanShift)) nats JS "
                    + "(warn above \(AuditAnalysis.format(thresholds[N.batchShiftWarn])))"
                    + (moved.isEmpty
                        ? "" : "; shifted: " + moved.map(\.profile.domain).joined(separator: ", ")),
                numbers: [
                    "maxTopRate": w.rate, "maxShift": shifted.meanShift,
                    "domainsShifted": Double(moved.count),
                ], thresholds: [N.collapseWarn, N.collapseFail, N.batchShiftWarn])
        } else {
            batch = CheckResult(
                id: "domain.batch", step: 2, title: "Collapse when a domain runs as one batch",
                verdict: .notApplicable, summary: "no domain batches", numbers: [:],
                thresholds: [])
        }
        return [collapse, batch]
    }
}
