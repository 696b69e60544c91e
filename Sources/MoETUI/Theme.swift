import Foundation

/// A theme file could not be used. Each case names the file and the line.
public enum ThemeError: Error, Equatable, CustomStringConvertible {
    /// A line is neither blank, a `#` comment, nor `theme[key]="value"`.
    case malformedLine(file: String, line: Int, text: String)
    /// A value is not `#RRGGBB`, `#GG` (grey), `R G B` (0...255 each) or empty.
    case badColor(file: String, line: Int, key: String, value: String)
    /// No built-in theme has this name and no file exists at this path.
    case notFound(name: String, searched: [String])
    /// The file exists but could not be read.
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .malformedLine(let file, let line, let text):
            return "\(file):\(line): expected theme[key]=\"value\", found '\(text)'"
        case .badColor(let file, let line, let key, let value):
            return
                "\(file):\(line): theme[\(key)] expects \"#RRGGBB\", \"#GG\" or \"R G B\", found \"\(value)\""
        case .notFound(let name, let searched):
            return
                "no theme '\(name)': not built in (\(Theme.builtinNames.joined(separator: ", "))) "
                + "and not found in " + searched.joined(separator: ", ")
        case .unreadable(let file, let reason):
            return "\(file): cannot read theme: \(reason)"
        }
    }
}

/// The colours the screen uses, resolved from a btop-format theme file. `nil` means the
/// terminal's own default colour (btop: an empty value).
///
/// btop's keys are read as btop means them; moetop adds `heat_start|mid|end` (heatmap
/// gradient), `bar_start|mid|end` (utilisation bars), `expert_0` ... `expert_N` (the palette
/// text is coloured with), `warning` and `dead`. A btop theme without them still works: each
/// moetop key falls back to the nearest btop key.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var background: RGB?
    public var text: RGB?
    public var title: RGB?
    public var highlight: RGB?
    public var selectedBackground: RGB?
    public var selectedText: RGB?
    public var inactive: RGB?
    public var label: RGB?
    public var meterBackground: RGB?
    public var divider: RGB?
    /// Box outlines: text, router, experts and parameters panes (btop proc, cpu, mem, net).
    public var textBox, routerBox, expertsBox, parametersBox: RGB?
    /// Heatmap gradient: no load, fair share, most load.
    public var heatStart, heatMid, heatEnd: RGB
    /// Bar gradient: below, at and above fair share.
    public var barStart, barMid, barEnd: RGB
    /// The expert palette; expert `i` gets `experts[i % experts.count]`. Never empty.
    public var experts: [RGB]
    public var warning: RGB
    public var dead: RGB

    /// The heat colour for a value in 0...1 (start at 0, mid at 0.5, end at 1).
    public func heat(_ value: Double) -> RGB {
        value < 0.5
            ? heatStart.mixed(with: heatMid, value * 2)
            : heatMid.mixed(with: heatEnd, value * 2 - 1)
    }

    /// The bar colour for a value in 0...1.
    public func bar(_ value: Double) -> RGB {
        value < 0.5
            ? barStart.mixed(with: barMid, value * 2) : barMid.mixed(with: barEnd, value * 2 - 1)
    }

    /// The palette colour of an expert.
    public func expert(_ index: Int) -> RGB {
        experts[((index % experts.count) + experts.count) % experts.count]
    }
}

extension Theme {
    /// The names of the themes compiled in, in the order `t` cycles through them.
    public static let builtinNames = BuiltinThemes.all.map(\.name)

    /// The built-in dark theme, the default.
    public static var dark: Theme { builtin("dark")! }

    /// A built-in theme by name.
    public static func builtin(_ name: String) -> Theme? {
        guard let source = BuiltinThemes.all.first(where: { $0.name == name }) else { return nil }
        // The built-in sources are checked by the tests; a failure here is a programming error.
        return try! parse(source.text, name: name, file: "<built-in \(name)>")
    }

    /// Loads a theme by built-in name, by path, or by name from the theme folders:
    /// `$XDG_CONFIG_HOME/moetop/themes`, then btop's (`$XDG_CONFIG_HOME/btop/themes`,
    /// `/usr/local/share/btop/themes`, `/usr/share/btop/themes`), as `NAME.theme`.
    public static func load(_ nameOrPath: String, environment: [String: String]) throws -> Theme {
        if let theme = builtin(nameOrPath) { return theme }
        let fileManager = FileManager.default
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            guard fileManager.fileExists(atPath: nameOrPath) else {
                throw ThemeError.notFound(name: nameOrPath, searched: [nameOrPath])
            }
            return try loadFile(nameOrPath)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let config =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? home + "/.config"
        let folders = [
            config + "/moetop/themes", config + "/btop/themes", "/usr/local/share/btop/themes",
            "/usr/share/btop/themes",
        ]
        let candidates = folders.map { $0 + "/" + nameOrPath + ".theme" }
        for candidate in candidates where fileManager.fileExists(atPath: candidate) {
            return try loadFile(candidate)
        }
        throw ThemeError.notFound(name: nameOrPath, searched: candidates)
    }

