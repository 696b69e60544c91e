/// Text attributes that carry meaning without colour (`NO_COLOR`).
public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1 << 0)
    public static let dim = Attributes(rawValue: 1 << 1)
    public static let reverse = Attributes(rawValue: 1 << 2)
    public static let underline = Attributes(rawValue: 1 << 3)
}

/// How one cell looks. `nil` colours are the terminal's defaults.
public struct Style: Hashable, Sendable {
    public var foreground: RGB?
    public var background: RGB?
    public var attributes: Attributes

    public init(_ foreground: RGB? = nil, on background: RGB? = nil, _ attributes: Attributes = [])
    {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = Style()
}

/// One screen cell: a scalar and its style. A wide character occupies its cell and the next,
/// which holds `continuation`.
public struct Cell: Hashable, Sendable {
    public var scalar: Unicode.Scalar
    public var style: Style

    public init(_ scalar: Unicode.Scalar, _ style: Style = .plain) {
        self.scalar = scalar
        self.style = style
    }

    /// The right half of a wide character: the renderer skips it.
    public static let continuationScalar: Unicode.Scalar = "\u{0}"
    public static let blank = Cell(" ")

    public var isContinuation: Bool { scalar == Cell.continuationScalar }
}

/// A rectangle of cells, in screen coordinates.
public struct Rect: Hashable, Sendable {
    public var x, y, width, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The rectangle shrunk by `by` cells on every side.
    public func inset(_ by: Int) -> Rect {
        Rect(x: x + by, y: y + by, width: width - 2 * by, height: height - 2 * by)
    }
}

/// Where a mouse click lands: the frame builder records these as it draws.
public enum HitTarget: Hashable, Sendable {
    case token(Int)
    case heatCell(moeLayer: Int, expert: Int)
    case heatRow(moeLayer: Int)
    case expertBar(expert: Int)
    case pane(PaneID)
    case scrubber(position: Int)
}

/// The whole screen as a value: built from the state without a terminal, then drawn.
public struct Frame: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// Row-major, `width * height`.
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be shown (the prompt), or nil to hide it.
    public var cursor: (x: Int, y: Int)?
    /// Click regions, later ones on top.
    public var hits: [(rect: Rect, target: HitTarget)] = []

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: fill, count: self.width * self.height)
    }

    public static func == (a: Frame, b: Frame) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells
            && a.cursor?.x == b.cursor?.x && a.cursor?.y == b.cursor?.y
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// What a click at (x, y) selects: the last region drawn there.
    public func hit(x: Int, y: Int) -> HitTarget? {
        hits.last(where: { $0.rect.contains(x: x, y: y) })?.target
    }

    /// Sets one cell if it is on the screen and inside `clip`.
    @inline(__always)
    public mutating func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x] = Cell(scalar, style)
    }

    /// Fills a rectangle with one character and style.
    public mutating func fill(_ rect: Rect, _ character: Character = " ", _ style: Style = .plain) {
        let scalar = character.unicodeScalars.first!
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) {
                cells[y * width + x] = Cell(scalar, style)
            }
        }
    }

    /// Writes text at (x, y), clipped to `limit` columns (and the screen); wide characters
    /// take two columns and are dropped whole when they do not fit; control characters and
    /// unprintable scalars become `replacement`. Returns the columns written.
    @discardableResult
    public mutating func text(
        _ string: String, x: Int, y: Int, _ style: Style, limit: Int = Int.max,
        replacement: Unicode.Scalar = "\u{FFFD}"
    ) -> Int {
        guard y >= 0, y < height else { return 0 }
        let end = min(width, limit == Int.max ? width : x + max(0, limit))
        var column = x
        for var scalar in string.unicodeScalars {
            var columns = DisplayWidth.of(scalar)
            if columns == 0 { continue }
            if columns < 0 {
                scalar = replacement
                columns = 1
            }
            if column + columns > end { break }
            if column >= 0 {
                cells[y * width + column] = Cell(scalar, style)
                if columns == 2 {
                    cells[y * width + column + 1] = Cell(Cell.continuationScalar, style)
                }
            }
            column += columns
        }
        return column - x
    }

    /// The frame's characters as lines of text (continuations dropped): what a terminal shows.
    public var lines: [String] {
        (0..<height).map { y in
            var line = String.UnicodeScalarView()
            for x in 0..<width where !self[x, y].isContinuation { line.append(self[x, y].scalar) }
            return String(line)
        }
    }
}
