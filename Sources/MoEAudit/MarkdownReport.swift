import Foundation
import MoERouting

extension AuditReport {
    /// The report as JSON: sorted keys, infinities as the strings "inf" and "-inf".
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Reads a report written by `json()`.
    public static func decode(_ data: Data) throws -> AuditReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(AuditReport.self, from: data)
    }

    /// A one-line account: verdict, counts of checks, prompts, time.
    public var headline: String {
        "\(verdict.label) (\(count(.fail)) fail, \(count(.warn)) warn, \(count(.pass)) pass"
            + (count(.notApplicable) > 0 ? ", \(count(.notApplicable)) n/a" : "") + ") · "
            + "\(promptCount) prompts\(quick ? " (quick)" : "") · "
            + String(format: "%.1f s", seconds["total"] ?? 0)
    }
}

/// Glyphs for a relative load (share × E) in text heatmaps, lightest first. Dead is `x`.
enum LoadGlyph {
    static let legend =
        "x dead · . under 1/4 of fair · : under 1/2 · - under 0.8 · = fair (0.8-1.25) · "
        + "+ up to 2× · * up to 3× · # above 3×"

    static func glyph(_ r: Double) -> Character {
        switch r {
        case ...0: "x"
        case ..<0.25: "."
        case ..<0.5: ":"
        case ..<0.8: "-"
        case ..<1.25: "="
        case ..<2: "+"
        case ..<3: "*"
        default: "#"
        }
    }
}

/// The Markdown report: verdicts first, then one section per step, then the thresholds.
public enum MarkdownReport {
    /// Layers drawn in the per-domain grids; more than this and only some are drawn.
    static let maxDomainGrids = 8

