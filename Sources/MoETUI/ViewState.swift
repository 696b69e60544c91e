/// The panes of the main screen, in the order Tab moves focus through them.
public enum PaneID: String, Sendable, CaseIterable {
    case text, router, experts, parameters, prompt
}

/// What the router heatmap shows.
public enum HeatmapMode: String, Sendable, CaseIterable {
    /// The selected token's router probabilities.
    case token
    /// Load share over the last N tokens.
    case window
    /// Load share over the whole session.
    case session
    /// Session load share minus the saved baseline's.
    case baseline

    var title: String {
        switch self {
        case .token: return "token"
        case .window: return "window"
        case .session: return "session"
        case .baseline: return "diff vs baseline"
        }
    }
}

/// What the engine or the replay is doing, for the status line.
public enum ActivityPhase: String, Sendable {
    case idle, prefill, decode, stopped, loading
    case playing, paused
}

/// Everything about the screen that is not the data: selection, focus, modes, zoom.
/// Pure value; key handling changes it, the frame builder reads it.
public struct ViewState: Sendable, Equatable {
    public var focus: PaneID = .text
    /// The pane drawn over the whole middle area (`e`), if any.
    public var expanded: PaneID?
    public var heatmapMode: HeatmapMode = .token
    /// The selected token, or nil to follow the newest.
    public var selectedToken: Int?
    /// The selected MoE layer (slot in `moeLayers`).
    public var selectedLayer = 0
    /// The selected expert (heatmap column).
    public var selectedExpert = 0
    /// Expert-axis zoom: 0 fits every expert in the pane; each step doubles (+) or halves (-)
    /// the columns per expert.
    public var zoom = 0
    /// The view is frozen (`f`): new tokens are kept but not shown.
    public var frozen = false
    public var showHelp = false
    /// First layer row shown when the layers do not fit (scrolled to keep the selection in view).
    public var layerScroll = 0
    /// First expert column shown when zoomed in past the pane.
    public var expertScroll = 0
    /// First row of the experts pane's list.
    public var expertListScroll = 0

    public init() {}

    /// The token the panes describe: the selected one, or the newest visible.
    public func token(visibleCount: Int) -> Int? {
        guard visibleCount > 0 else { return nil }
        guard let selected = selectedToken else { return visibleCount - 1 }
        return min(max(0, selected), visibleCount - 1)
    }
}
