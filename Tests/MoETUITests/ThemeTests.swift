import Foundation
import Testing

@testable import MoETUI

@Suite struct ThemeTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["dark", "light", "high-contrast", "monochrome"])
    func builtinThemeMatchesItsFileInThemes(name: String) throws {
        let file = Self.repositoryRoot.appendingPathComponent("Themes/\(name).theme")
        let text = try String(contentsOf: file, encoding: .utf8)
        let embedded = try #require(BuiltinThemes.all.first { $0.name == name }).text
        #expect(
            embedded.trimmingCharacters(in: .newlines) == text.trimmingCharacters(in: .newlines))
        let theme = try Theme.parse(text, name: name, file: file.path)
        #expect(theme == Theme.builtin(name))
    }

    @Test func darkThemeReadsItsOwnKeys() throws {
        let dark = Theme.dark
        #expect(dark.background == nil)  // empty main_bg: the terminal's own background
        #expect(dark.text == RGB(0xD0, 0xD0, 0xD0))
        #expect(dark.heatStart == RGB(0x1C, 0x1F, 0x33))
        #expect(dark.heatMid == RGB(0xB8, 0x39, 0x6B))
        #expect(dark.heatEnd == RGB(0xFF, 0xE0, 0x66))
        #expect(dark.experts.count == 12)
        #expect(dark.expert(13) == dark.expert(1))
        #expect(dark.heat(0) == dark.heatStart)
        #expect(dark.heat(0.5) == dark.heatMid)
        #expect(dark.heat(1) == dark.heatEnd)
    }

    /// A theme in btop's own format, written by hand with btop's keys only: it loads as it is,
    /// and moetop's roles fall back to btop's keys.
    @Test func btopThemeFileLoadsAsItIs() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-theme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("btop-handwritten.theme")
        try Self.btopTheme.write(to: file, atomically: true, encoding: .utf8)
        let theme = try Theme.loadFile(file.path)
        #expect(theme.name == "btop-handwritten")
        #expect(theme.background == RGB(0x1E, 0x1E, 0x2E))
        #expect(theme.text == RGB(0xCD, 0xD6, 0xF4))
        #expect(theme.highlight == RGB(0xF3, 0x8B, 0xA8))
        // heat falls back to btop's cpu gradient, bars to its used gradient
        #expect(theme.heatStart == RGB(0xA6, 0xE3, 0xA1))
        #expect(theme.heatMid == RGB(0xF9, 0xE2, 0xAF))
        #expect(theme.heatEnd == RGB(0xF3, 0x8B, 0xA8))
        #expect(theme.barStart == RGB(0x89, 0xB4, 0xFA))
        // "#BW" greyscale and "R G B" decimal forms
        #expect(theme.divider == RGB(0x30, 0x30, 0x30))
        #expect(theme.inactive == RGB(88, 91, 112))
        // no expert_N keys: the default palette, bright for light text
        #expect(theme.experts == Theme.defaultExpertPalette(light: true))
        // warning falls back to btop's temp_end
        #expect(theme.warning == RGB(0xF3, 0x8B, 0xA8))
    }

    /// Written by hand in btop's format, with btop's keys only.
    static let btopTheme = #"""
        # A theme in btop's format with btop's keys only, written by hand for ThemeTests.
        # Colours as "#RRGGBB", "#BW" (greyscale) and "R G B".

        theme[main_bg]="#1e1e2e"
        theme[main_fg]="#cdd6f4"
        theme[title]="#cdd6f4"
        theme[hi_fg]="#f38ba8"
        theme[selected_bg]="#45475a"
        theme[selected_fg]="#f5c2e7"
        theme[inactive_fg]="88 91 112"
        theme[graph_text]="#f5e0dc"
        theme[meter_bg]="#45475a"
        theme[proc_misc]="#f5e0dc"
        theme[cpu_box]="#cba6f7"
        theme[mem_box]="#a6e3a1"
        theme[net_box]="#eba0ac"
        theme[proc_box]="#89b4fa"
        theme[div_line]="#30"
        theme[temp_start]="#a6e3a1"
        theme[temp_mid]="#f9e2af"
        theme[temp_end]="#f38ba8"
        theme[cpu_start]="#a6e3a1"
        theme[cpu_mid]="#f9e2af"
        theme[cpu_end]="#f38ba8"
        theme[free_start]="#89b4fa"
        theme[cached_start]="#89dceb"
        theme[available_start]="#fab387"
        theme[used_start]="#89b4fa"
        theme[used_mid]="#b4befe"
        theme[used_end]="#cba6f7"
        theme[download_start]="#89b4fa"
        theme[upload_start]="#a6e3a1"
        theme[process_start]="#a6e3a1"
        theme[process_mid]="#f9e2af"
        theme[process_end]="#f38ba8"
        """#

    @Test(arguments: [
        (
            "theme[main_fg]=\"#12345\"",
            ThemeError.badColor(file: "t", line: 1, key: "main_fg", value: "#12345")
        ),
        (
            "theme[main_fg]=\"300 0 0\"",
            ThemeError.badColor(file: "t", line: 1, key: "main_fg", value: "300 0 0")
        ),
        (
            "theme[main_fg]=\"#zzzzzz\"",
            ThemeError.badColor(file: "t", line: 1, key: "main_fg", value: "#zzzzzz")
        ),
        ("\n\ncolor=red", ThemeError.malformedLine(file: "t", line: 3, text: "color=red")),
        (
            "theme[]=\"#ffffff\"",
            ThemeError.malformedLine(file: "t", line: 1, text: "theme[]=\"#ffffff\"")
        ),
        (
            "theme[main_fg]=\"#ffffff",
            ThemeError.malformedLine(file: "t", line: 1, text: "theme[main_fg]=\"#ffffff")
        ),
    ])
    func badThemeLinesAreErrorsWithTheirLine(text: String, expected: ThemeError) {
        #expect(throws: expected) { try Theme.parse(text, name: "t", file: "t") }
    }

    @Test func unknownThemeNameSaysWhereItLooked() {
        let environment = ["HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent/config"]
        do {
            _ = try Theme.load("no-such-theme", environment: environment)
            Issue.record("loaded a theme that does not exist")
        } catch let error as ThemeError {
            #expect("\(error)".contains("/nonexistent/config/moetop/themes/no-such-theme.theme"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func paletteQuantisation() {
        // cube corners and greys: xterm's 256-colour palette
        #expect(PaletteQuantizer.index256(RGB(255, 0, 0)) == 196)
        #expect(PaletteQuantizer.index256(RGB(0, 0, 0)) == 16)
        #expect(PaletteQuantizer.index256(RGB(255, 255, 255)) == 231)
        #expect(PaletteQuantizer.index256(RGB(128, 128, 128)) == 244)  // grey ramp: 8 + 10*12
        #expect(PaletteQuantizer.index256(RGB(0x5F, 0x87, 0xD7)) == 16 + 36 * 1 + 6 * 2 + 4)
        #expect(PaletteQuantizer.index16(RGB(250, 10, 10)) == 9)
        #expect(PaletteQuantizer.index16(RGB(10, 10, 10)) == 0)
    }

    @Test func colorTierFromEnvironment() {
        #expect(
            ColorTier.requested(environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"]) == .none)
        #expect(
            ColorTier.requested(environment: ["NO_COLOR": "", "COLORTERM": "24bit"]) == .truecolor)
        #expect(ColorTier.requested(environment: ["COLORTERM": "truecolor"]) == .truecolor)
        #expect(ColorTier.requested(environment: [:]) == .palette256)
        #expect(ColorTier.truecolor.limited(toColorCount: 8) == .palette16)
        #expect(ColorTier.palette256.limited(toColorCount: 2) == .none)
        #expect(ColorTier.truecolor.limited(toColorCount: 256) == .truecolor)
    }
}