    public static func render(_ r: AuditReport) -> String {
        var out: [String] = []
        let f2 = { (v: Double) in String(format: "%.2f", v) }
        let f3 = { (v: Double) in String(format: "%.3f", v) }
        let pct = { (v: Double) in String(format: "%.1f%%", v * 100) }
        let m = r.model

        // header
        out.append("# moetop audit: \(m.name)")
        out.append("")
        out.append("**Verdict: \(r.headline)**")
        out.append("")
        out.append(
            "- Model: `\(m.name)`, \(m.architecture), \(m.moeLayers.count) MoE layers × "
                + "\(m.expertCount) experts, top-\(m.expertsPerToken)"
                + (m.sharedExpertCount > 0 ? " + \(m.sharedExpertCount) shared" : "")
                + ", \(m.totalParameters) parameters (\(m.activeParameters) active per token), "
                + "fingerprint `\(m.fingerprint.prefix(16))`")
        out.append(
            "- Prompts: `\(r.promptDirectory)`, \(r.domains.count) domains, \(r.promptCount) "
                + "prompts (\(r.boundaryCount) boundary), \(r.pairCount) rewording pairs, "
                + "stability set of \(r.stabilityCount)" + (r.quick ? ", quick subset" : ""))
        out.append(
            "- Threads: \(r.baselineThreads); stability reruns at "
                + r.rerunThreads.map(String.init).joined(separator: " and "))
        out.append(
            "- Wall time: "
                + ["prompts", "batches", "stability", "total"].compactMap { key in
                    r.seconds[key].map { "\(key) \(String(format: "%.1f", $0)) s" }
                }.joined(separator: ", ") + "; \(r.date)")
        out.append("- Exit status: 1 when any check fails, 0 otherwise.")
        out.append("")

        // checks
        out.append("## Checks")
        out.append("")
        out.append("| step | check | verdict | the numbers behind it |")
        out.append("|---:|---|---|---|")
        for c in r.checks {
            out.append("| \(c.step) | \(c.title) | **\(c.verdict.label)** | \(cell(c.summary)) |")
        }
        out.append("")

        // step 1
        let d = r.distribution
        out.append("## 1. Routing distribution")
        out.append("")
        out.append(
            "\(d.prompts) prompts, \(d.tokens) prompt tokens per layer. Coverage \(pct(d.coverage)) "
                + "of (layer, expert) slots; \(d.deadSlots) dead, \(d.rareSlots) rare.")
        out.append("")
        out.append("Relative load per layer (rows) and expert (columns); \(LoadGlyph.legend):")
        out.append("")
        out.append("```")
        out.append("       " + experts(m.expertCount))
        for layer in d.layers {
            out.append(
                "L\(layer.layer)".padding(toLength: 7, withPad: " ", startingAt: 0)
                    + String(layer.relativeLoads.map(LoadGlyph.glyph)))
        }
        out.append("```")
        out.append("")
        out.append(
            "| layer | top-3 share | H/ln E | exp(H) | Gini | Jain | CV | max/mean | dead | rare | hot | verdict |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|")
        for l in d.layers {
            out.append(
                "| \(l.layer) | \(pct(l.top3Share)) | \(f3(l.normalizedEntropy)) | "
                    + "\(f2(l.effectiveExperts)) | \(f3(l.gini)) | \(f3(l.jainIndex)) | "
                    + "\(f2(l.coefficientOfVariation)) | \(f2(l.maxOverMean)) | "
                    + "\(list(l.deadExperts)) | \(list(l.rareExperts)) | \(list(l.hotExperts)) | "
                    + "\(l.verdict.label)\(l.reasons.isEmpty ? "" : ": " + l.reasons.joined(separator: ", ")) |"
            )
        }
        out.append("")

        // step 2
        let c = r.coverage
        out.append("## 2. Coverage by domain")
        out.append("")
        out.append(
            "Top rate: the share of a domain's tokens that chose its most used expert, in the "
                + "layer where that share is highest (even routing: "
                + "\(pct(m.fairShare))). The batch runs the domain's prompts as one sequence "
                + "(split only where the context ends); shift is its JS divergence from the "
                + "prompt-by-prompt profile, mean over layers.")
        out.append("")
        out.append(
            "| domain | prompts | tokens | top rate (layer, expert) | batch tokens | batch top rate | shift |"
        )
        out.append("|---|---:|---:|---|---:|---|---:|")
        for p in c.profiles {
            let batch = c.batches.first { $0.profile.domain == p.domain }
            let (rate, where1) = top(p, m)
            var row = "| \(p.domain) | \(p.prompts) | \(p.tokens) | \(pct(rate)) (\(where1)) | "
            if let batch {
                let (bRate, where2) = top(batch.profile, m)
                row +=
                    "\(batch.profile.tokens)\(batch.chunks > 1 ? " in \(batch.chunks)" : "") | "
                    + "\(pct(bRate)) (\(where2)) | \(f3(batch.meanShift)) |"
            } else {
                row += " | | |"
            }
            out.append(row)
        }
        out.append("")
        if !c.domains.isEmpty {
            out.append(
                "Divergence between domains (Jensen-Shannon, nats, mean over layers; 0 identical, "
                    + "0.693 disjoint). Mean over pairs \(f3(c.meanDivergence)); per layer "
                    + zip(m.moeLayers, c.layerDivergence).map { "L\($0) \(f3($1))" }.joined(
                        separator: ", ") + ".")
            out.append("")
            out.append(
                "| | " + c.domains.map { String($0.prefix(5)) }.joined(separator: " | ") + " |")
            out.append("|---|" + c.domains.map { _ in "---:" }.joined(separator: "|") + "|")
            for (i, domain) in c.domains.enumerated() {
                out.append(
                    "| \(domain) | "
                        + c.divergence[i].enumerated().map { $0.offset == i ? "" : f3($0.element) }
                        .joined(separator: " | ") + " |")
            }
            out.append("")
        }
        out.append(
            "Relative load per domain (rows) and expert (columns), \(LoadGlyph.legend):")
        out.append("")
        out.append("```")
        for slot in gridLayers(m.moeLayers.count) {
            out.append("layer \(m.moeLayers[slot])")
            out.append("              " + experts(m.expertCount))
            for p in c.profiles where slot < p.shares.count {
                let rel = p.shares[slot].map { $0 * Double(m.expertCount) }
                out.append(
                    "  " + p.domain.prefix(12).padding(toLength: 12, withPad: " ", startingAt: 0)
                        + String(rel.map(LoadGlyph.glyph)))
            }
        }
        out.append("```")
        out.append("")
        out.append(
            "Specialists (share in the domain at least the threshold times the share overall): "
                + "\(c.specialists.count)" + (c.specialists.isEmpty ? "." : ", strongest first:"))
        if !c.specialists.isEmpty {
            out.append("")
            out.append("| layer | expert | domain | share there | share overall | ratio |")
            out.append("|---:|---:|---|---:|---:|---:|")
            for s in c.specialists.prefix(20) {
                out.append(
                    "| \(s.layer) | \(s.expert) | \(s.domain) | \(pct(s.domainShare)) | "
                        + "\(pct(s.overallShare)) | \(f2(s.ratio)) |")
            }
        }
        out.append("")

        // step 3
        let b = r.boundary
        out.append("## 3. Boundary cases")
        out.append("")
        out.append(
            "Distance: JS divergence (nats, mean over layers) of a prompt's routing from a domain's "
                + "profile; ratio: that distance over the median distance of the domain's own "
                + "prompts from its profile (1 = as typical as the domain's own prompts).")
        out.append("")
        if !b.prompts.isEmpty {
            out.append(
                "| prompt | parent A: distance (ratio) | parent B: distance (ratio) | nearest domain | far |"
            )
            out.append("|---|---|---|---|---|")
            for p in b.prompts.sorted(by: { ($0.ratios.min() ?? 0) > ($1.ratios.min() ?? 0) }) {
                let parts = p.parents.indices.map {
                    "\(p.parents[$0]): \(f3(p.distances[$0])) (\(f2(p.ratios[$0])))"
                }
                out.append(
                    "| \(p.id) | \(parts[0]) | \(parts.count > 1 ? parts[1] : "") | "
                        + "\(p.nearestDomain) \(f3(p.nearestDistance)) | \(p.far ? "far" : "") |")
            }
            out.append("")
        }
        if !b.pairs.isEmpty {
            out.append(
                "Rewordings: \(b.pairs.count) pairs, mean distance \(f3(b.meanPairDistance)) "
                    + "against \(f3(b.meanUnrelatedDistance)) between unrelated prompts of the "
                    + "same domain (ratio \(f2(b.rewordingRatio))). The pairs that move most:")
            out.append("")
            out.append("| pair | domain | distance | unrelated |")
            out.append("|---|---|---:|---:|")
            for p in b.pairs.sorted(by: { $0.distance > $1.distance }).prefix(10) {
                out.append(
                    "| \(p.first) / \(p.second) | \(p.domain) | \(f3(p.distance)) | "
                        + "\(f3(p.unrelated)) |")
            }
            out.append("")
        }

        // step 4
        let v = r.variance
        out.append("## 4. Performance variance")
        out.append("")
        out.append(
            "Quality score: mean log-likelihood per token (nats; higher is better) of the "
                + "prompt's reference given the prompt where it has one, else of the prompt's own "
                + "text. Overall mean \(f3(v.overallMean)), variance \(f3(v.totalVariance)) = "
                + "within domains \(f3(v.withinVariance)) + across domains "
                + "\(f3(v.betweenVariance)).")
        out.append("")
        out.append(
            "| domain | prompts | mean | sd | median | min | max | below the mean of means |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for s in v.domains {
            out.append(
                "| \(s.domain) | \(s.prompts) | \(f3(s.mean)) | \(f3(s.standardDeviation)) | "
                    + "\(f3(s.median)) | \(f3(s.minimum)) | \(f3(s.maximum)) | \(f3(s.gap)) |")
        }
        out.append("")
        if !v.outliers.isEmpty {
            out.append("Outliers (robust z against their domain):")
            out.append("")
            out.append("| prompt | domain | score | z | scored tokens |")
            out.append("|---|---|---:|---:|---:|")
            for o in v.outliers.prefix(25) {
                out.append(
                    "| \(o.id) | \(o.domain) | \(f3(o.score)) | \(f2(o.robustZ)) | "
                        + "\(o.scoredTokens)\(o.reference ? " (reference)" : "") |")
            }
            out.append("")
        }

        // step 5
        let s = r.stability
        out.append("## 5. Longitudinal stability")
        out.append("")
        out.append(
            "The stability set: the first prompts of each domain, round robin in domain order "
                + "(\(s.prompts.count) prompts, \(s.tokens) tokens, \(s.decisions) routing "
                + "decisions). First run at \(s.baselineThreads) threads; each rerun goes through "
                + "the set in another order with one other prompt before each. "
                + "\(s.fragileDecisions) decisions (\(pct(s.fragileShare))) are fragile; the "
                + "smallest top-k margin is \(String(format: "%.2e", s.minimumMargin)).")
        out.append("")
        out.append(
            "| rerun threads | prompts | decisions | differing | of them fragile | retokenized | largest probability change |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        for run in s.reruns {
            out.append(
                "| \(run.threads) | \(run.prompts) | \(run.decisions) | \(run.differing) | "
                    + "\(run.differingFragile) | \(run.retokenized) | "
                    + "\(String(format: "%.2e", run.maxProbabilityDifference)) |")
        }
        out.append("")
        if !s.mismatches.isEmpty {
            out.append("First differing decisions:")
            out.append("")
            out.append("| prompt | threads | token | layer | first run | rerun | margin |")
            out.append("|---|---:|---:|---:|---|---|---:|")
            for x in s.mismatches {
                out.append(
                    "| \(x.id) | \(x.threads) | \(x.token) | \(x.layer) | \(list(x.first)) | "
                        + "\(list(x.rerun)) | \(String(format: "%.2e", x.margin)) |")
            }
            out.append("")
        }

        // thresholds
        out.append("## Thresholds")
        out.append("")
        out.append("Change any with `--set NAME=VALUE`.")
        out.append("")
        out.append("| name | value | default | meaning |")
        out.append("|---|---:|---:|---|")
        for t in r.thresholds {
            out.append(
                "| `\(t.name)` | \(number(t.value)) | \(number(t.defaultValue)) | \(t.meaning) |")
        }
        out.append("")
        return out.joined(separator: "\n")
    }

    /// Expert column labels: the last digit of each id.
    static func experts(_ count: Int) -> String {
        String((0..<count).map { Character(String($0 % 10)) })
    }

    static func list(_ values: [Int]) -> String {
        values.isEmpty ? "" : values.map(String.init).joined(separator: " ")
    }

    /// A threshold value: whole numbers without a fraction.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(value)
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    /// The highest top rate of a profile and where: "L3 E5".
    static func top(_ p: DomainProfile, _ m: ModelDescription) -> (Double, String) {
        guard let slot = p.topRate.indices.max(by: { p.topRate[$0] < p.topRate[$1] }) else {
            return (0, "")
        }
        return (p.topRate[slot], "L\(m.moeLayers[slot]) E\(p.topExpert[slot])")
    }

    /// Which layers get a per-domain grid: all up to `maxDomainGrids`, else evenly spread.
    static func gridLayers(_ count: Int) -> [Int] {
        guard count > maxDomainGrids else { return Array(0..<count) }
        return Array(
            Set((0..<maxDomainGrids).map { $0 * (count - 1) / (maxDomainGrids - 1) })
        ).sorted()
    }
}