    /// Reads and parses a theme file; the theme is named after the file.
    public static func loadFile(_ path: String) throws -> Theme {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ThemeError.unreadable(file: path, reason: error.localizedDescription)
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), name: name, file: path)
    }

    /// Parses btop's `theme[key]="value"` lines. Unknown keys are kept out of the way (btop
    /// themes carry keys moetop does not use); malformed lines and bad colours are errors.
    public static func parse(_ text: String, name: String, file: String) throws -> Theme {
        var values: [String: RGB?] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineNumber = offset + 1
            guard let (key, value) = splitAssignment(line) else {
                throw ThemeError.malformedLine(file: file, line: lineNumber, text: line)
            }
            guard let color = parseColor(value) else {
                throw ThemeError.badColor(file: file, line: lineNumber, key: key, value: value)
            }
            values[key] = color
        }
        return resolve(values, name: name)
    }

    /// `theme[key]="value"` (quotes optional, spaces around `=` allowed) as (key, value).
    static func splitAssignment(_ line: String) -> (String, String)? {
        guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else { return nil }
        let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
        var rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, rest.hasPrefix("=") else { return nil }
        rest = String(rest.dropFirst()).trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("\"") {
            guard rest.count >= 2, rest.hasSuffix("\"") else { return nil }
            rest = String(rest.dropFirst().dropLast())
        }
        return (key, rest.trimmingCharacters(in: .whitespaces))
    }

    /// A btop colour value: `#RRGGBB`, `#GG` (grey), `R G B`, or empty (the terminal's default,
    /// returned as `.some(nil)`). `nil` when malformed.
    static func parseColor(_ value: String) -> RGB?? {
        if value.isEmpty { return .some(nil) }
        if value.hasPrefix("#") {
            let hex = value.dropFirst()
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            if hex.count == 2, let grey = UInt8(hex, radix: 16) { return RGB(grey, grey, grey) }
            guard hex.count == 6, let packed = UInt32(hex, radix: 16) else { return nil }
            return RGB(UInt8(packed >> 16), UInt8((packed >> 8) & 0xFF), UInt8(packed & 0xFF))
        }
        let parts = value.split(separator: " ").compactMap { UInt8($0) }
        guard parts.count == 3, value.split(separator: " ").count == 3 else { return nil }
        return RGB(parts[0], parts[1], parts[2])
    }

    /// Fills every role from the keys present, falling back from moetop keys to btop keys to
    /// built-in defaults.
    static func resolve(_ values: [String: RGB?], name: String) -> Theme {
        func pick(_ keys: String...) -> RGB? {
            for key in keys { if let value = values[key] { return value } }
            return nil
        }
        let text = pick("main_fg")
        let inactive = pick("inactive_fg") ?? text.map { $0.mixed(with: RGB(128, 128, 128), 0.6) }
        let heatStart = pick("heat_start", "cpu_start", "temp_start") ?? RGB(40, 40, 60)
        let heatEnd = pick("heat_end", "cpu_end", "temp_end") ?? RGB(255, 220, 90)
        let heatMid = pick("heat_mid", "cpu_mid", "temp_mid") ?? heatStart.mixed(with: heatEnd, 0.5)
        let barStart = pick("bar_start", "used_start", "process_start") ?? heatStart
        let barEnd = pick("bar_end", "used_end", "process_end") ?? heatEnd
        let barMid = pick("bar_mid", "used_mid", "process_mid") ?? barStart.mixed(with: barEnd, 0.5)

        // The expert palette: expert_0, expert_1, ... as long as the keys continue; without
        // them, hues spread around the wheel at a lightness that suits the text colour.
        var experts: [RGB] = []
        while let color = pick("expert_\(experts.count)") { experts.append(color) }
        if experts.isEmpty {
            let lightText = (text?.luminance ?? 0.8) > 0.5
            experts = defaultExpertPalette(light: lightText)
        }
        return Theme(
            name: name, background: pick("main_bg"), text: text, title: pick("title") ?? text,
            highlight: pick("hi_fg") ?? text, selectedBackground: pick("selected_bg"),
            selectedText: pick("selected_fg") ?? text, inactive: inactive,
            label: pick("graph_text") ?? inactive, meterBackground: pick("meter_bg") ?? inactive,
            divider: pick("div_line") ?? inactive, textBox: pick("proc_box", "div_line"),
            routerBox: pick("cpu_box", "div_line"), expertsBox: pick("mem_box", "div_line"),
            parametersBox: pick("net_box", "div_line"), heatStart: heatStart, heatMid: heatMid,
            heatEnd: heatEnd, barStart: barStart, barMid: barMid, barEnd: barEnd, experts: experts,
            warning: pick("warning", "temp_end") ?? RGB(255, 95, 95),
            dead: pick("dead", "inactive_fg") ?? RGB(110, 110, 110))
    }

    /// Twelve hues around the colour wheel, bright for dark backgrounds, deep for light ones.
    static func defaultExpertPalette(light: Bool) -> [RGB] {
        let bright: [RGB] = [
            RGB(255, 135, 135), RGB(255, 175, 95), RGB(255, 215, 95), RGB(175, 215, 95),
            RGB(95, 215, 135), RGB(95, 215, 215), RGB(95, 175, 255), RGB(135, 135, 255),
            RGB(190, 135, 255), RGB(255, 135, 215), RGB(215, 175, 135), RGB(175, 175, 175),
        ]
        return light ? bright.map { $0.mixed(with: RGB(0, 0, 0), 0.45) } : bright
    }
}
