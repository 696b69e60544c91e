import Foundation
import MoERouting
import Testing

@testable import MoETUI

@Suite struct PaneTests {
    /// Token mode at the newest token ("!"): layer 1 chose experts 3 and 2, layer 2 chose 0 and
    /// (tie at 0.1) expert 1. The chosen cells are marked, and the margin names them.
    @Test func heatmapTokenModeMarksTheChosenExperts() throws {
        let context = ScreenContext(history: Fixture.history())
        let frame = Fixture.frame(context, 100, 30)
        let header = try #require(frame.lines(containing: "Router · token · #2 \"!\"").first)
        #expect(header.contains("Router"))
        let row1 = try #require(frame.lines(containing: "│L1 ").first)
        let row2 = try #require(frame.lines(containing: "│L2 ").first)
        #expect(row1.contains("H.79 3 2"))
        #expect(row2.contains("H.68 0 1"))
        // the marker sits in the chosen columns: find the axis labels' columns
        let axisY = try #require(frame.find(" 0 ")).y
        let axis = frame.lines[axisY]
        let columns = (0..<4).map { expert -> Int in
            let label = axis.range(of: " \(expert) ")!.lowerBound
            return DisplayWidth.of(String(axis[..<label])) + 1
        }
        let y1 = try #require(frame.find("│L1 ")).y
        let markers = (0..<4).filter { expert in
            (columns[expert] - 1..<columns[expert] + HeatmapGeometry.maximumCellWidth).contains {
                frame[$0, y1].scalar == "◆"
            }
        }
        #expect(markers == [2, 3])
    }

    /// Normalised entropy of layer 1's distribution [0.1, 0.1, 0.2, 0.6]: H/ln 4.
    @Test func heatmapMarginEntropyMatchesTheFormula() {
        let p = [0.1, 0.1, 0.2, 0.6]
        let h = -p.reduce(0) { $0 + $1 * log($1) } / log(4)
        #expect(abs(h - 0.7855) < 1e-3)  // shown as .79
    }

    @Test func heatmapFooterDescribesTheSelectedCell() throws {
        var context = ScreenContext(history: Fixture.history())
        context.view.selectedLayer = 0
        context.view.selectedExpert = 3
        let frame = Fixture.frame(context)
        #expect(!frame.lines(containing: "L1 E3  p 0.600  ◆ #1 w 0.75  margin 0.100").isEmpty)
        // session mode: expert 3 of layer 1 was chosen by tokens 2 only -> 1 of 3 tokens
        context.view.heatmapMode = .session
        let session = Fixture.frame(context)
        #expect(!session.lines(containing: "L1 E3  1/3 tok  33%  fair 50%  0.7x").isEmpty)
    }

    @Test func heatmapBaselineModeShowsTheChangeInShare() throws {
        var history = Fixture.history(Array(Fixture.steps.prefix(2)))
        history.saveBaseline()
        history.append(Fixture.steps[2])
        var context = ScreenContext(history: history)
        context.view.heatmapMode = .baseline
        context.view.selectedExpert = 3
        let frame = Fixture.frame(context)
        // layer 1 before: experts 0,1 each half; after token 2 (experts 3, 2): E3 has 1/6
        #expect(!frame.lines(containing: "L1 E3  now 17%  base 0.0%  +16.7 pt").isEmpty)
    }

    @Test func heatValueIsAHalfAtTheFairShare() {
        #expect(RouterPane.heat(ratio: 0) == 0)
        #expect(RouterPane.heat(ratio: 1) == 0.5)
        #expect(abs(RouterPane.heat(ratio: 3) - 0.75) < 1e-12)
    }

