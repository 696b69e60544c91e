/// Every glyph the screen draws, in one place: a Unicode table and an ASCII table for
/// terminals without Unicode (`--ascii`). Drawing code names glyphs, never literals.
public struct Glyphs: Sendable {
    /// Box corners and edges.
    public var topLeft, topRight, bottomLeft, bottomRight, horizontal, vertical: Character
    /// Density ramp from empty to full, used for heat without colour and for sub-cell bars.
    public var shades: [Character]
    /// Eighth blocks for bar ends, from one eighth to a full cell.
    public var barEighths: [Character]
    /// The empty part of a bar.
    public var barTrack: Character
    /// The fair-share tick drawn across a bar.
    public var fairTick: Character
    /// Marks a chosen (top-k) expert in a heatmap cell.
    public var chosen: Character
    /// Upper half block: one cell carries two heatmap rows (foreground top, background bottom).
    public var upperHalf: Character?
    /// Marks the selected heatmap cell when its number does not fit.
    public var selectedMark: Character
    /// Separator dot in the status line and titles.
    public var dot: Character
    /// Scrubber track, played part, and knob.
    public var scrubTrack, scrubDone, scrubKnob: Character
    /// Play and pause symbols.
    public var play, pause: Character
    /// Recording indicator.
    public var record: Character
    /// Shown for characters that cannot be drawn (control characters, invalid bytes).
    public var replacement: Character
    /// Ellipsis for cut text.
    public var ellipsis: Character
    /// Arrows for "more to the left/right/up/down" in scrolled panes.
    public var moreLeft, moreRight, moreUp, moreDown: Character

    /// The Unicode table: box drawing, block elements, geometric shapes.
    public static let unicode = Glyphs(
        topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯", horizontal: "─",
        vertical: "│", shades: [" ", "·", "░", "▒", "▓", "█"],
        barEighths: ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], barTrack: "·", fairTick: "┊",
        chosen: "◆", upperHalf: "▀", selectedMark: "•", dot: "·", scrubTrack: "─", scrubDone: "━",
        scrubKnob: "●", play: "▶", pause: "⏸", record: "●", replacement: "\u{FFFD}",
        ellipsis: "…", moreLeft: "◂", moreRight: "▸", moreUp: "▴", moreDown: "▾",
        bigDigits: [
            "0": ["█▀█", "█ █", "▀▀▀"], "1": ["▀█ ", " █ ", "▀▀▀"], "2": ["▀▀█", "█▀▀", "▀▀▀"],
            "3": ["▀▀█", " ▀█", "▀▀▀"], "4": ["█ █", "▀▀█", "  ▀"], "5": ["█▀▀", "▀▀█", "▀▀▀"],
            "6": ["█▀▀", "█▀█", "▀▀▀"], "7": ["▀▀█", "  █", "  ▀"], "8": ["█▀█", "█▀█", "▀▀▀"],
            "9": ["█▀█", "▀▀█", "▀▀▀"], ".": [" ", " ", "▀"],
        ])

    /// The ASCII table, for terminals without Unicode.
    public static let ascii = Glyphs(
        topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+", horizontal: "-",
        vertical: "|", shades: [" ", ".", ":", "+", "#", "@"], barEighths: ["#"],
        barTrack: ".", fairTick: "|", chosen: "*", upperHalf: nil, selectedMark: "o", dot: "-",
        scrubTrack: "-",
        scrubDone: "=", scrubKnob: "O", play: ">", pause: "=", record: "*", replacement: "?",
        ellipsis: "~", moreLeft: "<", moreRight: ">", moreUp: "^", moreDown: "v",
        bigDigits: [
            "0": ["###", "# #", "###"], "1": [" # ", " # ", " # "], "2": ["###", " ##", "## "],
            "3": ["###", " ##", "###"], "4": ["# #", "###", "  #"], "5": ["## ", " ##", "## "],
            "6": ["#  ", "###", "###"], "7": ["###", "  #", "  #"], "8": ["###", "###", "###"],
            "9": ["###", "###", "  #"], ".": [" ", " ", "."],
        ])

    /// Three-row digits for the demo's large counters: each of "0"..."9" and "." maps to its
    /// three rows (all rows of a glyph have the same width).
    public var bigDigits: [Character: [String]]

    /// The shade for a value in 0...1: 0 is blank, anything above 0 at least the faintest mark.
    public func shade(_ value: Double) -> Character {
        guard value.isFinite, value > 0 else { return shades[0] }
        let steps = shades.count - 1
        let index = min(steps, max(1, Int((value * Double(steps)).rounded(.up))))
        return shades[index]
    }
}
