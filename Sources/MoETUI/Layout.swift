/// Where each pane goes for a screen size. Pure: the tests check it at every size.
public struct Layout: Sendable, Equatable {
    /// The smallest screen the panes fit in; below it the screen shows a notice instead.
    public static let minimumWidth = 60
    public static let minimumHeight = 15

    public var statusLine: Rect
    public var bottomLine: Rect
    public var text: Rect
    public var router: Rect
    public var experts: Rect
    public var parameters: Rect

    /// The layout for a screen, or nil when it is below the minimum size.
    ///
    /// Row 0 is the status line and the last row the prompt (or transport) line. Between them
    /// the left column holds text over expert bars, the right column the heatmap over the
    /// parameter counters; the right column gets the larger share because the heatmap needs
    /// width. `expanded` gives one pane the whole middle.
    public static func make(width: Int, height: Int, expanded: PaneID? = nil) -> Layout? {
        guard width >= minimumWidth, height >= minimumHeight else { return nil }
        let middle = Rect(x: 0, y: 1, width: width, height: height - 2)
        var layout = Layout(
            statusLine: Rect(x: 0, y: 0, width: width, height: 1),
            bottomLine: Rect(x: 0, y: height - 1, width: width, height: 1),
            text: .init(x: 0, y: 0, width: 0, height: 0),
            router: .init(x: 0, y: 0, width: 0, height: 0),
            experts: .init(x: 0, y: 0, width: 0, height: 0),
            parameters: .init(x: 0, y: 0, width: 0, height: 0))
        if let expanded, expanded != .prompt {
            switch expanded {
            case .text: layout.text = middle
            case .router: layout.router = middle
            case .experts: layout.experts = middle
            case .parameters: layout.parameters = middle
            case .prompt: break
            }
            return layout
        }

        // columns: left 42 % (text, experts), right the rest (router, parameters)
        let leftWidth = max(28, width * 42 / 100)
        let rightWidth = width - leftWidth

        // left: text gets 55 % of the height, at least 5 rows; experts the rest
        let textHeight = max(5, middle.height * 55 / 100)
        layout.text = Rect(x: 0, y: middle.y, width: leftWidth, height: textHeight)
        layout.experts = Rect(
            x: 0, y: middle.y + textHeight, width: leftWidth, height: middle.height - textHeight)

        // right: parameters need 8 rows (6 counters and the border)
        let parametersHeight = min(8, middle.height / 2)
        layout.router = Rect(
            x: leftWidth, y: middle.y, width: rightWidth, height: middle.height - parametersHeight)
        layout.parameters = Rect(
            x: leftWidth, y: layout.router.maxY, width: rightWidth, height: parametersHeight)
        return layout
    }

    /// The rectangle of a pane.
    public func rect(_ pane: PaneID) -> Rect {
        switch pane {
        case .text: return text
        case .router: return router
        case .experts: return experts
        case .parameters: return parameters
        case .prompt: return bottomLine
        }
    }
}
