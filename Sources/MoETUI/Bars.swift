import Foundation
import MoERouting

/// The status line: model and shape on the left; phase, speed and recording on the right.
enum StatusBar {
    static func draw(_ frame: inout Frame, _ rect: Rect, _ context: ScreenContext) {
        let model = context.history.model
        let theme = context.theme
        let dot = " \(context.glyphs.dot) "
        frame.fill(rect, " ", context.textStyle)

        // right side first, so the left side is cut instead
        var right: [(String, Style)] = []
        if context.view.frozen {
            right.append(("FROZEN", context.style(theme.warning, [.bold, .reverse])))
        }
        if let message = context.status.message {
            right.append((message, context.style(theme.warning, [.bold])))
        }
        let phase: String
        switch context.kind {
        case .replay: phase = "replay " + context.status.phase.rawValue
        case .demo: phase = "demo " + context.status.phase.rawValue
        case .live: phase = context.status.phase.rawValue
        }
        right.append((phase, context.style(theme.highlight, [.bold])))
        if let speed = context.status.tokensPerSecond, speed.isFinite {
            right.append((String(format: "%.1f tok/s", speed), context.textStyle))
        }
        if let path = context.status.recordingPath {
            let name = URL(fileURLWithPath: path).lastPathComponent
            right.append(
                ("\(context.glyphs.record) REC \(name)", context.style(theme.warning, [.bold])))
        }
        var rightWidth = 0
        for (index, item) in right.enumerated() {
            rightWidth += DisplayWidth.of(item.0) + (index > 0 ? DisplayWidth.of(dot) : 0)
        }
        rightWidth += 1

        // left: badge and model
        var x = rect.x
        x += frame.text(
            " moetop ", x: x, y: rect.y,
            context.style(theme.title, on: theme.selectedBackground, [.bold, .reverse]),
            limit: rect.width)
        // whole fields only, each in the longest form that fits; the name is cut if it must be
        let shared = model.sharedExpertCount > 0 ? " +\(model.sharedExpertCount) shared" : ""
        let shape = "\(model.moeLayers.count)x\(model.expertCount)"
        let fields: [[String]] = [
            [model.architecture],
            ["\(model.moeLayers.count) MoE layers x \(model.expertCount) experts", shape],
            ["top-\(model.expertsPerToken)" + shared, "top-\(model.expertsPerToken)"],
        ]
        let leftRoom = max(0, rect.maxX - rightWidth - x - 1)
        var left = " " + model.name
        for forms in fields {
            guard
                let fitting = forms.first(where: {
                    DisplayWidth.of(left + dot + $0) <= leftRoom
                })
            else { break }
            left += dot + fitting
        }
        frame.text(left, x: x, y: rect.y, context.textStyle, limit: leftRoom)

        // right
        var rx = max(x, rect.maxX - rightWidth)
        for (index, item) in right.enumerated() {
            if index > 0 {
                rx += frame.text(dot, x: rx, y: rect.y, context.labelStyle, limit: rect.maxX - rx)
            }
            rx += frame.text(item.0, x: rx, y: rect.y, item.1, limit: rect.maxX - rx)
        }
    }
}

/// The last line: the prompt of a live session, the replay transport, or the demo caption,
/// with key hints on the right where room is left.
enum BottomBar {
    static func draw(_ frame: inout Frame, _ rect: Rect, _ context: ScreenContext) {
        frame.fill(rect, " ", context.textStyle)
        let theme = context.theme
        let g = context.glyphs
        switch context.bottom {
        case .prompt(let prompt):
            let hints =
                prompt.focused ? "Enter send  Esc keys  ? help" : "Enter prompt  ? help  q quit"
            let hintWidth = DisplayWidth.of(hints) + 1
            let promptStyle = context.style(theme.highlight, [.bold])
            var x = rect.x
            x += frame.text("> ", x: x, y: rect.y, promptStyle)
            let room = max(1, rect.maxX - hintWidth - x - 1)
            // scroll the text so the cursor stays in view
            let characters = Array(prompt.text)
            let cursor = min(max(0, prompt.cursor), characters.count)
            var start = 0
            while DisplayWidth.of(String(characters[start..<cursor])) >= room && start < cursor {
                start += 1
            }
            let visible = String(characters[start...])
            let textStyle = prompt.focused ? context.style(theme.title) : context.labelStyle
            if visible.isEmpty && !prompt.focused {
                frame.text(
                    "press Enter to type a prompt", x: x, y: rect.y, context.labelStyle, limit: room
                )
            } else {
                frame.text(visible, x: x, y: rect.y, textStyle, limit: room)
            }
            if prompt.focused {
                frame.cursor = (x + DisplayWidth.of(String(characters[start..<cursor])), rect.y)
            }
            frame.text(
                hints, x: rect.maxX - hintWidth, y: rect.y, context.labelStyle, limit: hintWidth)
        case .transport(let transport):
            var x = rect.x + 1
            let symbol = transport.playing ? g.play : g.pause
            x += frame.text(
                "\(symbol) " + speedText(transport.speed), x: x, y: rect.y,
                context.style(theme.highlight, [.bold]))
            x += 1
            let counter =
                transport.seekInput.map { "seek \($0)_ of \(transport.total)" }
                ?? "\(transport.position)/\(transport.total)"
            let hints = "space , . [ ] Home End  ? help"
            let hintWidth = DisplayWidth.of(hints) + 1
            let counterWidth = DisplayWidth.of(counter) + 2
            let trackWidth = max(0, rect.maxX - x - counterWidth - hintWidth - 1)
            if trackWidth >= 4 {
                drawScrubber(&frame, x: x, y: rect.y, width: trackWidth, transport, context)
                x += trackWidth
            }
            x += frame.text(" " + counter, x: x, y: rect.y, context.textStyle, limit: rect.maxX - x)
            if rect.maxX - hintWidth > x {
                frame.text(hints, x: rect.maxX - hintWidth, y: rect.y, context.labelStyle)
            }
        case .caption(let caption):
            frame.text(
                " " + caption, x: rect.x, y: rect.y, context.style(theme.title, [.bold]),
                limit: rect.width)
        }
    }

