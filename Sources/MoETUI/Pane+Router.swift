import MoERouting

/// The router heatmap: MoE layers down, experts across. Mid colour is a fair share in every
/// mode (probability 1/E, or load k/E), so one gradient reads the same in each mode.
enum RouterPane {
    /// One heatmap cell's value.
    struct CellValue {
        /// 0...1 on the heat gradient; 0.5 is a fair share. In baseline mode a signed change
        /// in fair shares instead (0 unchanged).
        var heat: Double
        /// The selected token chose an expert in this cell.
        var chosen: Bool
        /// Nothing to show (no token, no data).
        var empty: Bool
        /// The cell's number as a fraction (probability, activation rate, or change in share),
        /// shown in percent on the selected cell.
        var number: Double = 0
    }

    /// Heat for a ratio to the fair share: r/(r+1), so 0 -> 0, fair -> 0.5, large -> 1.
    static func heat(ratio: Double) -> Double {
        guard ratio.isFinite, ratio > 0 else { return 0 }
        return ratio / (ratio + 1)
    }

    static func draw(
        _ frame: inout Frame, _ rect: Rect, _ context: ScreenContext, _ info: inout FrameInfo
    ) {
        let history = context.history
        let model = history.model
        let view = context.view
        let anchor = view.token(visibleCount: history.visibleCount)
        let mode = view.heatmapMode
        var title = "Router" + context.separator + mode.title
        if mode == .token, let anchor {
            title +=
                context.separator + "#\(anchor) "
                + quoted(history.piece(anchor), context.glyphs)
        } else if mode == .window {
            title += context.separator + "last \(history.counter.windowTokens) tok"
        }
        let inner = FrameBuilder.drawBox(
            &frame, rect, title: title, color: context.theme.routerBox,
            focused: view.focus == .router, context, titleRight: "m mode")
        guard inner.width > 4, inner.height > 0, !model.moeLayers.isEmpty, model.expertCount > 0
        else { return }
        frame.hits.append((rect, .pane(.router)))

        // geometry: label column, expert axis, margin
        let layerCount = model.moeLayers.count
        let labelWidth = String(model.moeLayers.last ?? 0).count + 2
        let marginWidth = inner.width >= 40 ? min(16, inner.width / 4) : 0
        let axisWidth = max(1, inner.width - labelWidth - marginWidth)
        let selectedExpert = min(max(0, view.selectedExpert), model.expertCount - 1)
        let geometry = HeatmapGeometry(
            expertCount: model.expertCount, axisWidth: axisWidth, zoom: view.zoom,
            selectedExpert: selectedExpert)
        info.zoomLimits = geometry.zoomLimits
        let hasFrame = inner.height >= 4
        let rowTop = inner.y + (hasFrame ? 1 : 0)
        let rowCount = max(1, inner.height - (hasFrame ? 2 : 0))
        let selectedLayer = min(max(0, view.selectedLayer), layerCount - 1)

        // rows: one layer per row, or two per row in half blocks, scrolled around the selection
        // (half blocks only when scrolling would hide more than a third of the layers)
        let halfBlocks =
            layerCount * 2 > rowCount * 3 && !context.colorless
            && context.glyphs.upperHalf != nil
        let layersPerRow = halfBlocks ? 2 : 1
        // few layers in a tall pane: up to three rows per layer (two coloured, one gap)
        let rowHeight = halfBlocks ? 1 : max(1, min(3, rowCount / layerCount))
        let paintedHeight = rowHeight == 3 ? 2 : rowHeight
        let totalRows = (layerCount + layersPerRow - 1) / layersPerRow
        let visibleRows = min(totalRows, rowCount / rowHeight)
        let selectedRow = selectedLayer / layersPerRow
        let firstRow = min(max(0, selectedRow - visibleRows / 2), totalRows - visibleRows)
        info.layerPage = max(1, visibleRows * layersPerRow)

        // values of every visible layer
        let axisX = inner.x + labelWidth
        let visibleBins = geometry.firstBin..<(geometry.firstBin + geometry.visibleBins)
        var rows: [Int: [CellValue]] = [:]
        for row in firstRow..<(firstRow + visibleRows) {
            for slot in row * layersPerRow..<min(layerCount, (row + 1) * layersPerRow) {
                rows[slot] = values(
                    slot: slot, anchor: anchor, mode: mode, geometry, visibleBins, history)
            }
        }

        // header: expert numbers at the cells where they fit
        if hasFrame {
            drawAxis(&frame, inner, axisX: axisX, geometry, selectedExpert, context)
        }

        // layer rows
        for row in firstRow..<(firstRow + visibleRows) {
            let top = rowTop + (row - firstRow) * rowHeight
            let y = top + (paintedHeight - 1) / 2
            let upper = row * layersPerRow
            let lower = halfBlocks && upper + 1 < layerCount ? upper + 1 : nil
            let isSelectedRow = selectedLayer == upper || selectedLayer == lower

            // label
            let label = "L\(model.moeLayers[upper])"
            let labelStyle =
                isSelectedRow
                ? context.style(context.theme.highlight, [.bold]) : context.labelStyle
            frame.text(Format.fit(label, labelWidth - 1, right: true), x: inner.x, y: y, labelStyle)
            frame.hits.append(
                (Rect(x: inner.x, y: y, width: labelWidth, height: 1), .heatRow(moeLayer: upper)))

            // cells
            for (index, bin) in visibleBins.enumerated() {
                let x = axisX + index * geometry.cellWidth
                let firstExpert = bin * geometry.binSize
                let selected =
                    isSelectedRow && geometry.experts(inBin: bin).contains(selectedExpert)
                if let lower {
                    drawHalfBlock(
                        &frame, x: x, y: y, top: rows[upper]![index], bottom: rows[lower]![index],
                        width: geometry.cellWidth, selected: selected, mode: mode, context)
                    frame.hits.append(
                        (
                            Rect(x: x, y: y, width: geometry.cellWidth, height: 1),
                            .heatCell(
                                moeLayer: selectedLayer == lower ? lower : upper,
                                expert: firstExpert)
                        ))
                } else {
                    let value = rows[upper]![index]
                    drawCell(
                        &frame, x: x, y: top, value: value, width: geometry.cellWidth,
                        height: paintedHeight, selected: selected,
                        number: percentLabel(value.number, mode: mode), mode: mode, context)
                    frame.hits.append(
                        (
                            Rect(x: x, y: top, width: geometry.cellWidth, height: rowHeight),
                            .heatCell(moeLayer: upper, expert: firstExpert)
                        ))
                }
            }

            // margin
            if marginWidth > 0 {
                let text = margin(slot: upper, anchor: anchor, mode: mode, history, context.glyphs)
                frame.text(
                    Format.fit(" " + text, marginWidth), x: inner.maxX - marginWidth, y: y,
                    context.labelStyle)
            }
        }

        // scroll marks and the footer describing the selected cell
        if firstRow > 0 {
            frame.text(String(context.glyphs.moreUp), x: inner.x, y: rowTop, context.labelStyle)
        }
        if firstRow + visibleRows < totalRows {
            frame.text(
                String(context.glyphs.moreDown), x: inner.x,
                y: rowTop + visibleRows * rowHeight - 1,
                context.labelStyle)
        }
        if hasFrame {
            let footer = describeSelection(
                slot: selectedLayer, expert: selectedExpert, anchor: anchor, mode: mode, geometry,
                history, halfBlocks: halfBlocks, glyphs: context.glyphs)
            frame.text(
                footer, x: inner.x, y: inner.maxY - 1, context.style(context.theme.text),
                limit: inner.width)
        }
    }

