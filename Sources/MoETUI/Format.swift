import Foundation

/// Number formats shared by the panes.
enum Format {
    /// A count with an SI suffix: 950, 14.2 K, 3.05 M, 30.5 B, 1.20 T.
    static func count(_ value: Int) -> String {
        let v = Double(value)
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
        for (scale, suffix) in units where abs(v) >= scale {
            return significant(v / scale) + " " + suffix
        }
        return String(value)
    }

    /// A count split into its number and unit: (3.29, "M").
    static func countParts(_ value: Int) -> (String, String) {
        let text = count(value)
        guard let space = text.firstIndex(of: " ") else { return (text, "") }
        return (String(text[..<space]), String(text[text.index(after: space)...]))
    }

    /// Bytes with a binary-ish human unit: 512 B, 8.2 MB, 1.25 GB (powers of 1000).
    static func bytes(_ value: Int) -> String {
        let v = Double(value)
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")]
        for (scale, suffix) in units where abs(v) >= scale {
            return significant(v / scale) + " " + suffix
        }
        return "\(value) B"
    }

    /// Three significant digits: 3.05, 30.5, 305.
    static func significant(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    /// A percentage with one decimal below 10 %, none above: 4.1 %, 28 %.
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "–" }
        let p = fraction * 100
        return p < 9.95 ? String(format: "%.1f%%", p) : String(format: "%.0f%%", p)
    }

    /// A metric in 0...1 with two decimals and no leading zero: .62, 1.00.
    static func unit(_ value: Double?) -> String {
        guard let value, value.isFinite else { return " – " }
        let text = String(format: "%.2f", value)
        return text.hasPrefix("0.") ? String(text.dropFirst()) : text
    }

    /// Pads or cuts `text` to exactly `width` display columns, right-aligned when `right`.
    static func fit(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard width > 0 else { return "" }
        var columns = DisplayWidth.of(text)
        var result = text
        while columns > width, !result.isEmpty {
            result.removeLast()
            columns = DisplayWidth.of(result)
        }
        let pad = String(repeating: " ", count: max(0, width - columns))
        return right ? pad + result : result + pad
    }
}
