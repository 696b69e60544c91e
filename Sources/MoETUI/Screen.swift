import MoERouting

/// Which program drives the screen.
public enum ScreenKind: String, Sendable {
    case live, replay, demo
}

/// The status line's live figures.
public struct StatusInfo: Sendable, Equatable {
    public var phase: ActivityPhase = .idle
    /// Decode throughput, when known.
    public var tokensPerSecond: Double?
    /// The trace being recorded, if any.
    public var recordingPath: String?
    /// A short message (an error, "baseline saved"), shown until replaced.
    public var message: String?

    public init() {}
}

/// The prompt line of a live session.
public struct PromptLine: Sendable, Equatable {
    public var text: String
    /// Cursor position in characters.
    public var cursor: Int
    public var focused: Bool

    public init(text: String = "", cursor: Int = 0, focused: Bool = true) {
        self.text = text
        self.cursor = cursor
        self.focused = focused
    }
}

/// The replay transport line.
public struct TransportLine: Sendable, Equatable {
    public var playing: Bool
    public var speed: Double
    /// Tokens shown, and in the trace.
    public var position: Int
    public var total: Int
    /// Digits typed so far for a seek, if any.
    public var seekInput: String?

    public init(playing: Bool, speed: Double, position: Int, total: Int, seekInput: String? = nil) {
        self.playing = playing
        self.speed = speed
        self.position = position
        self.total = total
        self.seekInput = seekInput
    }
}

/// The last line of the screen.
public enum BottomLine: Sendable, Equatable {
    case prompt(PromptLine)
    case transport(TransportLine)
    case caption(String)
}

/// Everything a frame is built from.
public struct ScreenContext: Sendable {
    public var history: RoutingHistory
    public var view: ViewState
    public var theme: Theme
    public var glyphs: Glyphs
    /// No colour at all (`NO_COLOR` or a terminal without colour).
    public var colorless: Bool
    public var kind: ScreenKind
    public var status: StatusInfo
    public var bottom: BottomLine

    public init(
        history: RoutingHistory, view: ViewState = ViewState(), theme: Theme = .dark,
        glyphs: Glyphs = .unicode, colorless: Bool = false, kind: ScreenKind = .live,
        status: StatusInfo = StatusInfo(), bottom: BottomLine = .prompt(PromptLine())
    ) {
        self.history = history
        self.view = view
        self.theme = theme
        self.glyphs = glyphs
        self.colorless = colorless
        self.kind = kind
        self.status = status
        self.bottom = bottom
    }

    /// A style in the theme's colours; colours are dropped when colourless.
    func style(_ foreground: RGB?, on background: RGB? = nil, _ attributes: Attributes = [])
        -> Style
    {
        if colorless { return Style(nil, on: nil, attributes) }
        return Style(foreground, on: background ?? theme.background, attributes)
    }

    /// " · " between parts of a title.
    var separator: String { " \(glyphs.dot) " }

    /// Plain text style.
    var textStyle: Style { style(theme.text) }
    /// Labels and secondary figures.
    var labelStyle: Style { style(theme.label, colorless ? [.dim] : []) }
}

/// Facts about a built frame that key handling needs (how far zoom can go, page sizes).
public struct FrameInfo: Sendable, Equatable {
    /// The zoom steps that change the heatmap at this size.
    public var zoomLimits: ClosedRange<Int> = 0...0
    /// Tokens per text row, roughly, for PgUp/PgDn.
    public var textPageTokens = 1
    /// Layer rows visible in the heatmap, for PgUp/PgDn.
    public var layerPage = 1
    public var layout: Layout?

    public init() {}
}