    /// The values of one layer's visible cells.
    static func values(
        slot: Int, anchor: Int?, mode: HeatmapMode, _ geometry: HeatmapGeometry,
        _ bins: Range<Int>, _ history: RoutingHistory
    ) -> [CellValue] {
        let e = history.model.expertCount
        let k = max(1, history.model.expertsPerToken)
        let record = anchor.flatMap { history.record(token: $0, moeLayer: slot) }
        var chosen = Array(repeating: false, count: e)
        for expert in record?.experts ?? [] where expert >= 0 && Int(expert) < e {
            chosen[Int(expert)] = true
        }
        func isChosen(_ experts: Range<Int>) -> Bool { experts.contains { chosen[$0] } }

        switch mode {
        case .token:
            guard let record else {
                return bins.map { _ in CellValue(heat: 0, chosen: false, empty: true) }
            }
            // probabilities, or the applied weights when the trace kept no probabilities
            var p = record.probabilities.count == e ? record.probabilities.map(Double.init) : []
            if p.isEmpty {
                p = Array(repeating: 0, count: e)
                for (expert, weight) in zip(record.experts, record.weights)
                where expert >= 0 && Int(expert) < e {
                    p[Int(expert)] = Double(weight)
                }
            }
            return bins.map { bin in
                let experts = geometry.experts(inBin: bin)
                let peak = experts.map { p[$0] }.max() ?? 0
                return CellValue(
                    heat: heat(ratio: peak * Double(e)), chosen: isChosen(experts), empty: false,
                    number: peak)
            }
        case .window, .session:
            let scope: CountScope = mode == .window ? .window : .session
            let tokens = history.counter.tokens(scope)
            guard tokens > 0 else {
                return bins.map { _ in CellValue(heat: 0, chosen: false, empty: true) }
            }
            let counts = history.counter.counts(scope, slot: slot)
            let fairPerExpert = Double(tokens * k) / Double(e)
            return bins.map { bin in
                let experts = geometry.experts(inBin: bin)
                let load = experts.reduce(0) { $0 + counts[$1] }
                let ratio = Double(load) / (fairPerExpert * Double(experts.count))
                return CellValue(
                    heat: heat(ratio: ratio), chosen: isChosen(experts), empty: false,
                    number: Double(load) / Double(tokens))
            }
        case .baseline:
            guard let baseline = history.baseline, slot < baseline.count,
                let now = LoadMetrics.shares(
                    history.counter.counts(.session, slot: slot).map(Double.init))
            else {
                return bins.map { _ in CellValue(heat: 0, chosen: false, empty: true) }
            }
            return bins.map { bin in
                let experts = geometry.experts(inBin: bin)
                let change = experts.reduce(0.0) { $0 + now[$1] - baseline[slot][$1] }
                // in units of the cell's fair share, so +1 is "one fair share more"
                let fair = Double(experts.count) / Double(e)
                return CellValue(
                    heat: change / fair, chosen: isChosen(experts), empty: false, number: change)
            }
        }
    }

