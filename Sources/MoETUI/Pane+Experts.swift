import MoERouting

/// Expert utilisation bars of the selected layer: each expert's activation rate (share of
/// tokens that chose it) against the fair share k/E, most used first, with dead and rare
/// experts flagged and the layer's balance metrics underneath.
enum ExpertsPane {
    static func draw(_ frame: inout Frame, _ rect: Rect, _ context: ScreenContext) {
        let history = context.history
        let model = history.model
        let view = context.view
        let slot = min(max(0, view.selectedLayer), max(0, model.moeLayers.count - 1))
        // the window in token and window modes, the session in session and baseline modes
        let scope: CountScope =
            view.heatmapMode == .token || view.heatmapMode == .window ? .window : .session
        let tokens = history.counter.tokens(scope)
        let block = model.moeLayers.isEmpty ? 0 : model.moeLayers[slot]
        let scopeText = scope == .window ? "last \(tokens) tok" : "session \(tokens) tok"
        let inner = FrameBuilder.drawBox(
            &frame, rect, title: "Experts" + context.separator + "L\(block)",
            color: context.theme.expertsBox,
            focused: view.focus == .experts, context, titleRight: scopeText)
        guard inner.width > 10, inner.height > 0, model.expertCount > 0, !model.moeLayers.isEmpty
        else { return }
        frame.hits.append((rect, .pane(.experts)))

        let counts = history.counter.counts(scope, slot: slot)
        guard tokens > 0, let balance = LoadBalance(counts: counts) else {
            frame.text(
                "no tokens yet", x: inner.x, y: inner.y, context.labelStyle, limit: inner.width)
            return
        }

        // summary lines at the bottom, bars above
        let summaryLines = inner.height >= 4 ? 2 : (inner.height >= 2 ? 1 : 0)
        let barRows = inner.height - summaryLines
        let fair = model.fairShare
        let rates = counts.map { Double($0) / Double(tokens) }
        let order = rates.indices.sorted {
            rates[$0] != rates[$1] ? rates[$0] > rates[$1] : $0 < $1
        }
        let dead = Set(balance.deadExperts)
        let rare = Set(balance.rareExperts)

        // columns: "E127 " label, bar, " 31.2% 1.3x dead"
        let labelWidth = String(model.expertCount - 1).count + 2
        let figuresWidth = 16
        let barWidth = max(4, inner.width - labelWidth - figuresWidth)
        // full bar = the larger of the top rate and twice the fair share, so the fair tick shows
        let fullScale = max(rates.max() ?? 0, 2 * fair, 1e-9)
        let first = min(max(0, view.expertListScroll), max(0, order.count - barRows))
        let shown = order.dropFirst(first).prefix(max(0, barRows))
        let more = order.count - first - shown.count
        for (row, expert) in shown.enumerated() {
            let y = inner.y + row
            if row == barRows - 1 && more > 0 {
                let deadNote = dead.isEmpty ? "" : context.separator + "\(dead.count) dead"
                frame.text(
                    "\(context.glyphs.moreDown) \(more + 1) more\(deadNote)", x: inner.x, y: y,
                    context.labelStyle, limit: inner.width)
                break
            }
            drawBar(
                &frame, x: inner.x, y: y, expert: expert, rate: rates[expert], fair: fair,
                fullScale: fullScale, labelWidth: labelWidth, barWidth: barWidth,
                figuresWidth: figuresWidth, isDead: dead.contains(expert),
                isRare: rare.contains(expert),
                isSelected: expert == view.selectedExpert, context)
            frame.hits.append(
                (Rect(x: inner.x, y: y, width: inner.width, height: 1), .expertBar(expert: expert)))
        }

        // metrics: label and value pairs, as many as fit
        let valueStyle = context.style(context.theme.title, [.bold])
        if summaryLines >= 1 {
            FrameBuilder.drawPairs(
                &frame, x: inner.x, y: inner.maxY - summaryLines, limit: inner.maxX,
                [
                    ("H", Format.unit(balance.normalizedEntropy), valueStyle),
                    ("Gini", Format.unit(balance.gini), valueStyle),
                    ("top3", Format.percent(balance.top3Share), valueStyle),
                    ("Jain", Format.unit(balance.jainIndex), valueStyle),
                ], context)
        }
        if summaryLines >= 2 {
            let deadStyle =
                dead.isEmpty ? valueStyle : context.style(context.theme.dead, [.bold, .reverse])
            let rareStyle =
                rare.isEmpty ? valueStyle : context.style(context.theme.warning, [.bold])
            FrameBuilder.drawPairs(
                &frame, x: inner.x, y: inner.maxY - 1, limit: inner.maxX,
                [
                    ("dead", "\(dead.count)", deadStyle), ("rare", "\(rare.count)", rareStyle),
                    (
                        "fair", Format.percent(fair) + " " + String(context.glyphs.fairTick),
                        valueStyle
                    ),
                ], context)
        }
    }

    static func drawBar(
        _ frame: inout Frame, x: Int, y: Int, expert: Int, rate: Double, fair: Double,
        fullScale: Double, labelWidth: Int, barWidth: Int, figuresWidth: Int, isDead: Bool,
        isRare: Bool, isSelected: Bool, _ context: ScreenContext
    ) {
        let g = context.glyphs
        let labelStyle =
            isSelected
            ? context.style(context.theme.highlight, [.bold, .reverse])
            : context.style(context.theme.expert(expert), [.bold])
        frame.text(Format.fit("E\(expert)", labelWidth - 1), x: x, y: y, labelStyle)

        // the bar in eighths of a cell, coloured by its ratio to fair share
        let ratio = fair > 0 ? rate / fair : 0
        let color = context.theme.bar(RouterPane.heat(ratio: ratio))
        let barStyle = context.style(color, on: nil)
        let trackStyle = context.style(context.theme.meterBackground)
        let eighths = Int((rate / fullScale * Double(barWidth * 8)).rounded())
        let fairColumn = Int(fair / fullScale * Double(barWidth))
        let barX = x + labelWidth
        for column in 0..<barWidth {
            let filled = eighths - column * 8
            let scalar: Unicode.Scalar
            var style = barStyle
            if filled >= 8 {
                scalar = g.barEighths.last!.unicodeScalars.first!
            } else if filled > 0 {
                let index = min(g.barEighths.count - 1, filled * g.barEighths.count / 8)
                scalar = g.barEighths[index].unicodeScalars.first!
            } else if column == fairColumn {
                scalar = g.fairTick.unicodeScalars.first!
                style = context.labelStyle
            } else {
                scalar = g.barTrack.unicodeScalars.first!
                style = trackStyle
            }
            frame.set(barX + column, y, scalar, style)
        }

        // figures: rate, ratio to fair, flag
        var figures = " " + Format.fit(Format.percent(rate), 5, right: true)
        figures +=
            " "
            + Format.fit(
                ratio >= 9.95 ? String(format: "%.0fx", ratio) : String(format: "%.1fx", ratio), 4,
                right: true)
        let flag = isDead ? " dead" : (isRare ? " rare" : "")
        let figureStyle = context.textStyle
        var fx = barX + barWidth
        fx += frame.text(figures, x: fx, y: y, figureStyle, limit: figuresWidth)
        if !flag.isEmpty {
            let style = context.style(isDead ? context.theme.dead : context.theme.warning, [.bold])
            frame.text(
                flag, x: fx, y: y, style,
                limit: max(0, x + labelWidth + barWidth + figuresWidth - fx))
        }
    }
}
