/// The C library's `wcwidth`: declared here because Glibc's module map hides it (it sits behind
/// `_XOPEN_SOURCE` in wchar.h).
@_silgen_name("wcwidth")
private func c_wcwidth(_ character: Int32) -> Int32

/// Display widths of characters, from the C library's `wcwidth` (needs a UTF-8 locale:
/// the screen calls `setlocale(LC_ALL, "")` first).
public enum DisplayWidth {
    /// Columns a scalar takes: 0 (combining marks), 1 or 2 (wide East Asian characters and
    /// most emoji). Control characters and scalars the locale cannot print report -1.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) { return -1 }
        if scalar.isASCII { return 1 }
        return Int(c_wcwidth(Int32(bitPattern: scalar.value)))
    }

    /// Total columns of a string, counting unprintable scalars as one column (they are drawn as
    /// the replacement glyph).
    public static func of(_ text: String) -> Int {
        var total = 0
        for scalar in text.unicodeScalars {
            let width = of(scalar)
            total += width < 0 ? 1 : width
        }
        return total
    }
}
