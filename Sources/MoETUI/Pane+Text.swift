import MoERouting

/// The text pane: the session's tokens, each coloured by its top-1 expert at the selected
/// layer (Mixtral §5's figure, live), with the selected token reversed.
enum TextPane {
    /// One character placed by the wrapper.
    struct Placed {
        var token: Int
        var x: Int
        var row: Int
        var scalar: Unicode.Scalar
        var width: Int
    }

    /// Columns a tab advances to (multiples of this).
    static let tabStop = 4

    static func draw(
        _ frame: inout Frame, _ rect: Rect, _ context: ScreenContext, _ info: inout FrameInfo
    ) {
        let history = context.history
        let view = context.view
        let slot = min(view.selectedLayer, max(0, history.moeLayerCount - 1))
        let block = history.model.moeLayers.isEmpty ? 0 : history.model.moeLayers[slot]
        let title = "Text" + context.separator + "top-1 expert at L\(block)"
        let count = history.visibleCount
        let note = count == 0 ? nil : "\(count) tok"
        let inner = FrameBuilder.drawBox(
            &frame, rect, title: title, color: context.theme.textBox, focused: view.focus == .text,
            context, titleRight: note)
        guard inner.width > 0, inner.height > 0 else { return }
        frame.hits.append((rect, .pane(.text)))

        guard let anchor = view.token(visibleCount: count) else {
            let hint =
                context.kind == .replay
                ? "space plays the trace" : "type a prompt below, Enter sends"
            frame.text(hint, x: inner.x, y: inner.y, context.labelStyle, limit: inner.width)
            return
        }

        // wrap a stretch of tokens around the anchor: enough characters to fill the pane twice
        let budget = inner.width * inner.height * 2
        let start = max(0, anchor - budget)
        let end = min(count, anchor + budget)
        let placed = wrap(history, start..<end, width: inner.width, glyphs: context.glyphs)
        info.textPageTokens = max(
            1, (anchor - start) / max(1, placed.last?.row ?? 1) * inner.height)

        // rows to show: keep the anchor's row visible, near the bottom when following the end
        let anchorRow =
            placed.last(where: { $0.token == anchor })?.row
            ?? placed.last(where: { $0.token < anchor })?.row ?? 0
        let lastRow = placed.last?.row ?? 0
        var firstRow: Int
        if view.selectedToken == nil {
            firstRow = max(0, lastRow - inner.height + 1)
        } else {
            firstRow = max(0, anchorRow - inner.height / 2)
            firstRow = min(firstRow, max(0, lastRow - inner.height + 1))
        }

        // top-1 expert of each token at the selected layer, and the anchor's, for NO_COLOR
        func topExpert(_ token: Int) -> Int? {
            history.record(token: token, moeLayer: slot)?.experts.first.map(Int.init)
        }
        let anchorExpert = topExpert(anchor)
        var cache: [Int: Style] = [:]
        func style(for token: Int) -> Style {
            if let cached = cache[token] { return cached }
            var attributes: Attributes = []
            let expert = topExpert(token)
            if token == anchor { attributes.insert(.reverse) }
            if history.phase(token) == .prefill, !context.colorless {
                attributes.insert(.dim)
            }
            var style: Style
            if context.colorless {
                // without colour, underline the tokens that share the cursor's top-1 expert
                if token != anchor, let expert, expert == anchorExpert {
                    attributes.insert(.underline)
                }
                style = Style(nil, on: nil, attributes)
            } else {
                style = context.style(
                    expert.map { context.theme.expert($0) } ?? context.theme.text, attributes)
            }
            cache[token] = style
            return style
        }

        for item in placed where item.row >= firstRow && item.row < firstRow + inner.height {
            let y = inner.y + item.row - firstRow
            let x = inner.x + item.x
            frame.set(x, y, item.scalar, style(for: item.token))
            if item.width == 2 {
                frame.set(x + 1, y, Cell.continuationScalar, style(for: item.token))
            }
            frame.hits.append((Rect(x: x, y: y, width: item.width, height: 1), .token(item.token)))
        }
        if firstRow > 0 {
            frame.text(
                String(context.glyphs.moreUp), x: rect.maxX - 3, y: rect.y, context.labelStyle)
        }
    }

    /// Lays tokens out in rows of `width` columns: words wrap whole (a word longer than a row
    /// is broken), newlines break rows, tabs advance to the
    /// next stop, wide characters take two columns and wrap whole, control characters show as
    /// the replacement glyph. A token that is only a newline gets one cell at the end of its
    /// row so that it can be selected.
    static func wrap(_ history: RoutingHistory, _ range: Range<Int>, width: Int, glyphs: Glyphs)
        -> [Placed]
    {
        var placed: [Placed] = []
        var x = 0
        var row = 0
        // the word being placed: index of its first cell in `placed`, and its column
        var wordStart: Int?
        var wordX = 0
        let replacement = glyphs.replacement.unicodeScalars.first!
        for token in range {
            var visible = false
            for scalar in history.piece(token).unicodeScalars {
                if scalar == "\n" {
                    if !visible {
                        placed.append(
                            Placed(
                                token: token, x: min(x, width - 1), row: row, scalar: " ", width: 1)
                        )
                    }
                    visible = true
                    x = 0
                    row += 1
                    wordStart = nil
                    continue
                }
                if scalar == "\r" { continue }
                if scalar == "\t" {
                    let next = min(width, (x / tabStop + 1) * tabStop)
                    for column in x..<next {
                        placed.append(
                            Placed(token: token, x: column, row: row, scalar: " ", width: 1))
                    }
                    visible = true
                    x = next
                    if x >= width { x = 0; row += 1 }
                    wordStart = nil
                    continue
                }
                var shown = scalar
                var columns = DisplayWidth.of(scalar)
                if columns == 0 { continue }
                if columns < 0 {
                    shown = replacement
                    columns = 1
                }
                if columns > width { continue }
                if shown == " " {
                    wordStart = nil
                } else if wordStart == nil || columns == 2 {
                    // a wide character (CJK) may start a row on its own
                    wordStart = placed.count
                    wordX = x
                }
                if x + columns > width {
                    if shown != " ", let start = wordStart, start < placed.count, wordX > 0 {
                        // the word so far moves down to start the next row
                        for index in start..<placed.count {
                            placed[index].x -= wordX
                            placed[index].row += 1
                        }
                        x -= wordX
                        row += 1
                        wordX = 0
                    }
                    if x + columns > width {
                        x = 0
                        row += 1
                        if shown != " " {
                            wordStart = placed.count
                            wordX = 0
                        }
                    }
                }
                placed.append(Placed(token: token, x: x, row: row, scalar: shown, width: columns))
                visible = true
                x += columns
            }
            // an empty piece (bytes held back for a later character) takes no cell
        }
        return placed
    }
}