    /// A cell's number in whole percent ("7", "42", "+3"); "99" stands for 99.5 % and more.
    static func percentLabel(_ fraction: Double, mode: HeatmapMode) -> String {
        let percent = Int((fraction * 100).rounded())
        if mode == .baseline { return percent > 0 ? "+\(min(percent, 9))" : "\(max(percent, -9))" }
        return String(min(99, max(0, percent)))
    }

    /// The colour of a value: the heat gradient, or for baseline mode heat_end for more load
    /// and bar_start for less, fading to heat_start at no change.
    static func color(_ value: CellValue, mode: HeatmapMode, _ theme: Theme) -> RGB {
        if value.empty { return theme.heatStart }
        if mode == .baseline {
            let amount = min(1, abs(value.heat))
            return value.heat >= 0
                ? theme.heatStart.mixed(with: theme.heatEnd, amount)
                : theme.heatStart.mixed(with: theme.barStart, amount)
        }
        return theme.heat(value.heat)
    }

    /// A glyph for a value without colour: density for heat, a minus for less load.
    static func densityGlyph(_ value: CellValue, mode: HeatmapMode, _ glyphs: Glyphs)
        -> Unicode.Scalar
    {
        if value.empty { return glyphs.shades[0].unicodeScalars.first! }
        if mode == .baseline {
            if value.heat < -0.25 { return "-" }
            if value.heat < 0.25 { return glyphs.shades[1].unicodeScalars.first! }
            return glyphs.shade(min(1, value.heat)).unicodeScalars.first!
        }
        return glyphs.shade(value.heat).unicodeScalars.first!
    }

