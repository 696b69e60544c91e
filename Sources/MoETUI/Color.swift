/// A colour as red, green and blue, 0...255 each.
public struct RGB: Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Linear interpolation towards `other`; `t` is clamped to 0...1.
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        let t = min(1, max(0, t.isFinite ? t : 0))
        func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
        }
        return RGB(channel(r, other.r), channel(g, other.g), channel(b, other.b))
    }

    /// Relative luminance, 0 (black) to 1 (white), for choosing a readable text colour on top.
    public var luminance: Double {
        (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255
    }
}

/// How many colours the terminal can show, best first. `none` is `NO_COLOR` or a terminal
/// without colour: no colour escape at all, glyph density, bold and reverse carry the meaning.
public enum ColorTier: String, Sendable, CaseIterable {
    case truecolor
    case palette256 = "256"
    case palette16 = "16"
    case none

    /// The tier the environment asks for, before the terminal's own capabilities are known.
    /// `NO_COLOR` (set and non-empty) wins; `COLORTERM=truecolor|24bit` asks for 24-bit colour.
    public static func requested(environment: [String: String]) -> ColorTier {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        let colorTerm = (environment["COLORTERM"] ?? "").lowercased()
        if colorTerm == "truecolor" || colorTerm == "24bit" { return .truecolor }
        return .palette256
    }

    /// The tier that a terminal with `colorCount` colours can show, at most `self`.
    public func limited(toColorCount colorCount: Int) -> ColorTier {
        if self == .none || colorCount < 8 { return .none }
        if colorCount < 256 { return .palette16 }
        return self
    }
}

/// Maps colours onto the xterm palettes: the 6x6x6 cube and grey ramp of the 256-colour palette,
/// and the 16 ANSI colours.
public enum PaletteQuantizer {
    /// The levels of one axis of the 6x6x6 colour cube (palette entries 16...231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The typical RGB values of the 16 ANSI colours (xterm defaults), in palette order.
    static let ansi16: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0),
        RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// The nearest entry of the 256-colour palette (cube or grey ramp), 16...255.
    public static func index256(_ color: RGB) -> Int {
        func nearestLevel(_ value: UInt8) -> Int {
            var best = 0
            for (index, level) in cubeLevels.enumerated()
            where abs(level - Int(value)) < abs(cubeLevels[best] - Int(value)) {
                best = index
            }
            return best
        }
        let (ri, gi, bi) = (nearestLevel(color.r), nearestLevel(color.g), nearestLevel(color.b))
        let cube = RGB(UInt8(cubeLevels[ri]), UInt8(cubeLevels[gi]), UInt8(cubeLevels[bi]))
        let cubeIndex = 16 + 36 * ri + 6 * gi + bi

        // Grey ramp 232...255: 8, 18, ..., 238.
        let average = (Int(color.r) + Int(color.g) + Int(color.b)) / 3
        let greyStep = min(23, max(0, (average - 8 + 5) / 10))
        let greyValue = UInt8(8 + 10 * greyStep)
        let grey = RGB(greyValue, greyValue, greyValue)
        return distance(color, grey) < distance(color, cube) ? 232 + greyStep : cubeIndex
    }

    /// The nearest of the 16 ANSI colours, 0...15.
    public static func index16(_ color: RGB) -> Int {
        var best = 0
        for (index, candidate) in ansi16.enumerated()
        where distance(color, candidate) < distance(color, ansi16[best]) {
            best = index
        }
        return best
    }

    /// Squared distance, weighted roughly as the eye weighs the channels.
    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r)
        let dg = Int(a.g) - Int(b.g)
        let db = Int(a.b) - Int(b.b)
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }
}