    /// Window counts of layer 1 over 3 tokens: E0 2, E1 2, E2 1, E3 1 (rates 67 %, 67 %, 33 %,
    /// 33 %, fair 50 %).
    @Test func expertBarsShowRatesAgainstFairShare() throws {
        var context = ScreenContext(history: Fixture.history())
        context.view.heatmapMode = .window
        let frame = Fixture.frame(context, 100, 30)
        let e0 = try #require(frame.lines(containing: "│E0 ").first)
        #expect(e0.contains("67% 1.3x"))
        let e3 = try #require(frame.lines(containing: "│E3 ").first)
        #expect(e3.contains("33% 0.7x"))
        // order: most used first
        #expect(frame.find("│E0 ")!.y < frame.find("│E2 ")!.y)
        // metrics of counts [2, 2, 1, 1]
        let balance = try #require(LoadBalance(counts: [2, 2, 1, 1]))
        #expect(!frame.lines(containing: "H " + Format.unit(balance.normalizedEntropy)).isEmpty)
        #expect(!frame.lines(containing: "dead 0  rare 0").isEmpty)
    }

    @Test func expertBarsFlagDeadExperts() throws {
        // 8 experts, only experts 0 and 1 ever chosen
        let model = SyntheticRouting.model(layers: 1, experts: 8, topK: 2, seed: 1)
        let record = RoutingRecord(
            layer: 0, logits: [], probabilities: [0.5, 0.4, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01],
            experts: [0, 1], weights: [0.55, 0.45])
        var history = RoutingHistory(model: model)
        for position in 0..<5 {
            history.append(
                TokenStep(
                    tokenID: 1, piece: "x", position: position, phase: .decode, records: [record]))
        }
        let frame = Fixture.frame(ScreenContext(history: history), 100, 40)
        let dead = frame.lines(containing: " dead")
        #expect(dead.count >= 6)  // the six unused experts' bars, and the summary
        #expect(!frame.lines(containing: "dead 6").isEmpty)
        #expect(!frame.lines(containing: "100% 4.0x").isEmpty)
    }

    @Test func parameterFiguresForTheSelectedToken() {
        let history = Fixture.history()
        let figures = ParametersPane.figures(history, token: 2)
        // always-active = 6000 - 2 layers * 2 experts * 1000 = 2000; token 2 chose 2 per layer
        #expect(figures.activeObserved == 6_000)
        #expect(figures.bytesRead == 4_000 + 4 * 2_000)
        // touched: layer 1 experts 0,1,2,3; layer 2 experts 3,2,1,0 -> all 8
        #expect(figures.touched == 8 && figures.touchable == 8)
        let first = ParametersPane.figures(
            Fixture.history(Array(Fixture.steps.prefix(1))), token: 0)
        #expect(first.touched == 4)
        let frame = Fixture.frame(ScreenContext(history: history))
        #expect(!frame.lines(containing: "10.0 K").isEmpty)
        #expect(!frame.lines(containing: "8/8  100%").isEmpty)
        #expect(!frame.lines(containing: "12.0 KB  per token").isEmpty)
    }

    @Test func textPaneColoursTokensByTopExpertAtTheSelectedLayer() throws {
        var context = ScreenContext(history: Fixture.history())
        context.view.selectedToken = 0
        let frame = Fixture.frame(context)
        let hello = try #require(frame.find("Hello world!"))
        let theme = context.theme
        // layer 1 top-1: token 0 -> E0, token 1 -> E0 (tie, lower id first), token 2 -> E3
        #expect(frame[hello.x, hello.y].style.foreground == theme.expert(0))
        #expect(frame[hello.x, hello.y].style.attributes.contains(.reverse))  // selected
        #expect(frame[hello.x + 11, hello.y].style.foreground == theme.expert(3))
        // layer 2: token 2's top-1 is E0
        context.view.selectedLayer = 1
        let layer2 = Fixture.frame(context)
        #expect(layer2[hello.x + 11, hello.y].style.foreground == theme.expert(0))
        #expect(!layer2.lines(containing: "Text · top-1 expert at L2").isEmpty)
    }

