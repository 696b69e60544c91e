import MoERouting
import Testing

@testable import MoETUI

@Suite struct FrameTests {
    @Test func textMeasuresWideCharactersAndReplacesControls() {
        _ = Fixture.locale
        var frame = Frame(width: 10, height: 1)
        let written = frame.text("a専b\u{7}c", x: 0, y: 0, .plain)
        #expect(written == 6)  // a(1) 専(2) b(1) replacement(1) c(1)
        #expect(frame.lines == ["a専b\u{FFFD}c    "])
        #expect(frame[2, 0].isContinuation)
        // a wide character that does not fit whole is left out
        var narrow = Frame(width: 3, height: 1)
        narrow.text("ab専", x: 0, y: 0, .plain)
        #expect(narrow.lines == ["ab "])
    }

    @Test func invalidUTF8InAPieceShowsAsReplacement() {
        _ = Fixture.locale
        // a trace reader decodes bytes with String(decoding:), which repairs them to U+FFFD
        let piece = String(decoding: [0x61, 0xFF, 0x62] as [UInt8], as: UTF8.self)
        var steps = Fixture.steps
        steps[1].piece = piece
        let frame = Fixture.frame(ScreenContext(history: Fixture.history(steps)))
        #expect(!frame.lines(containing: "Helloa\u{FFFD}b!").isEmpty)
    }

    /// Every size from 1x1 up builds a frame of exactly that size, with the size notice below the
    /// minimum and the panes from the minimum on (the screen never traps on a resize).
    @Test func everySizeBuildsAndSmallSizesShowTheNotice() {
        let history = Fixture.synthetic(layers: 6, experts: 256, topK: 8, tokens: 20)
        var context = ScreenContext(history: history)
        for mode in HeatmapMode.allCases {
            context.view.heatmapMode = mode
            for width in [1, 2, 5, 19, 20, 59, 60, 61, 80, 133, 200] {
                for height in [1, 2, 4, 5, 14, 15, 24, 60] {
                    let frame = Fixture.frame(context, width, height)
                    #expect(frame.width == width && frame.height == height)
                    let small = width < Layout.minimumWidth || height < Layout.minimumHeight
                    if small && width >= 18 && height >= 3 {
                        #expect(!frame.lines(containing: "terminal too small").isEmpty)
                    }
                    if !small {
                        #expect(frame.lines(containing: "terminal too small").isEmpty)
                        #expect(!frame.lines(containing: "Router").isEmpty)
                    }
                }
            }
        }
    }

    @Test func layoutFillsTheScreenWithoutOverlap() throws {
        for (width, height) in [(60, 15), (80, 24), (200, 60), (301, 99)] {
            let layout = try #require(Layout.make(width: width, height: height))
            let panes = [layout.text, layout.router, layout.experts, layout.parameters]
            let area = panes.reduce(0) { $0 + $1.width * $1.height }
            #expect(area == width * (height - 2))
            for (i, a) in panes.enumerated() {
                for b in panes[(i + 1)...] {
                    let overlapX = max(0, min(a.maxX, b.maxX) - max(a.x, b.x))
                    let overlapY = max(0, min(a.maxY, b.maxY) - max(a.y, b.y))
                    #expect(overlapX * overlapY == 0)
                }
            }
        }
        #expect(Layout.make(width: 59, height: 24) == nil)
        #expect(Layout.make(width: 80, height: 14) == nil)
        let expanded = try #require(Layout.make(width: 80, height: 24, expanded: .router))
        #expect(expanded.router == Rect(x: 0, y: 1, width: 80, height: 22))
        #expect(expanded.text.isEmpty)
    }

    @Test func wrapBreaksLinesAtNewlinesTabsAndWidth() {
        _ = Fixture.locale
        let steps = ["ab", "c\n", "\td", "専専"].enumerated().map {
            TokenStep(tokenID: 0, piece: $1, position: $0, phase: .decode, records: [])
        }
        let placed = TextPane.wrap(Fixture.history(steps), 0..<4, width: 5, glyphs: .unicode)
        // row 0: "abc" (the newline ends it); row 1: a tab to column 4, then "d";
        // row 2: 専専 (a wide character wraps whole)
        #expect(placed.map(\.row) == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
        #expect(placed.filter { $0.token == 3 }.map(\.x) == [0, 2])
        #expect(placed.first { $0.token == 2 && $0.scalar == "d" }?.x == 4)
    }

    /// Words wrap whole, across token boundaries ("CONNECTI|ON" was split); a word longer
    /// than the row is broken.
    @Test func wrapKeepsWordsWhole() {
        _ = Fixture.locale
        let steps = ["IN", " CONNECT", "ION", " WITH", " abcdefghijkl"].enumerated().map {
            TokenStep(tokenID: 0, piece: $1, position: $0, phase: .decode, records: [])
        }
        let placed = TextPane.wrap(Fixture.history(steps), 0..<5, width: 10, glyphs: .unicode)
        var rows: [Int: String] = [:]
        for cell in placed { rows[cell.row, default: ""].unicodeScalars.append(cell.scalar) }
        #expect(rows[0] == "IN ")
        #expect(rows[1] == "CONNECTION")
        #expect(rows[2] == " WITH ")
        #expect(rows[3] == "abcdefghij")
        #expect(rows[4] == "kl")
        // the moved cells keep their tokens, so clicks still select the right one
        #expect(placed.filter { $0.row == 1 }.map(\.token) == [1, 1, 1, 1, 1, 1, 1, 2, 2, 2])
    }

    @Test func noColorFramesCarryNoColourAndMarkChosenExpertsWithGlyphs() {
        var context = ScreenContext(history: Fixture.history(), colorless: true)
        context.view.heatmapMode = .token
        let frame = Fixture.frame(context)
        #expect(frame.cells.allSatisfy { $0.style.foreground == nil && $0.style.background == nil })
        let row = frame.lines(containing: "│L1 ").first ?? ""
        #expect(row.contains("◆"))
        // the selected token is shown in reverse video
        #expect(frame.cells.contains { $0.style.attributes.contains(.reverse) })
    }

    @Test func asciiGlyphsDrawOnlyASCII() {
        var steps = Fixture.steps
        steps[1].piece = " wörld"  // the text pane may show what the model wrote...
        let context = ScreenContext(history: Fixture.history(steps), glyphs: .ascii)
        let frame = Fixture.frame(context)
        // ...but every glyph the screen adds itself is ASCII
        let nonASCII = frame.cells.filter {
            !$0.scalar.isASCII && $0.scalar != "ö" && !$0.isContinuation
        }
        #expect(nonASCII.isEmpty, "non-ASCII: \(Set(nonASCII.map { String($0.scalar) }))")
    }
}
