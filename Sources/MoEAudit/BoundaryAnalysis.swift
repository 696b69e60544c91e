import MoERouting

// Step 3: boundary cases. How far each boundary prompt's routing lies from each parent domain's
// profile, measured against how far that domain's own prompts lie from it, and how much
// routing moves between the two prompts of a rewording pair, measured against unrelated
// prompts of the same domain.

enum BoundaryAnalysis {
    static func run(data: AuditData, thresholds: AuditThresholds) -> (
        BoundarySection, [CheckResult]
    ) {
        typealias N = AuditThresholds.Name
        let plan = data.plan
        var profiles: [String: RoutingCounts] = [:]
        var baselines: [String: Double] = [:]

        // each domain's profile, and the median leave-one-out distance of its own prompts
        for domain in plan.domains {
            let runs = (plan.domainPrompts[domain] ?? []).compactMap { data.runs[$0.id]?.routing }
            guard let total = RoutingCounts.sum(runs) else { continue }
            profiles[domain] = total
            let own = runs.filter { $0.tokens > 0 }.compactMap {
                AuditAnalysis.distance($0, total.subtracting($0))
            }
            baselines[domain] = AuditAnalysis.median(own)
        }

        // boundary prompts against their parents
        var results: [BoundaryResult] = []
        for prompt in plan.boundary {
            guard let routing = data.runs[prompt.id]?.routing, routing.tokens > 0,
                let parents = prompt.parents
            else { continue }
            let distances = parents.map { parent in
                profiles[parent].flatMap { AuditAnalysis.distance(routing, $0) } ?? .infinity
            }
            let base = parents.map { baselines[$0] ?? .infinity }
            // a parent whose own prompts all route alike (baseline 0) is matched only exactly
            let ratios = zip(distances, base).map { d, b in
                b > 0 ? d / b : (d == 0 ? 0 : Double.infinity)
            }
            let nearest = profiles.compactMap { domain, profile in
                AuditAnalysis.distance(routing, profile).map { (domain, $0) }
            }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            results.append(
                BoundaryResult(
                    id: prompt.id, parents: parents, distances: distances, baselines: base,
                    ratios: ratios, nearestDomain: nearest?.0 ?? "",
                    nearestDistance: nearest?.1 ?? .infinity,
                    far: (ratios.min() ?? .infinity) > thresholds[N.boundaryRatio]))
        }

        // rewording pairs against unrelated prompts of their domain
        var pairs: [RewordingResult] = []
        for (a, b) in plan.pairs {
            guard let ra = data.runs[a.id]?.routing, let rb = data.runs[b.id]?.routing,
                let distance = AuditAnalysis.distance(ra, rb)
            else { continue }
            let others = (plan.domainPrompts[a.domain] ?? []).filter {
                $0.id != a.id && $0.id != b.id
            }.compactMap { data.runs[$0.id]?.routing }.filter { $0.tokens > 0 }
            let unrelated = others.flatMap { other in
                [AuditAnalysis.distance(ra, other), AuditAnalysis.distance(rb, other)].compactMap {
                    $0
                }
            }
            guard let mean = AuditAnalysis.mean(unrelated) else { continue }
            pairs.append(
                RewordingResult(
                    first: a.id, second: b.id, domain: a.domain, distance: distance,
                    unrelated: mean))
        }
        let meanPair = AuditAnalysis.mean(pairs.map(\.distance)) ?? 0
        let meanUnrelated = AuditAnalysis.mean(pairs.map(\.unrelated)) ?? 0
        let section = BoundarySection(
            prompts: results, farCount: results.count(where: \.far), pairs: pairs,
            meanPairDistance: meanPair, meanUnrelatedDistance: meanUnrelated,
            rewordingRatio: meanUnrelated > 0 ? meanPair / meanUnrelated : 0)
        return (section, checks(section, thresholds: thresholds))
    }

    private static func checks(_ section: BoundarySection, thresholds: AuditThresholds)
        -> [CheckResult]
    {
        typealias N = AuditThresholds.Name
        let pct = AuditAnalysis.percent
        let fmt = { AuditAnalysis.format($0) }
        var distance: CheckResult
        if section.prompts.isEmpty {
            distance = CheckResult(
                id: "boundary.distance", step: 3, title: "Boundary prompts against their parents",
                verdict: .notApplicable, summary: "no boundary prompts", numbers: [:],
                thresholds: [])
        } else {
            let share = Double(section.farCount) / Double(section.prompts.count)
            let verdict: Verdict =
                share > thresholds[N.boundaryFarFail]
                ? .fail : (share > thresholds[N.boundaryFarWarn] ? .warn : .pass)
            let ratios = section.prompts.compactMap { $0.ratios.min() }.filter(\.isFinite)
            let nearParent = section.prompts.count(where: { $0.parents.contains($0.nearestDomain) })
            let far = section.prompts.filter(\.far).map(\.id)
            distance = CheckResult(
                id: "boundary.distance", step: 3, title: "Boundary prompts against their parents",
                verdict: verdict,
                summary:
                    "\(section.farCount) of \(section.prompts.count) boundary prompts "
                    + "(\(pct(share))) lie more than \(fmt(thresholds[N.boundaryRatio]))× their "
                    + "nearer parent's own spread from it (warn above "
                    + "\(pct(thresholds[N.boundaryFarWarn])), fail above "
                    + "\(pct(thresholds[N.boundaryFarFail]))); median ratio to the nearer parent "
                    + "\(fmt(AuditAnalysis.median(ratios) ?? 0)); nearest domain is a parent for "
                    + "\(nearParent)"
                    + (far.isEmpty ? "" : "; far: " + far.prefix(10).joined(separator: ", ")),
                numbers: [
                    "far": Double(section.farCount), "farShare": share,
                    "medianRatio": AuditAnalysis.median(ratios) ?? 0,
                    "nearestIsParent": Double(nearParent),
                ], thresholds: [N.boundaryRatio, N.boundaryFarWarn, N.boundaryFarFail])
        }
        var rewording: CheckResult
        if section.pairs.isEmpty {
            rewording = CheckResult(
                id: "boundary.rewording", step: 3, title: "Routing under rewording",
                verdict: .notApplicable, summary: "no rewording pairs", numbers: [:],
                thresholds: [])
        } else {
            rewording = CheckResult(
                id: "boundary.rewording", step: 3, title: "Routing under rewording",
                verdict: section.rewordingRatio >= thresholds[N.rewordingWarn] ? .warn : .pass,
                summary:
                    "\(section.pairs.count) pairs: mean distance between rewordings "
                    + "\(fmt(section.meanPairDistance)) nats JS, between unrelated prompts of the "
                    + "same domain \(fmt(section.meanUnrelatedDistance)); ratio "
                    + "\(fmt(section.rewordingRatio)) (warn at \(fmt(thresholds[N.rewordingWarn])))",
                numbers: [
                    "pairs": Double(section.pairs.count), "meanPair": section.meanPairDistance,
                    "meanUnrelated": section.meanUnrelatedDistance,
                    "ratio": section.rewordingRatio,
                ], thresholds: [N.rewordingWarn])
        }
        return [distance, rewording]
    }
}