    @Test func statusLineNamesModelPhaseAndRecording() throws {
        var context = ScreenContext(history: Fixture.history())
        context.status.phase = .decode
        context.status.tokensPerSecond = 41.25
        context.status.recordingPath = "/tmp/session.jsonl"
        let status = Fixture.frame(context, 120, 30).lines[0]
        #expect(status.contains("tiny-test · qwen3moe · 2 MoE layers x 4 experts · top-2"))
        #expect(status.contains("decode · 41.2 tok/s · ● REC session.jsonl"))
    }

    /// 128 and 256 experts stay readable: binned to fit, zoom to one expert per cell, scroll to
    /// the selection.
    @Test(arguments: [128, 256])
    func manyExpertsAreBinnedAndZoomable(experts: Int) throws {
        let history = Fixture.synthetic(layers: 8, experts: experts, topK: 8, tokens: 30)
        var context = ScreenContext(history: history)
        let (frame, info) = FrameBuilder.build(context, width: 120, height: 40)
        let footer = try #require(frame.lines(containing: "L0 E0").first)
        #expect(footer.contains("/cell)"))
        #expect(info.zoomLimits.upperBound >= 1)
        context.view.zoom = info.zoomLimits.upperBound
        context.view.selectedExpert = experts - 1
        context.view.focus = .router
        let zoomed = Fixture.frame(context, 120, 40)
        #expect(zoomed.lines(containing: "/cell)").isEmpty)
        #expect(!zoomed.lines(containing: "L0 E\(experts - 1)").isEmpty)
        // the highest expert's number is on the axis and the axis shows it scrolled
        #expect(!zoomed.lines(containing: "\(experts - 1)").isEmpty)
        #expect(!zoomed.lines(containing: "◂").isEmpty)
    }

    @Test func geometryBinsZoomsAndScrolls() {
        let fit = HeatmapGeometry(expertCount: 256, axisWidth: 100, zoom: 0, selectedExpert: 0)
        #expect(fit.binSize == 3 && fit.cellWidth == 1 && fit.binCount == 86)
        #expect(fit.visibleBins == 86 && fit.firstBin == 0)
        let closer = HeatmapGeometry(expertCount: 256, axisWidth: 100, zoom: 1, selectedExpert: 255)
        #expect(closer.binSize == 2 && closer.visibleBins == 100)
        #expect(closer.firstBin + closer.visibleBins == closer.binCount)  // scrolled to the end
        let limits = HeatmapGeometry.limits(expertCount: 256, axisWidth: 100)
        let widest = HeatmapGeometry(
            expertCount: 256, axisWidth: 100, zoom: limits.upperBound, selectedExpert: 128)
        #expect(widest.binSize == 1 && widest.cellWidth == HeatmapGeometry.maximumCellWidth)
        #expect(widest.experts(inBin: widest.firstBin).lowerBound <= 128)
        #expect(widest.experts(inBin: widest.firstBin + widest.visibleBins - 1).upperBound > 128)
        let few = HeatmapGeometry(expertCount: 8, axisWidth: 60, zoom: 0, selectedExpert: 0)
        #expect(few.binSize == 1 && few.cellWidth == 7 && few.visibleBins == 8)
    }

    /// 64 layers in a short pane: two layers per row in half blocks.
    @Test func manyLayersUseHalfBlocks() throws {
        let history = Fixture.synthetic(layers: 64, experts: 16, topK: 2, tokens: 5)
        let frame = Fixture.frame(ScreenContext(history: history), 100, 30)
        #expect(!frame.lines(containing: "2 layers/row").isEmpty)
        #expect(!frame.lines(containing: "▀").isEmpty)
        // without colour, half blocks cannot carry two values: rows scroll instead
        let plain = Fixture.frame(ScreenContext(history: history, colorless: true), 100, 30)
        #expect(plain.lines(containing: "2 layers/row").isEmpty)
        #expect(!plain.lines(containing: "▾").isEmpty)
    }
}
