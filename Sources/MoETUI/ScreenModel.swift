import MoERouting

/// What the program around the screen must do after a key.
public enum ScreenRequest: Equatable, Sendable {
    case quit
    /// Live: start a turn with this prompt.
    case send(String)
    /// Live: stop the turn being generated.
    case stopGeneration
    /// Live: start or stop recording a trace.
    case toggleRecording
}

/// The whole state of the screen, and what each key does to it. Pure: the tests drive it
/// with keys and check the frames it builds; the event loop owns one on the screen thread.
public struct ScreenModel: Sendable {
    /// Every token so far (live) or of the trace (replay).
    public private(set) var history: RoutingHistory
    /// The history as it was when `f` froze the view, while frozen.
    public private(set) var frozenHistory: RoutingHistory?
    public var view = ViewState()
    public var editor = LineEditor()
    public var transport: ReplayTransport?
    public let kind: ScreenKind
    public var status = StatusInfo()
    public var themes: [Theme]
    public var themeIndex = 0
    public var glyphs: Glyphs
    public var colorless: Bool
    /// Live: a turn is being generated.
    public var generating = false
    /// A Ctrl-C asked the engine to stop and it has not finished yet: the next Ctrl-C quits.
    public var stopPending = false
    /// Demo: the caption on the bottom line.
    public var caption = ""

    public init(
        history: RoutingHistory, kind: ScreenKind, themes: [Theme] = [.dark],
        glyphs: Glyphs = .unicode, colorless: Bool = false
    ) {
        self.history = history
        self.kind = kind
        self.themes = themes.isEmpty ? [.dark] : themes
        self.glyphs = glyphs
        self.colorless = colorless
        if kind == .replay {
            transport = ReplayTransport(total: history.count)
            self.history.show(upTo: 0)
            view.focus = .text
        }
        if kind == .live { view.focus = .prompt }
    }

    /// The history the panes draw: frozen or live.
    public var displayed: RoutingHistory { frozenHistory ?? history }

    public var theme: Theme { themes[themeIndex % themes.count] }

    /// Everything the frame builder needs.
    public var context: ScreenContext {
        let bottom: BottomLine
        switch kind {
        case .live:
            bottom = .prompt(
                PromptLine(
                    text: editor.text, cursor: editor.cursor, focused: view.focus == .prompt))
        case .replay:
            let t = transport ?? ReplayTransport(total: 0)
            bottom = .transport(
                TransportLine(
                    playing: t.playing, speed: t.speed, position: t.position, total: t.total,
                    seekInput: t.seekInput))
        case .demo:
            bottom = .caption(caption)
        }
        return ScreenContext(
            history: displayed, view: view, theme: theme, glyphs: glyphs, colorless: colorless,
            kind: kind, status: status, bottom: bottom)
    }

    /// Adds tokens from the engine.
    public mutating func append(_ steps: [TokenStep]) {
        guard !steps.isEmpty else { return }
        history.append(contentsOf: steps)
    }

    /// Clears the tokens (the demo between prompts).
    public mutating func reset() {
        history = RoutingHistory(model: history.model, windowSize: history.windowSize)
        frozenHistory = nil
        view.selectedToken = nil
    }

    /// Moves the replay to the transport's position.
    mutating func syncReplay() {
        guard let transport else { return }
        history.show(upTo: transport.position)
        if let selected = view.selectedToken, selected >= transport.position {
            view.selectedToken = nil
        }
    }

    /// Advances a playing replay to `now`; returns whether anything changed.
    public mutating func tick(now: Double) -> Bool {
        guard var transport else { return false }
        let history = self.history
        let moved = transport.tick(now: now) { ReplayTransport.delay(seconds: history.seconds($0)) }
        self.transport = transport
        if moved { syncReplay() }
        if kind == .replay { status.phase = transport.playing ? .playing : .paused }
        return moved
    }

