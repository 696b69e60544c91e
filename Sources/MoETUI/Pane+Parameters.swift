import MoERouting

/// Parameter counters: total, active per token (configured, and as observed for the selected
/// token), shared experts, the share of all experts touched so far, and the bytes of weights
/// one token reads.
enum ParametersPane {
    /// The figures the pane shows, computed apart from drawing so the tests can check them.
    struct Figures: Equatable {
        var total: Int
        var activeConfigured: Int
        /// Active parameters of the selected token: the always-on part plus the experts it
        /// actually chose (with a non-zero weight) in every MoE layer. Nil without a token.
        var activeObserved: Int?
        var sharedPerLayer: Int
        /// (layer, expert) pairs chosen at least once over the session, and all of them.
        var touched: Int
        var touchable: Int
        /// Bytes the selected token read: always-active weights plus its experts'.
        var bytesRead: Int?
    }

    static func figures(_ history: RoutingHistory, token: Int?) -> Figures {
        let model = history.model
        let layers = model.moeLayers.count
        let routedConfigured = layers * model.expertsPerToken * model.parametersPerExpert
        let alwaysActive = model.activeParameters - routedConfigured
        var observed: Int?
        var bytes: Int?
        if let token {
            var chosen = 0
            for slot in 0..<layers {
                guard let record = history.record(token: token, moeLayer: slot) else { continue }
                var experts = Set<Int32>()
                for (index, expert) in record.experts.enumerated() {
                    let weight = index < record.weights.count ? record.weights[index] : 1
                    if weight != 0 { experts.insert(expert) }
                }
                chosen += experts.count
            }
            observed = alwaysActive + chosen * model.parametersPerExpert
            bytes = model.alwaysActiveBytes + chosen * model.bytesPerExpert
        }
        let counts = history.counter.allCounts(.session)
        let touched = counts.reduce(0) { $0 + $1.count(where: { $0 > 0 }) }
        return Figures(
            total: model.totalParameters, activeConfigured: model.activeParameters,
            activeObserved: observed, sharedPerLayer: model.sharedExpertCount, touched: touched,
            touchable: layers * model.expertCount, bytesRead: bytes)
    }

    static func draw(_ frame: inout Frame, _ rect: Rect, _ context: ScreenContext) {
        let history = context.history
        let model = history.model
        let anchor = context.view.token(visibleCount: history.visibleCount)
        let inner = FrameBuilder.drawBox(
            &frame, rect, title: "Parameters", color: context.theme.parametersBox,
            focused: context.view.focus == .parameters, context,
            titleRight: "\(model.moeLayers.count)x\(model.expertCount) top-\(model.expertsPerToken)"
        )
        guard inner.width > 10, inner.height > 0 else { return }
        frame.hits.append((rect, .pane(.parameters)))
        let f = figures(history, token: anchor)
        if context.kind == .demo, inner.height >= 5, inner.width >= 36 {
            drawLarge(&frame, inner, f, context)
            return
        }
        func share(_ part: Int) -> String {
            f.total > 0 ? Format.percent(Double(part) / Double(f.total)) : "–"
        }
        let rows: [(String, String, String)] = [
            ("total", Format.count(f.total), ""),
            (
                "active/token", Format.count(f.activeConfigured),
                share(f.activeConfigured) + " configured"
            ),
            (
                "  observed", f.activeObserved.map(Format.count) ?? "–",
                f.activeObserved.map { share($0) + (anchor.map { " token #\($0)" } ?? "") } ?? ""
            ),
            ("shared experts", "\(f.sharedPerLayer)/layer", ""),
            (
                "experts touched", "\(f.touched)/\(f.touchable)",
                f.touchable > 0 ? Format.percent(Double(f.touched) / Double(f.touchable)) : ""
            ),
            ("weights read", f.bytesRead.map(Format.bytes) ?? "–", "per token"),
        ]
        let nameWidth = 16
        let valueWidth = 10
        for (index, row) in rows.prefix(inner.height).enumerated() {
            let y = inner.y + index
            var x = inner.x
            x += frame.text(
                Format.fit(row.0, nameWidth), x: x, y: y, context.labelStyle, limit: inner.maxX - x)
            x += frame.text(
                Format.fit(row.1, valueWidth, right: true), x: x, y: y,
                context.style(context.theme.title, [.bold]), limit: inner.maxX - x)
            frame.text("  " + row.2, x: x, y: y, context.labelStyle, limit: inner.maxX - x)
        }
    }

    /// The demo's large counters: active parameters per token in three-row digits beside the
    /// total, then the experts touched and the bytes read.
    static func drawLarge(
        _ frame: inout Frame, _ inner: Rect, _ f: Figures, _ context: ScreenContext
    ) {
        let active = f.activeObserved ?? f.activeConfigured
        let (number, unit) = Format.countParts(active)
        let big = context.style(context.theme.highlight, [.bold])
        frame.text(
            "active parameters per token", x: inner.x, y: inner.y, context.labelStyle,
            limit: inner.width)
        var x = inner.x
        for character in number {
            guard let rows = context.glyphs.bigDigits[character] else { continue }
            for (row, text) in rows.enumerated() {
                frame.text(text, x: x, y: inner.y + 1 + row, big)
            }
            x += DisplayWidth.of(rows[0]) + 1
        }
        x += frame.text(unit, x: x, y: inner.y + 3, big)
        let share = f.total > 0 ? Format.percent(Double(active) / Double(f.total)) : "–"
        frame.text(
            "  of " + Format.count(f.total) + " (" + share + ")", x: x, y: inner.y + 3,
            context.textStyle, limit: inner.maxX - x)
        let touched =
            "experts touched \(f.touched)/\(f.touchable)" + context.separator
            + (f.bytesRead.map { Format.bytes($0) + " read/token" } ?? "")
        frame.text(touched, x: inner.x, y: inner.y + 4, context.textStyle, limit: inner.width)
    }
}
