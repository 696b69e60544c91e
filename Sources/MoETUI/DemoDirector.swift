import MoERouting

/// The demo's attract loop: runs the sample prompts one after another with seeded sampling,
/// and while tokens stream, walks the layers and heatmap modes so the whole model is shown.
/// Pure apart from the clock passed in.
struct DemoDirector {
    /// Seconds between layer steps and between heatmap mode changes.
    static let layerInterval = 2.5
    static let modeInterval = 9.0
    /// Pause after a prompt's answer before the next prompt.
    static let pauseAfterTurn = 4.0
    /// Tokens each demo answer may have.
    static let answerTokens = 160
    /// Base seed; prompt i samples with seed + i, so every run shows the same text.
    static let seed: UInt64 = 20_260_000

    let prompts: [DemoPrompt]
    let baseSettings: SessionSettings
    private(set) var index = -1
    private var nextPromptAt = 0.0
    private var lastLayerStep = 0.0
    private var lastModeStep = 0.0
    private var waiting = true

    init(prompts: [DemoPrompt], settings: SessionSettings) {
        self.prompts = prompts
        self.baseSettings = settings
    }

    /// Sampling for a prompt: seeded by its index.
    func settings(for prompt: DemoPrompt) -> SessionSettings {
        var settings = baseSettings
        settings.maxTokens = min(settings.maxTokens, Self.answerTokens)
        settings.seed = Self.seed + UInt64(max(0, index))
        return settings
    }

    /// The next prompt when it is time for one (the engine is idle and the pause is over).
    mutating func pendingPrompt(now: Double) -> DemoPrompt? {
        guard waiting, !prompts.isEmpty, now >= nextPromptAt else { return nil }
        waiting = false
        index = (index + 1) % prompts.count
        return prompts[index]
    }

    /// Moves the view along; returns whether it changed anything.
    mutating func advance(_ model: inout ScreenModel, now: Double, idle: Bool) -> Bool {
        var changed = false
        if idle && !waiting {
            // the answer finished: pause, then clear for the next prompt
            waiting = true
            nextPromptAt = now + Self.pauseAfterTurn
        }
        if waiting && index >= 0 && now >= nextPromptAt && !prompts.isEmpty {
            model.reset()
            changed = true
        }
        let layers = max(1, model.history.moeLayerCount)
        if now - lastLayerStep >= Self.layerInterval {
            lastLayerStep = now
            model.view.selectedLayer = (model.view.selectedLayer + 1) % layers
            changed = true
        }
        if now - lastModeStep >= Self.modeInterval {
            lastModeStep = now
            let modes: [HeatmapMode] = [.token, .window, .session]
            let current = modes.firstIndex(of: model.view.heatmapMode) ?? 0
            model.view.heatmapMode = modes[(current + 1) % modes.count]
            changed = true
        }
        let prompt = index >= 0 && !prompts.isEmpty ? prompts[index] : nil
        let caption =
            (prompt.map {
                // one line: the prompt's line breaks and tabs become spaces
                let text = String($0.text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
                return "demo \(index + 1)/\(prompts.count)  \($0.label): \(text)"
            }
                ?? "demo starting") + "    any key exits"
        if model.caption != caption {
            model.caption = caption
            changed = true
        }
        return changed
    }
}