    /// Applies one key. `frame` and `info` are the last frame drawn (for mouse hits, zoom limits
    /// and page sizes); `now` is the clock for the replay.
    public mutating func handle(_ key: Key, frame: Frame?, info: FrameInfo, now: Double)
        -> ScreenRequest?
    {
        // the demo runs until a key is pressed
        if kind == .demo {
            if key == .resize { return nil }
            if case .mouse = key { return nil }
            return .quit
        }
        if view.showHelp {
            if key != .resize { view.showHelp = false }
            return nil
        }
        if key == .control("c") {
            guard generating, !stopPending else { return .quit }
            stopPending = true
            return .stopGeneration
        }
        if view.focus == .prompt, kind == .live {
            if let request = handlePrompt(key) { return request }
            // the prompt used the key; only a click goes on to the panes (it selects what it
            // hit). Tab had already moved the focus once, and went on to move it again.
            guard case .mouse = key else { return nil }
        }
        if kind == .replay, handleTransport(key, frame: frame, now: now) { return nil }
        return handleView(key, frame: frame, info: info)
    }

    /// Keys while the prompt has focus. Returns a request, or nil when the key was used here
    /// (Esc, Tab and clicks also move the focus off the prompt).
    private mutating func handlePrompt(_ key: Key) -> ScreenRequest? {
        switch key {
        case .escape:
            view.focus = .text
            return nil
        case .tab, .backTab:
            view.focus = key == .tab ? .text : .parameters
            return nil
        case .enter where generating:
            status.message = "still generating: Ctrl-C stops it"
            return nil
        case .mouse:
            view.focus = .text
            return nil
        case .function(1):
            view.showHelp = true
            return nil
        case .resize, .function:
            return nil
        default:
            switch editor.handle(key) {
            case .submitted(let line):
                view.focus = .text
                view.selectedToken = nil
                status.message = nil
                return .send(line)
            case .edited, .notHandled:
                return nil
            }
        }
    }

    /// Replay transport keys; returns whether the key was one of them.
    private mutating func handleTransport(_ key: Key, frame: Frame?, now: Double) -> Bool {
        guard var transport else { return false }
        defer {
            self.transport = transport
            syncReplay()
            status.phase = transport.playing ? .playing : .paused
        }
        if transport.seekInput != nil {
            switch key {
            case .enter:
                transport.commitSeek()
                view.selectedToken = nil
                return true
            case .escape:
                transport.cancelSeek()
                return true
            case .backspace:
                transport.cancelSeek()
                return true
            default: break
            }
        }
        switch key {
        case .character(" "): transport.togglePlay(now: now)
        case .character("."):
            transport.step(by: 1)
            view.selectedToken = nil
        case .character(","):
            transport.step(by: -1)
            view.selectedToken = nil
        case .character("]"): transport.faster()
        case .character("["): transport.slower()
        case .home:
            transport.seek(to: 0)
            view.selectedToken = nil
        case .end:
            transport.seek(to: transport.total)
            view.selectedToken = nil
        case .character(let c) where c.isASCII && c.isNumber:
            transport.typeDigit(c)
        default:
            if case .mouse(let x, let y, .left) = key, let frame,
                case .scrubber(let position) = frame.hit(x: x, y: y)
            {
                transport.pause()
                transport.seek(to: position)
                view.selectedToken = nil
                return true
            }
            return false
        }
        return true
    }