    /// Draws one cell over `height` rows. The selected cell shows its number (a percentage)
    /// when it is at least two columns wide, else a dot; a chosen expert is marked.
    static func drawCell(
        _ frame: inout Frame, x: Int, y: Int, value: CellValue, width: Int, height: Int,
        selected: Bool, number: String?, mode: HeatmapMode, _ context: ScreenContext
    ) {
        let painted = HeatmapGeometry.paintedWidth(width)
        let marker = context.glyphs.chosen.unicodeScalars.first!
        let middle = (height - 1) / 2
        // the text the cell carries on its middle row: number when selected, marker when chosen
        var label = Array(repeating: Unicode.Scalar(" "), count: painted)
        if selected, let number, number.unicodeScalars.count <= painted - (value.chosen ? 1 : 0) {
            for (index, scalar) in number.unicodeScalars.enumerated() { label[index] = scalar }
        } else if selected, !value.chosen {
            label[painted - 1] = context.glyphs.selectedMark.unicodeScalars.first!
        }
        if value.chosen { label[painted - 1] = marker }

        if context.colorless {
            let glyph = densityGlyph(value, mode: mode, context.glyphs)
            for row in 0..<height {
                for column in 0..<painted {
                    var attributes: Attributes = selected ? [.reverse] : []
                    var scalar = glyph
                    if row == middle && label[column] != " " {
                        scalar = label[column]
                        attributes.insert(.bold)
                    }
                    frame.set(x + column, y + row, scalar, Style(nil, on: nil, attributes))
                }
            }
            return
        }
        let background =
            selected
            ? (context.theme.selectedText ?? RGB(255, 255, 255))
            : color(value, mode: mode, context.theme)
        let ink =
            selected
            ? color(value, mode: mode, context.theme).mixed(with: RGB(0, 0, 0), 0.3)
            : (background.luminance > 0.5 ? RGB(0, 0, 0) : RGB(255, 255, 255))
        for row in 0..<height {
            for column in 0..<painted {
                let scalar = row == middle ? label[column] : " "
                frame.set(x + column, y + row, scalar, Style(ink, on: background, [.bold]))
            }
        }
    }

    static func drawHalfBlock(
        _ frame: inout Frame, x: Int, y: Int, top: CellValue, bottom: CellValue, width: Int,
        selected: Bool, mode: HeatmapMode, _ context: ScreenContext
    ) {
        let painted = HeatmapGeometry.paintedWidth(width)
        let upper = context.glyphs.upperHalf!.unicodeScalars.first!
        let topColor =
            selected
            ? (context.theme.selectedText ?? RGB(255, 255, 255))
            : color(top, mode: mode, context.theme)
        let bottomColor = color(bottom, mode: mode, context.theme)
        for column in 0..<painted {
            frame.set(x + column, y, upper, Style(topColor, on: bottomColor))
        }
    }

    /// Expert numbers over the cells, spaced so that they do not collide; the selected one
    /// highlighted.
    static func drawAxis(
        _ frame: inout Frame, _ inner: Rect, axisX: Int, _ geometry: HeatmapGeometry,
        _ selectedExpert: Int, _ context: ScreenContext
    ) {
        let digits = String(geometry.expertCount - 1).count
        let every = max(1, (digits + 1 + geometry.cellWidth - 1) / geometry.cellWidth)
        var nextFree = axisX
        for index in 0..<geometry.visibleBins {
            let bin = geometry.firstBin + index
            let x = axisX + index * geometry.cellWidth
            let expert = bin * geometry.binSize
            let isSelected = geometry.experts(inBin: bin).contains(selectedExpert)
            guard isSelected || (bin % every == 0 && x >= nextFree) else { continue }
            let label = String(isSelected ? selectedExpert : expert)
            if isSelected {
                frame.fill(
                    Rect(x: x, y: inner.y, width: label.count + 1, height: 1), " ",
                    context.textStyle)
            }
            let style =
                isSelected ? context.style(context.theme.highlight, [.bold]) : context.labelStyle
            frame.text(label, x: x, y: inner.y, style, limit: inner.maxX - x)
            nextFree = x + label.count + 1
        }
        if geometry.firstBin > 0 {
            frame.text(
                String(context.glyphs.moreLeft), x: axisX - 1, y: inner.y, context.labelStyle)
        }
        if geometry.firstBin + geometry.visibleBins < geometry.binCount {
            frame.text(
                String(context.glyphs.moreRight),
                x: axisX + geometry.visibleBins * geometry.cellWidth,
                y: inner.y, context.labelStyle)
        }
    }