/// Builds frames from a `ScreenContext`. Pure: no terminal needed.
public enum FrameBuilder {
    /// The frame for a screen of `width` x `height` cells.
    public static func build(_ context: ScreenContext, width: Int, height: Int) -> (
        Frame, FrameInfo
    ) {
        var frame = Frame(width: width, height: height, fill: Cell(" ", context.textStyle))
        var info = FrameInfo()

        // size gate: below the minimum, a notice that recovers when the window grows
        guard
            let layout = Layout.make(width: width, height: height, expanded: context.view.expanded)
        else {
            drawTooSmall(&frame, context)
            return (frame, info)
        }
        info.layout = layout

        // panes (an expanded pane leaves the others empty)
        if !layout.text.isEmpty { TextPane.draw(&frame, layout.text, context, &info) }
        if !layout.router.isEmpty { RouterPane.draw(&frame, layout.router, context, &info) }
        if !layout.experts.isEmpty { ExpertsPane.draw(&frame, layout.experts, context) }
        if !layout.parameters.isEmpty {
            ParametersPane.draw(&frame, layout.parameters, context)
        }
        StatusBar.draw(&frame, layout.statusLine, context)
        BottomBar.draw(&frame, layout.bottomLine, context)

        if context.view.showHelp { HelpOverlay.draw(&frame, context) }
        return (frame, info)
    }

    /// "terminal too small", centred, cut to whatever fits (down to 1x1).
    static func drawTooSmall(_ frame: inout Frame, _ context: ScreenContext) {
        let lines = [
            "terminal too small",
            "need \(Layout.minimumWidth)x\(Layout.minimumHeight), have \(frame.width)x\(frame.height)",
            "q quits",
        ]
        let top = max(0, (frame.height - lines.count) / 2)
        for (index, line) in lines.enumerated() where top + index < frame.height {
            let x = max(0, (frame.width - line.count) / 2)
            let style =
                index == 0 ? context.style(context.theme.warning, [.bold]) : context.textStyle
            frame.text(line, x: x, y: top + index, style, limit: frame.width - x)
        }
    }

    /// A btop-style box: rounded corners, the title set into the top edge, highlighted when
    /// focused. Returns the inner rectangle.
    @discardableResult
    static func drawBox(
        _ frame: inout Frame, _ rect: Rect, title: String, color: RGB?, focused: Bool,
        _ context: ScreenContext, titleRight: String? = nil
    ) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else {
            return Rect(x: 0, y: 0, width: 0, height: 0)
        }
        let g = context.glyphs
        let borderColor = focused ? context.theme.highlight : color
        let border = context.style(borderColor, focused ? [.bold] : [])
        let h = g.horizontal.unicodeScalars.first!
        let v = g.vertical.unicodeScalars.first!
        for x in rect.x + 1..<rect.maxX - 1 {
            frame.set(x, rect.y, h, border)
            frame.set(x, rect.maxY - 1, h, border)
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            frame.set(rect.x, y, v, border)
            frame.set(rect.maxX - 1, y, v, border)
        }
        frame.set(rect.x, rect.y, g.topLeft.unicodeScalars.first!, border)
        frame.set(rect.maxX - 1, rect.y, g.topRight.unicodeScalars.first!, border)
        frame.set(rect.x, rect.maxY - 1, g.bottomLeft.unicodeScalars.first!, border)
        frame.set(rect.maxX - 1, rect.maxY - 1, g.bottomRight.unicodeScalars.first!, border)

        // title: " Title " after two border cells; a right-hand note before the corner
        let titleStyle = context.style(
            focused ? context.theme.highlight : context.theme.title,
            focused ? [.bold, .reverse] : [.bold])
        let room = rect.width - 4
        var used = 0
        if room > 2 {
            used = frame.text(" " + title + " ", x: rect.x + 2, y: rect.y, titleStyle, limit: room)
        }
        if let titleRight, room - used > DisplayWidth.of(titleRight) + 3 {
            let width = DisplayWidth.of(titleRight) + 2
            frame.text(
                " " + titleRight + " ", x: rect.maxX - 2 - width, y: rect.y, context.labelStyle,
                limit: width)
        }
        return rect.inset(1)
    }

    /// Draws "label value  label value ..." while whole pairs fit before `limit`.
    static func drawPairs(
        _ frame: inout Frame, x: Int, y: Int, limit: Int,
        _ pairs: [(label: String, value: String, style: Style)], _ context: ScreenContext
    ) {
        var x = x
        for (index, pair) in pairs.enumerated() {
            let gap = index == 0 ? "" : "  "
            let width = DisplayWidth.of(gap + pair.label + " " + pair.value)
            guard x + width <= limit else { return }
            x += frame.text(gap + pair.label + " ", x: x, y: y, context.labelStyle)
            x += frame.text(pair.value, x: x, y: y, pair.style)
        }
    }
}
