import Foundation
import MoERouting

#if canImport(Glibc)
    import Glibc
#endif

/// How the screen should look, from the command line and the environment.
public struct ScreenOptions: Sendable {
    /// A built-in theme name, a path, or a name in the theme folders; nil for dark.
    public var theme: String?
    /// Draw with ASCII only.
    public var ascii: Bool
    public var mouse: Bool
    public var environment: [String: String]

    public init(
        theme: String? = nil, ascii: Bool = false, mouse: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.theme = theme
        self.ascii = ascii
        self.mouse = mouse
        self.environment = environment
    }

    /// The themes `t` cycles through: the one asked for first, then the built-ins.
    func themes() throws -> [Theme] {
        var list = Theme.builtinNames.compactMap(Theme.builtin)
        if let theme {
            let chosen = try Theme.load(theme, environment: environment)
            list.removeAll { $0.name == chosen.name }
            list.insert(chosen, at: 0)
        }
        return list
    }
}

/// A prompt the demo runs.
public struct DemoPrompt: Sendable, Equatable {
    public var label: String
    public var text: String

    public init(label: String, text: String) {
        self.label = label
        self.text = text
    }
}

/// The event loop on the screen thread: reads keys, takes tokens from the engine thread,
/// advances a replay, and redraws at most 30 times a second, only when something changed.
public final class ScreenLoop {
    /// Shortest time between two frames: 30 frames a second at most.
    static let frameInterval = 1.0 / 30
    /// How long to wait for a key when nothing moves: the idle screen wakes twice a second.
    static let idleWaitMilliseconds: Int32 = 500
    /// Decode steps the tokens/s figure averages over.
    static let throughputWindow = 16

    private var model: ScreenModel
    private let terminal: Terminal
    private let engine: SessionEngine?
    private let settings: SessionSettings
    private let inbox = StepInbox()
    private var engineThread: Thread?
    private var recorder: TraceRecorder?
    private let makeRecorder: (() throws -> TraceRecorder)?
    private var lastFrame: Frame?
    private var lastInfo = FrameInfo()
    private var dirty = true
    private var lastDraw = 0.0
    private var recentDecodeTimes: [Double] = []
    private var demo: DemoDirector?
    /// The status message shown and when it appeared: messages clear after a few seconds.
    private var shownMessage: String?
    private var messageSince = 0.0
    static let messageSeconds = 4.0

    /// Starts the terminal for `model`. Throws when there is no terminal or the theme is bad.
    init(
        model: ScreenModel, options: ScreenOptions, engine: SessionEngine? = nil,
        settings: SessionSettings = SessionSettings(), recorder: TraceRecorder? = nil,
        makeRecorder: (() throws -> TraceRecorder)? = nil, demoPrompts: [DemoPrompt] = []
    ) throws {
        let requested = ColorTier.requested(environment: options.environment)
        self.terminal = try Terminal(
            requested: requested, mouse: options.mouse, environment: options.environment)
        var model = model
        model.colorless = terminal.tier == .none
        self.model = model
        self.engine = engine
        self.settings = settings
        self.recorder = recorder
        self.makeRecorder = makeRecorder
        if let recorder { self.model.status.recordingPath = recorder.path }
        if model.kind == .demo { demo = DemoDirector(prompts: demoPrompts, settings: settings) }
    }

    /// Picks glyphs and themes, then runs the loop until the user quits. Returns the exit status.
    public static func run(
        kind: ScreenKind, history: RoutingHistory, options: ScreenOptions,
        engine: SessionEngine? = nil, settings: SessionSettings = SessionSettings(),
        initialPrompt: String? = nil, recorder: TraceRecorder? = nil,
        makeRecorder: (() throws -> TraceRecorder)? = nil, demoPrompts: [DemoPrompt] = []
    ) throws -> Int32 {
        setlocale(LC_ALL, "")
        let themes = try options.themes()
        let unicode = !options.ascii && localeIsUTF8()
        let model = ScreenModel(
            history: history, kind: kind, themes: themes, glyphs: unicode ? .unicode : .ascii)
        let loop = try ScreenLoop(
            model: model, options: options, engine: engine, settings: settings, recorder: recorder,
            makeRecorder: makeRecorder, demoPrompts: demoPrompts)
        defer { loop.terminal.end() }
        if let initialPrompt, kind == .live {
            loop.model.view.focus = .text
            loop.start(prompt: initialPrompt)
        }
        return loop.loop()
    }