    /// The right margin of a layer row: normalised entropy, then the chosen (token mode) or
    /// most loaded experts, or in baseline mode the Jensen-Shannon divergence from it.
    static func margin(
        slot: Int, anchor: Int?, mode: HeatmapMode, _ history: RoutingHistory, _ glyphs: Glyphs
    ) -> String {
        let k = max(1, history.model.expertsPerToken)
        switch mode {
        case .token:
            guard let anchor, let record = history.record(token: anchor, moeLayer: slot) else {
                return ""
            }
            let entropy = LoadMetrics.normalizedEntropy(record.probabilities.map(Double.init))
            let ids = record.experts.map(String.init).joined(separator: " ")
            return "H" + Format.unit(entropy) + " " + ids
        case .window, .session:
            let load = history.counter.counts(mode == .window ? .window : .session, slot: slot)
                .map(Double.init)
            guard let top = LoadMetrics.topExperts(load, count: k) else { return "" }
            return "H" + Format.unit(LoadMetrics.normalizedEntropy(load)) + " "
                + top.map { String($0.expert) }.joined(separator: " ")
        case .baseline:
            guard let baseline = history.baseline, slot < baseline.count else { return "" }
            let load = history.counter.counts(.session, slot: slot).map(Double.init)
            return "JS" + Format.unit(LoadMetrics.jensenShannon(load, baseline[slot]))
        }
    }

    /// The footer: the selected cell's number and what it means.
    static func describeSelection(
        slot: Int, expert: Int, anchor: Int?, mode: HeatmapMode, _ geometry: HeatmapGeometry,
        _ history: RoutingHistory, halfBlocks: Bool, glyphs: Glyphs
    ) -> String {
        let model = history.model
        let block = model.moeLayers[slot]
        var text = "L\(block) E\(expert)"
        switch mode {
        case .token:
            guard let anchor, let record = history.record(token: anchor, moeLayer: slot) else {
                return text + "  no token yet"
            }
            if record.probabilities.count == model.expertCount {
                text += String(format: "  p %.3f", record.probabilities[expert])
            }
            if let rank = record.experts.firstIndex(of: Int32(expert)) {
                text += "  \(glyphs.chosen) #\(rank + 1)"
                if rank < record.weights.count {
                    text += String(format: " w %.2f", record.weights[rank])
                }
            } else {
                text += "  not chosen"
            }
            if !record.probabilities.isEmpty {
                text += String(format: "  margin %.3f", record.margin)
            }
        case .window, .session:
            let scope: CountScope = mode == .window ? .window : .session
            let tokens = history.counter.tokens(scope)
            guard tokens > 0 else { return text + "  no tokens yet" }
            let count = history.counter.counts(scope, slot: slot)[expert]
            let rate = Double(count) / Double(tokens)
            text += "  \(count)/\(tokens) tok  " + Format.percent(rate)
            text += "  fair " + Format.percent(model.fairShare)
            if model.fairShare > 0 { text += String(format: "  %.1fx", rate / model.fairShare) }
        case .baseline:
            guard let baseline = history.baseline else { return "press b to save a baseline" }
            let now = LoadMetrics.shares(
                history.counter.counts(.session, slot: slot).map(Double.init))
            let before = baseline[slot][expert]
            let after = now?[expert] ?? 0
            text += "  now " + Format.percent(after) + "  base " + Format.percent(before)
            text += String(format: "  %+.1f pt", (after - before) * 100)
        }
        if geometry.binSize > 1 { text += "  (\(geometry.binSize)/cell)" }
        if halfBlocks { text += "  2 layers/row" }
        return text
    }

    /// A token's text for a title: quoted, control characters shown as escapes, cut short.
    static func quoted(_ piece: String, _ glyphs: Glyphs) -> String {
        var shown = ""
        for scalar in piece.unicodeScalars.prefix(12) {
            switch scalar {
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            default:
                shown.unicodeScalars.append(
                    DisplayWidth.of(scalar) < 0 ? glyphs.replacement.unicodeScalars.first! : scalar)
            }
        }
        return "\"" + shown + "\""
    }
}