    /// "1x", "0.25x", "32x".
    static func speedText(_ speed: Double) -> String {
        speed >= 1 && speed == speed.rounded()
            ? String(format: "%.0fx", speed) : String(format: "%.2gx", speed)
    }

    /// The scrubber: the played part thick, the knob at the position, the rest thin. Clicking
    /// it seeks.
    static func drawScrubber(
        _ frame: inout Frame, x: Int, y: Int, width: Int, _ transport: TransportLine,
        _ context: ScreenContext
    ) {
        let g = context.glyphs
        let total = max(1, transport.total)
        let knob = min(width - 1, transport.position * (width - 1) / total)
        for column in 0..<width {
            let scalar: Character =
                column < knob ? g.scrubDone : (column == knob ? g.scrubKnob : g.scrubTrack)
            let style =
                column <= knob
                ? context.style(context.theme.highlight, column == knob ? [.bold] : [])
                : context.labelStyle
            frame.set(x + column, y, scalar.unicodeScalars.first!, style)
            let position = (column * total + (width - 1) / 2) / max(1, width - 1)
            frame.hits.append(
                (Rect(x: x + column, y: y, width: 1, height: 1), .scrubber(position: position)))
        }
    }
}

/// The keys, for the help overlay and docs/screen.md: one table, so the two cannot drift.
public enum KeyHelp {
    /// (keys, what they do, where they work: "" everywhere, "live", "replay").
    public static let entries: [(keys: String, action: String, scope: String)] = [
        ("?  F1", "this help (any key closes it)", ""),
        ("q", "quit (in the prompt: Esc first)", ""),
        ("Ctrl-C", "stop generating; a second Ctrl-C quits", ""),
        ("Left Right", "previous / next token (in the heatmap: expert)", ""),
        ("Up Down", "previous / next MoE layer (Experts pane: scroll)", ""),
        ("PgUp PgDn", "a page of tokens (heatmap: of layers)", ""),
        ("Home End", "first / last token (replay: jump)", ""),
        ("Tab  S-Tab", "move focus between panes", ""),
        ("e  Esc", "expand the focused pane / back", ""),
        ("m", "heatmap mode: token, window, session, diff", ""),
        ("b", "save the session load as the diff baseline", ""),
        ("+  -  =", "zoom the expert axis in, out, fit", ""),
        ("f", "freeze the view (generation goes on)", ""),
        ("t", "next theme", ""),
        ("s", "start / stop recording a trace", "live"),
        ("Enter", "focus the prompt; in it, send", "live"),
        ("Esc", "leave the prompt for the keys above", "live"),
        ("Up Down", "in the prompt: history", "live"),
        ("space", "play / pause", "replay"),
        (",  .", "step back / forward one token", "replay"),
        ("[  ]", "slower / faster (0.25x to 32x)", "replay"),
        ("0-9 Enter", "seek to a token number", "replay"),
        ("mouse", "click a token, heatmap cell, bar or the scrubber", ""),
    ]
}

/// The help overlay: a box in the middle of the screen listing every key.
enum HelpOverlay {
    static func draw(_ frame: inout Frame, _ context: ScreenContext) {
        let entries = KeyHelp.entries.filter {
            $0.scope.isEmpty || ($0.scope == "live" && context.kind == .live)
                || ($0.scope == "replay" && context.kind == .replay)
        }
        let keyWidth = 12
        let width = min(frame.width - 2, 64)
        let height = min(frame.height - 2, entries.count + 3)
        guard width > 20, height > 4 else { return }
        let rect = Rect(
            x: (frame.width - width) / 2, y: (frame.height - height) / 2, width: width,
            height: height)
        frame.fill(
            rect, " ",
            context.style(context.theme.text, on: context.theme.background ?? RGB(20, 20, 28)))
        let inner = FrameBuilder.drawBox(
            &frame, rect, title: "keys", color: context.theme.highlight, focused: false, context,
            titleRight: "any key closes")
        for (index, entry) in entries.prefix(inner.height - 1).enumerated() {
            let y = inner.y + index
            frame.text(
                Format.fit(entry.keys, keyWidth), x: inner.x + 1, y: y,
                context.style(context.theme.highlight, [.bold]))
            frame.text(
                entry.action, x: inner.x + 1 + keyWidth, y: y, context.textStyle,
                limit: inner.width - keyWidth - 1)
        }
        frame.text(
            "themes: " + Theme.builtinNames.joined(separator: " "), x: inner.x + 1,
            y: inner.maxY - 1, context.labelStyle, limit: inner.width - 1)
    }
}