    /// Whether the C library's locale encodes text as UTF-8 (after `setlocale`).
    static func localeIsUTF8() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }

    /// The loop. Returns 0 on quit, 128+n after signal n.
    private func loop() -> Int32 {
        var status: Int32 = 0
        while true {
            if receivedSignal != 0 {
                status = 128 + receivedSignal
                break
            }
            let now = Self.clock()
            if terminal.followTerminalSize() { dirty = true }

            // tokens from the engine, replay and demo progress
            takeFromEngine()
            if model.tick(now: now) { dirty = true }
            if var director = demo, let engine {
                if director.advance(&model, now: now, idle: engineThread == nil) { dirty = true }
                if let prompt = director.pendingPrompt(now: now) {
                    startTurn(
                        prompt: prompt.text, settings: director.settings(for: prompt),
                        engine: engine)
                }
                demo = director
            }

            // status messages fade after a few seconds
            if model.status.message != shownMessage {
                shownMessage = model.status.message
                messageSince = now
            } else if shownMessage != nil && now - messageSince > Self.messageSeconds {
                model.status.message = nil
                shownMessage = nil
                dirty = true
            }

            // draw when something changed, at most 30 times a second
            var wait = Self.idleWaitMilliseconds
            if dirty {
                let sinceDraw = now - lastDraw
                if sinceDraw >= Self.frameInterval {
                    draw()
                    lastDraw = now
                } else {
                    wait = Int32(((Self.frameInterval - sinceDraw) * 1000).rounded(.up))
                }
            }
            if engineThread != nil { wait = min(wait, Int32(Self.frameInterval * 1000)) }
            if let due = model.transport?.timeUntilDue(now: now) {
                wait = min(wait, max(1, Int32(due * 1000)))
            }
            if demo != nil { wait = min(wait, 100) }

            // keys: the first waits, the rest are taken while they are queued
            var key = terminal.readKey(timeout: wait)
            while let pressed = key {
                if pressed == .resize { terminal.invalidate() }
                if let request = model.handle(
                    pressed, frame: lastFrame, info: lastInfo, now: Self.clock())
                {
                    if perform(request) { return finish(0) }
                }
                dirty = true
                key = terminal.readKey(timeout: 0)
            }
        }
        return finish(status)
    }

    /// Does what a key asked; returns true to quit.
    private func perform(_ request: ScreenRequest) -> Bool {
        switch request {
        case .quit:
            return true
        case .send(let prompt):
            start(prompt: prompt)
        case .stopGeneration:
            inbox.requestStop()
            model.status.message = "stopping"
        case .toggleRecording:
            toggleRecording()
        }
        return false
    }

    /// Starts a live turn on the engine thread.
    private func start(prompt: String) {
        guard let engine else {
            model.status.message = "no engine: this screen only replays"
            return
        }
        startTurn(prompt: prompt, settings: settings, engine: engine)
    }

    private func startTurn(prompt: String, settings: SessionSettings, engine: SessionEngine) {
        guard engineThread == nil else { return }
        do { try recorder?.record(prompt: prompt) } catch { recordingFailed(error) }
        inbox.requestStop(false)
        model.generating = true
        model.stopPending = false
        model.status.phase = .prefill
        let inbox = self.inbox
        let thread = Thread {
            do {
                try engine.run(
                    prompt: prompt, settings: settings, emit: { inbox.push($0) },
                    shouldStop: { inbox.stopRequested })
                inbox.finish(nil)
            } catch {
                inbox.finish(error)
            }
        }
        thread.name = "moetop engine"
        thread.stackSize = 8 << 20
        engineThread = thread
        thread.start()
        dirty = true
    }

    /// Moves tokens from the inbox into the model, the recorder and the throughput figure.
    private func takeFromEngine() {
        let (steps, finished) = inbox.take()
        if !steps.isEmpty {
            if let recorder {
                do { for step in steps { try recorder.record(step) } } catch {
                    recordingFailed(error)
                }
            }
            for step in steps where step.phase == .decode {
                recentDecodeTimes.append(step.timing.forward + step.timing.sampling)
            }
            if recentDecodeTimes.count > Self.throughputWindow {
                recentDecodeTimes.removeFirst(recentDecodeTimes.count - Self.throughputWindow)
            }
            let total = recentDecodeTimes.reduce(0, +)
            if total > 0 { model.status.tokensPerSecond = Double(recentDecodeTimes.count) / total }
            model.status.phase = steps.last!.phase == .decode ? .decode : .prefill
            model.append(steps)
            dirty = true
        }
        for error in finished {
            engineThread = nil
            model.generating = false
            model.stopPending = false
            model.status.phase = inbox.stopRequested ? .stopped : .idle
            if let error { model.status.message = "error: \(error)" }
            dirty = true
        }
    }

    private func toggleRecording() {
        if let active = recorder {
            do {
                try active.close()
                model.status.message = "trace saved: " + active.path
            } catch {
                model.status.message = "trace not saved: \(error)"
            }
            recorder = nil
            model.status.recordingPath = nil
            return
        }
        guard let makeRecorder else {
            model.status.message = "recording is not available here"
            return
        }
        do {
            let started = try makeRecorder()
            recorder = started
            model.status.recordingPath = started.path
        } catch {
            model.status.message = "cannot record: \(error)"
        }
    }

    private func recordingFailed(_ error: Error) {
        try? recorder?.close()
        recorder = nil
        model.status.recordingPath = nil
        model.status.message = "recording stopped: \(error)"
    }

    private func draw() {
        let size = terminal.size
        let (frame, info) = FrameBuilder.build(
            model.context, width: size.width, height: size.height)
        terminal.draw(frame)
        lastFrame = frame
        lastInfo = info
        dirty = false
    }

    /// Stops the engine (waiting briefly for it), closes the recording, restores the terminal.
    private func finish(_ status: Int32) -> Int32 {
        if engineThread != nil {
            inbox.requestStop()
            let deadline = Self.clock() + 5
            while engineThread != nil && Self.clock() < deadline {
                usleep(20_000)
                takeFromEngine()
            }
        }
        if let recorder {
            try? recorder.close()
            self.recorder = nil
        }
        terminal.end()
        return status
    }

    static func clock() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