    /// Keys that move around the panes and change views.
    private mutating func handleView(_ key: Key, frame: Frame?, info: FrameInfo) -> ScreenRequest? {
        let shown = displayed
        let layerCount = max(1, shown.moeLayerCount)
        let expertCount = max(1, shown.model.expertCount)
        let panes: [PaneID] =
            kind == .live
            ? [.text, .router, .experts, .parameters, .prompt]
            : [.text, .router, .experts, .parameters]
        switch key {
        case .character("q"): return .quit
        case .character("?"), .function(1): view.showHelp = true
        case .left, .right:
            let step = key == .left ? -1 : 1
            if view.focus == .router {
                view.selectedExpert = min(max(0, view.selectedExpert + step), expertCount - 1)
            } else {
                moveToken(by: step, visible: shown.visibleCount)
            }
        case .up, .down:
            let step = key == .up ? -1 : 1
            if view.focus == .experts {
                view.expertListScroll = max(0, view.expertListScroll + step)
            } else {
                view.selectedLayer = min(max(0, view.selectedLayer + step), layerCount - 1)
            }
        case .pageUp, .pageDown:
            let sign = key == .pageUp ? -1 : 1
            switch view.focus {
            case .router:
                view.selectedLayer = min(
                    max(0, view.selectedLayer + sign * info.layerPage), layerCount - 1)
            case .experts:
                view.expertListScroll = max(0, view.expertListScroll + sign * 8)
            default:
                moveToken(by: sign * info.textPageTokens, visible: shown.visibleCount)
            }
        case .home: view.selectedToken = shown.visibleCount > 0 ? 0 : nil
        case .end: view.selectedToken = nil
        case .tab, .backTab:
            let index = panes.firstIndex(of: view.focus) ?? 0
            let step = key == .tab ? 1 : panes.count - 1
            view.focus = panes[(index + step) % panes.count]
        case .enter:
            if kind == .live { view.focus = .prompt }
        case .escape:
            view.expanded = nil
        case .character("e"):
            view.expanded = view.expanded == nil && view.focus != .prompt ? view.focus : nil
        case .character("m"):
            let modes = HeatmapMode.allCases
            view.heatmapMode = modes[(modes.firstIndex(of: view.heatmapMode)! + 1) % modes.count]
            if view.heatmapMode == .baseline && shown.baseline == nil {
                status.message = "b saves a baseline"
            }
        case .character("b"):
            history.saveBaseline()
            frozenHistory?.saveBaseline()
            status.message = "baseline saved at \(shown.visibleCount) tok"
        case .character("+"):
            view.zoom = min(view.zoom + 1, info.zoomLimits.upperBound)
        case .character("-"):
            view.zoom = max(view.zoom - 1, info.zoomLimits.lowerBound)
        case .character("="):
            view.zoom = 0
        case .character("f"):
            if view.frozen {
                view.frozen = false
                frozenHistory = nil
            } else {
                view.frozen = true
                frozenHistory = history
            }
        case .character("t"):
            themeIndex = (themeIndex + 1) % themes.count
            status.message = "theme " + theme.name
        case .character("s"):
            if kind == .live { return .toggleRecording }
            status.message = "replay: nothing new to record"
        case .mouse(let x, let y, let button):
            guard let frame else { return nil }
            handleMouse(x: x, y: y, button: button, frame, visible: shown.visibleCount)
        default:
            break
        }
        return nil
    }

    private mutating func handleMouse(
        x: Int, y: Int, button: MouseButton, _ frame: Frame, visible: Int
    ) {
        let target = frame.hit(x: x, y: y)
        if button != .left {
            let step = button == .wheelUp ? -1 : 1
            if case .heatCell = target {
                view.selectedLayer = min(
                    max(0, view.selectedLayer + step), max(0, displayed.moeLayerCount - 1))
            } else if case .heatRow = target {
                view.selectedLayer = min(
                    max(0, view.selectedLayer + step), max(0, displayed.moeLayerCount - 1))
            } else {
                moveToken(by: 3 * step, visible: visible)
            }
            return
        }
        switch target {
        case .token(let token):
            view.selectedToken = token
            view.focus = .text
        case .heatCell(let layer, let expert):
            view.selectedLayer = layer
            view.selectedExpert = expert
            view.focus = .router
        case .heatRow(let layer):
            view.selectedLayer = layer
            view.focus = .router
        case .expertBar(let expert):
            view.selectedExpert = expert
            view.focus = .experts
        case .pane(let pane):
            view.focus = pane
        case .scrubber, .none:
            break
        }
    }

    /// Moves the token selection; past the newest it follows new tokens again.
    private mutating func moveToken(by step: Int, visible: Int) {
        guard visible > 0 else { return }
        let current = view.selectedToken ?? (visible - 1)
        let next = current + step
        view.selectedToken = next >= visible ? nil : max(0, next)
    }
}
