import Foundation
import MoERouting

/// Inline SVG heatmaps for the HTML report: one rectangle per cell with a `<title>` tooltip,
/// row and column labels, no script and no external file.
enum SVGHeatmap {
    /// An RGB colour as `#rrggbb`.
    static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        func byte(_ v: Double) -> Int { Int((min(1, max(0, v)) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", byte(r), byte(g), byte(b))
    }

    static func mix(_ a: (Double, Double, Double), _ b: (Double, Double, Double), _ t: Double)
        -> String
    {
        hex(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
    }

    static let under = (0.13, 0.40, 0.67)
    static let even = (0.97, 0.97, 0.97)
    static let over = (0.70, 0.09, 0.17)

    /// Relative load r = share × E on a diverging scale: blue under a fair share, near-white at
    /// it, red over it, saturating at a quarter and at four times; a dead expert is black.
    static func loadColour(_ r: Double) -> String {
        guard r > 0 else { return "#111111" }
        let t = max(-1, min(1, log2(r) / 2))
        return t < 0 ? mix(even, under, -t) : mix(even, over, t)
    }

    /// A divergence in [0, top] on a white-to-purple scale.
    static func divergenceColour(_ js: Double, top: Double) -> String {
        mix((0.98, 0.98, 0.98), (0.33, 0.15, 0.56), min(1, max(0, js / max(1e-9, top))))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
            of: "<", with: "&lt;"
        )
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A grid of `values[row][column]` with a colour and a tooltip per cell.
    static func render(
        rows: [String], columns: [String], values: [[Double]], colour: (Double) -> String,
        tooltip: (Int, Int, Double) -> String, maxWidth: Double = 900
    ) -> String {
        let labelWidth = Double(max(3, rows.map(\.count).max() ?? 3)) * 7.5 + 8
        let cell = max(6, min(28, (maxWidth - labelWidth) / Double(max(1, columns.count))))
        let rowHeight = max(12, min(22, cell))
        let header = 16.0
        let width = labelWidth + cell * Double(columns.count) + 2
        let height = header + rowHeight * Double(rows.count) + 2
        let labelEvery = max(1, Int((14 / cell).rounded(.up)))
        var svg = [
            String(
                format:
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                    + "font-family=\"monospace\" font-size=\"11\">", width, height)
        ]
        for (c, label) in columns.enumerated() where c % labelEvery == 0 {
            svg.append(
                String(
                    format: "<text x=\"%.1f\" y=\"12\" text-anchor=\"middle\">%@</text>",
                    labelWidth + cell * (Double(c) + 0.5), escape(label)))
        }
        for (r, label) in rows.enumerated() {
            let y = header + rowHeight * Double(r)
            svg.append(
                String(
                    format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>",
                    labelWidth - 6, y + rowHeight * 0.72, escape(label)))
            for (c, value) in values[r].enumerated() {
                svg.append(
                    String(
                        format:
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                            + "fill=\"%@\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>%@</title></rect>",
                        labelWidth + cell * Double(c), y, cell, rowHeight, colour(value),
                        escape(tooltip(r, c, value))))
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// A horizontal colour bar with labelled stops.
    static func legend(stops: [(Double, String)], colour: (Double) -> String, width: Double = 360)
        -> String
    {
        let steps = 60
        let lo = stops.first?.0 ?? 0
        let hi = stops.last?.0 ?? 1
        var svg = [
            String(
                format:
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"34\" "
                    + "font-family=\"monospace\" font-size=\"10\">", width + 40)
        ]
        for i in 0..<steps {
            let v = lo + (hi - lo) * (Double(i) + 0.5) / Double(steps)
            svg.append(
                String(
                    format: "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"14\" fill=\"%@\"/>",
                    20 + width * Double(i) / Double(steps), width / Double(steps) + 0.5, colour(v)))
        }
        for (value, label) in stops {
            svg.append(
                String(
                    format: "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\">%@</text>",
                    20 + width * (value - lo) / max(1e-9, hi - lo), escape(label)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}

/// The HTML report: the Markdown report's content with heatmap pictures, one file, no script.
public enum HTMLReport {
    public static func render(_ r: AuditReport) -> String {
        let m = r.model
        let esc = SVGHeatmap.escape
        let pct = { (v: Double) in String(format: "%.1f%%", v * 100) }
        let f3 = { (v: Double) in String(format: "%.3f", v) }
        let expertLabels = (0..<m.expertCount).map(String.init)
        // the load legend runs on log2(r) from −2 to 2
        let loadLegend = SVGHeatmap.legend(
            stops: [(-2, "¼ fair"), (-1, "½"), (0, "fair"), (1, "2×"), (2, "4×")],
            colour: { SVGHeatmap.loadColour(pow(2, $0)) })
        var html: [String] = []
        html.append(
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>moetop audit: \(esc(m.name))</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
            table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            .pass { background: #d9f2d9; } .warn { background: #fff1c2; } .fail { background: #f8c9c9; } .na { background: #eee; }
            .verdict { font-size: 1.4em; padding: 0.3em 0.6em; display: inline-block; border-radius: 4px; }
            figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
            .grid { display: flex; flex-wrap: wrap; gap: 1.2em; }
            code { background: #f4f4f4; padding: 0 0.2em; }
            </style></head><body>
            """)
        html.append("<h1>moetop audit: \(esc(m.name))</h1>")
        html.append(
            "<p><span class=\"verdict \(css(r.verdict))\">\(r.verdict.label)</span> "
                + esc(r.headline) + "</p>")
        html.append(
            "<p>\(esc(m.architecture)), \(m.moeLayers.count) MoE layers × \(m.expertCount) experts, "
                + "top-\(m.expertsPerToken), \(m.totalParameters) parameters. Prompts: "
                + "<code>\(esc(r.promptDirectory))</code>, \(r.domains.count) domains, "
                + "\(r.promptCount) prompts, \(r.pairCount) rewording pairs, stability set of "
                + "\(r.stabilityCount). Threads \(r.baselineThreads), reruns at "
                + r.rerunThreads.map(String.init).joined(separator: " and ")
                + ". Exit status 1 when any check fails.</p>")

        // checks
        html.append(
            "<h2>Checks</h2><table><tr><th>step</th><th>check</th><th>verdict</th><th>the numbers behind it</th></tr>"
        )
        for c in r.checks {
            html.append(
                "<tr><td class=\"n\">\(c.step)</td><td>\(esc(c.title))</td>"
                    + "<td class=\"\(css(c.verdict))\">\(c.verdict.label)</td><td>\(esc(c.summary))</td></tr>"
            )
        }
        html.append("</table>")

        // step 1: layers × experts
        let d = r.distribution
        html.append("<h2>1. Routing distribution</h2>")
        html.append(
            "<p>\(d.prompts) prompts, \(d.tokens) tokens. Coverage \(pct(d.coverage)); "
                + "\(d.deadSlots) dead and \(d.rareSlots) rare (layer, expert) slots.</p>")
        html.append("<figure>")
        html.append(
            SVGHeatmap.render(
                rows: d.layers.map { "L\($0.layer)" }, columns: expertLabels,
                values: d.layers.map(\.relativeLoads), colour: SVGHeatmap.loadColour,
                tooltip: { row, col, value in
                    let l = d.layers[row]
                    return "layer \(l.layer), expert \(col): \(l.load[col]) activations, "
                        + "\(pct(l.shares[col])) of the layer, \(String(format: "%.2f", value))× fair"
                }))
        html.append(loadLegend)
        html.append(
            "<figcaption>Load of each expert (columns) in each MoE layer (rows), relative to a fair "
                + "share k/E: white is fair, red overloaded, blue underused, black dead.</figcaption></figure>"
        )
        html.append(
            "<table><tr><th>layer</th><th>top-3</th><th>H/ln E</th><th>Gini</th><th>Jain</th>"
                + "<th>dead</th><th>rare</th><th>verdict</th></tr>")
        for l in d.layers {
            html.append(
                "<tr><td class=\"n\">\(l.layer)</td><td class=\"n\">\(pct(l.top3Share))</td>"
                    + "<td class=\"n\">\(f3(l.normalizedEntropy))</td><td class=\"n\">\(f3(l.gini))</td>"
                    + "<td class=\"n\">\(f3(l.jainIndex))</td>"
                    + "<td>\(MarkdownReport.list(l.deadExperts))</td><td>\(MarkdownReport.list(l.rareExperts))</td>"
                    + "<td class=\"\(css(l.verdict))\">\(l.verdict.label) \(esc(l.reasons.joined(separator: ", ")))</td></tr>"
            )
        }
        html.append("</table>")

        // step 2: domain × expert per layer, and domain × domain divergence
        let c = r.coverage
        html.append("<h2>2. Coverage by domain</h2>")
        html.append("<div class=\"grid\">")
        for slot in m.moeLayers.indices {
            let profiles = c.profiles.filter { slot < $0.shares.count }
            html.append("<figure>")
            html.append(
                SVGHeatmap.render(
                    rows: profiles.map(\.domain), columns: expertLabels,
                    values: profiles.map { $0.shares[slot].map { $0 * Double(m.expertCount) } },
                    colour: SVGHeatmap.loadColour,
                    tooltip: { row, col, value in
                        "\(profiles[row].domain), layer \(m.moeLayers[slot]), expert \(col): "
                            + "\(pct(profiles[row].shares[slot][col])), "
                            + "\(String(format: "%.2f", value))× fair"
                    }, maxWidth: m.expertCount > 32 ? 900 : 420))
            html.append(
                "<figcaption>Layer \(m.moeLayers[slot]): load per domain and expert</figcaption></figure>"
            )
        }
        html.append("</div>")
        html.append(loadLegend)
        if !c.domains.isEmpty {
            // the scale tops out at the largest divergence seen (at least 0.05 nats)
            let top = max(0.05, c.divergence.joined().max() ?? 0)
            html.append("<figure>")
            html.append(
                SVGHeatmap.render(
                    rows: c.domains, columns: c.domains.map { String($0.prefix(3)) },
                    values: c.divergence, colour: { SVGHeatmap.divergenceColour($0, top: top) },
                    tooltip: { row, col, value in
                        "\(c.domains[row]) vs \(c.domains[col]): JS \(f3(value)) nats"
                    }, maxWidth: 520))
            html.append(
                SVGHeatmap.legend(
                    stops: [
                        (0, "0"), (top / 2, String(format: "%.3f", top / 2)),
                        (top, String(format: "%.3f nats", top)),
                    ],
                    colour: { SVGHeatmap.divergenceColour($0, top: top) }))
            html.append(
                "<figcaption>Jensen-Shannon divergence between domains' routing, mean over layers "
                    + "(mean over pairs \(f3(c.meanDivergence)) nats).</figcaption></figure>")
        }
        html.append(
            "<table><tr><th>domain</th><th>prompts</th><th>tokens</th><th>top rate</th>"
                + "<th>batch top rate</th><th>batch shift</th></tr>")
        for p in c.profiles {
            let batch = c.batches.first { $0.profile.domain == p.domain }
            let (rate, place) = MarkdownReport.top(p, m)
            let (bRate, bPlace) = batch.map { MarkdownReport.top($0.profile, m) } ?? (0, "")
            html.append(
                "<tr><td>\(esc(p.domain))</td><td class=\"n\">\(p.prompts)</td><td class=\"n\">\(p.tokens)</td>"
                    + "<td>\(pct(rate)) \(place)</td><td>\(batch == nil ? "" : "\(pct(bRate)) \(bPlace)")</td>"
                    + "<td class=\"n\">\(batch.map { f3($0.meanShift) } ?? "")</td></tr>")
        }
        html.append("</table>")
        if !c.specialists.isEmpty {
            html.append(
                "<p>Specialists, strongest first:</p><table><tr><th>layer</th><th>expert</th><th>domain</th><th>share there</th><th>overall</th><th>ratio</th></tr>"
            )
            for s in c.specialists.prefix(20) {
                html.append(
                    "<tr><td class=\"n\">\(s.layer)</td><td class=\"n\">\(s.expert)</td><td>\(esc(s.domain))</td>"
                        + "<td class=\"n\">\(pct(s.domainShare))</td><td class=\"n\">\(pct(s.overallShare))</td>"
                        + "<td class=\"n\">\(String(format: "%.2f", s.ratio))</td></tr>")
            }
            html.append("</table>")
        }

        // steps 3 to 5: the tables of the Markdown report's summaries
        let b = r.boundary
        html.append("<h2>3. Boundary cases</h2>")
        html.append(
            "<p>\(b.farCount) of \(b.prompts.count) boundary prompts are far from both parents. "
                + "Rewordings: mean distance \(f3(b.meanPairDistance)) against "
                + "\(f3(b.meanUnrelatedDistance)) for unrelated prompts (ratio "
                + "\(String(format: "%.2f", b.rewordingRatio))).</p>")
        if !b.prompts.isEmpty {
            html.append(
                "<table><tr><th>prompt</th><th>parents: distance (ratio)</th><th>nearest</th><th></th></tr>"
            )
            for p in b.prompts.sorted(by: { ($0.ratios.min() ?? 0) > ($1.ratios.min() ?? 0) })
                .prefix(30)
            {
                let parts = p.parents.indices.map {
                    "\(p.parents[$0]) \(f3(p.distances[$0])) (\(String(format: "%.2f", p.ratios[$0])))"
                }.joined(separator: "; ")
                html.append(
                    "<tr><td>\(esc(p.id))</td><td>\(esc(parts))</td><td>\(esc(p.nearestDomain))</td>"
                        + "<td class=\"\(p.far ? "warn" : "")\">\(p.far ? "far" : "")</td></tr>")
            }
            html.append("</table>")
        }
        let v = r.variance
        html.append("<h2>4. Performance variance</h2>")
        html.append(
            "<p>Mean log-likelihood per token, nats. Variance within domains "
                + "\(f3(v.withinVariance)), across domains \(f3(v.betweenVariance)).</p>")
        html.append(
            "<table><tr><th>domain</th><th>prompts</th><th>mean</th><th>sd</th><th>min</th><th>max</th><th>gap</th></tr>"
        )
        for s in v.domains {
            html.append(
                "<tr><td>\(esc(s.domain))</td><td class=\"n\">\(s.prompts)</td><td class=\"n\">\(f3(s.mean))</td>"
                    + "<td class=\"n\">\(f3(s.standardDeviation))</td><td class=\"n\">\(f3(s.minimum))</td>"
                    + "<td class=\"n\">\(f3(s.maximum))</td><td class=\"n\">\(f3(s.gap))</td></tr>")
        }
        html.append("</table>")
        if !v.outliers.isEmpty {
            html.append(
                "<p>Outliers: "
                    + esc(
                        v.outliers.prefix(25).map {
                            "\($0.id) (\(f3($0.score)), z \(String(format: "%.1f", $0.robustZ)))"
                        }.joined(separator: ", "))
                    + "</p>")
        }
        let s = r.stability
        html.append("<h2>5. Longitudinal stability</h2>")
        html.append(
            "<p>\(s.prompts.count) prompts, \(s.decisions) routing decisions, "
                + "\(s.fragileDecisions) fragile (\(pct(s.fragileShare))).</p>")
        html.append(
            "<table><tr><th>threads</th><th>decisions</th><th>differing</th><th>fragile among them</th><th>largest probability change</th></tr>"
        )
        for run in s.reruns {
            html.append(
                "<tr><td class=\"n\">\(run.threads)</td><td class=\"n\">\(run.decisions)</td>"
                    + "<td class=\"n\">\(run.differing)</td><td class=\"n\">\(run.differingFragile)</td>"
                    + "<td class=\"n\">\(String(format: "%.2e", run.maxProbabilityDifference))</td></tr>"
            )
        }
        html.append("</table>")

        // thresholds
        html.append("<h2>Thresholds</h2><p>Change any with <code>--set NAME=VALUE</code>.</p>")
        html.append("<table><tr><th>name</th><th>value</th><th>default</th><th>meaning</th></tr>")
        for t in r.thresholds {
            html.append(
                "<tr><td><code>\(esc(t.name))</code></td><td class=\"n\">\(MarkdownReport.number(t.value))</td>"
                    + "<td class=\"n\">\(MarkdownReport.number(t.defaultValue))</td><td>\(esc(t.meaning))</td></tr>"
            )
        }
        html.append("</table></body></html>")
        return html.joined(separator: "\n")
    }

    static func css(_ verdict: Verdict) -> String {
        switch verdict {
        case .notApplicable: "na"
        case .pass: "pass"
        case .warn: "warn"
        case .fail: "fail"
        }
    }
}
