import MoERouting
import Testing

@testable import MoETUI

@Suite struct ScreenModelTests {
    func press(_ keys: [Key], _ model: inout ScreenModel, frame: Frame? = nil) -> [ScreenRequest] {
        var requests: [ScreenRequest] = []
        for key in keys {
            if let request = model.handle(key, frame: frame, info: FrameInfo(), now: 0) {
                requests.append(request)
            }
        }
        return requests
    }

    @Test func promptSendsAndKeepsHistory() {
        var model = ScreenModel(history: Fixture.history([]), kind: .live)
        #expect(model.view.focus == .prompt)
        let requests = press("hi there".map { .character($0) } + [.enter], &model)
        #expect(requests == [.send("hi there")])
        #expect(model.view.focus == .text)
        #expect(press([.enter, .up], &model).isEmpty)
        #expect(model.editor.text == "hi there")
        // q types in the prompt; after Esc it quits
        #expect(press([.control("u"), .character("q")], &model).isEmpty)
        #expect(press([.escape, .character("q")], &model) == [.quit])
    }

    @Test func controlCStopsThenQuits() {
        var model = ScreenModel(history: Fixture.history(), kind: .live)
        model.generating = true
        #expect(press([.control("c")], &model) == [.stopGeneration])
        model.generating = false
        model.stopPending = false
        #expect(press([.control("c")], &model) == [.quit])
    }

    /// Tab from the prompt moves to the Text pane, once (it used to go on to the Router).
    @Test func tabFromThePromptGoesToTheTextPane() {
        var model = ScreenModel(history: Fixture.history(), kind: .live)
        model.view.focus = .prompt
        _ = press([.tab], &model)
        #expect(model.view.focus == .text)
        model.view.focus = .prompt
        _ = press([.backTab], &model)
        #expect(model.view.focus == .parameters)
    }

    @Test func secondControlCQuitsWhileTheStopIsPending() {
        var model = ScreenModel(history: Fixture.history(), kind: .live)
        model.generating = true
        #expect(press([.control("c"), .control("c")], &model) == [.stopGeneration, .quit])
    }

    @Test func viewKeysChangeModeLayerTokenFocusAndZoom() {
        var model = ScreenModel(history: Fixture.history(), kind: .live)
        _ = press([.escape, .character("m"), .character("m"), .down, .left, .left, .tab], &model)
        #expect(model.view.heatmapMode == .session)
        #expect(model.view.selectedLayer == 1)
        #expect(model.view.selectedToken == 0)
        #expect(model.view.focus == .router)
        _ = press([.right, .right, .character("e")], &model)
        #expect(model.view.selectedExpert == 2)
        #expect(model.view.expanded == .router)
        var info = FrameInfo()
        info.zoomLimits = -1...2
        for _ in 0..<5 { _ = model.handle(.character("+"), frame: nil, info: info, now: 0) }
        #expect(model.view.zoom == 2)
        _ = model.handle(.character("="), frame: nil, info: info, now: 0)
        #expect(model.view.zoom == 0)
        _ = press([.character("?")], &model)
        #expect(model.view.showHelp)
        _ = press([.character("x")], &model)
        #expect(!model.view.showHelp)
    }

    @Test func freezeKeepsTheViewWhileTokensArrive() {
        var model = ScreenModel(
            history: Fixture.history(Array(Fixture.steps.prefix(1))), kind: .live)
        _ = press([.escape, .character("f")], &model)
        model.append(Array(Fixture.steps.dropFirst()))
        #expect(model.displayed.visibleCount == 1)
        #expect(model.history.visibleCount == 3)
        _ = press([.character("f")], &model)
        #expect(model.displayed.visibleCount == 3)
    }

    @Test func mouseClicksSelectTokensAndCells() throws {
        var model = ScreenModel(history: Fixture.history(), kind: .live)
        _ = press([.escape], &model)
        let frame = Fixture.frame(model.context, 100, 30)
        let world = try #require(frame.find("world"))
        _ = press([.mouse(x: world.x, y: world.y, button: .left)], &model, frame: frame)
        #expect(model.view.selectedToken == 1)
        let cell = try #require(
            frame.hits.last { if case .heatCell(1, 2) = $0.target { true } else { false } })
        _ = press([.mouse(x: cell.rect.x, y: cell.rect.y, button: .left)], &model, frame: frame)
        #expect(model.view.selectedLayer == 1 && model.view.selectedExpert == 2)
        #expect(model.view.focus == .router)
    }

    @Test func replayTransportKeys() {
        var model = ScreenModel(history: Fixture.history(), kind: .replay)
        #expect(model.displayed.visibleCount == 0)
        _ = press([.character("."), .character(".")], &model)
        #expect(model.displayed.visibleCount == 2)
        _ = press([.character(",")], &model)
        #expect(model.displayed.visibleCount == 1)
        _ = press([.end], &model)
        #expect(model.displayed.visibleCount == 3)
        _ = press([.character("2"), .enter], &model)
        #expect(model.displayed.visibleCount == 2)
        _ = press([.home], &model)
        #expect(model.displayed.visibleCount == 0)
        for _ in 0..<10 { _ = press([.character("]")], &model) }
        #expect(model.transport?.speed == 32)
        for _ in 0..<10 { _ = press([.character("[")], &model) }
        #expect(model.transport?.speed == 0.25)
        let frame = Fixture.frame(model.context, 100, 30)
        #expect(!frame.lines.last!.contains("0.25x") == false)
        #expect(frame.lines.last!.contains("0/3"))
    }

    @Test func replayPlaysAtTheRecordedPace() {
        var transport = ReplayTransport(total: 10)
        transport.togglePlay(now: 100)
        // each token waits 0.1 s at 1x
        #expect(transport.tick(now: 100) { _ in 0.1 })
        #expect(transport.position == 1)
        _ = transport.tick(now: 100.25) { _ in 0.1 }
        #expect(transport.position == 3)
        transport.faster()  // 2x: token 3 was due at 100.3, token 4 at 100.35
        _ = transport.tick(now: 100.35) { _ in 0.1 }
        #expect(transport.position == 5)
        _ = transport.tick(now: 200) { _ in 0.1 }
        #expect(transport.position == 10 && !transport.playing)
        #expect(ReplayTransport.delay(seconds: 0) == ReplayTransport.defaultDelay)
        #expect(ReplayTransport.delay(seconds: 30) == 1)
        #expect(ReplayTransport.delay(seconds: 0.02) == 0.02)
    }

    /// Stepping back through a long history restores from checkpoints and gives the same
    /// counts as counting from the start.
    @Test func seekingBackMatchesCountingFromTheStart() {
        var long = Fixture.synthetic(layers: 3, experts: 16, topK: 2, tokens: 2_500)
        long.show(upTo: 2_500)
        long.show(upTo: 1_100)
        var fresh = RoutingHistory(model: long.model)
        fresh.append(contentsOf: Array(long.steps.prefix(1_100)))
        #expect(long.counter.allCounts(.session) == fresh.counter.allCounts(.session))
        #expect(long.counter.allCounts(.window) == fresh.counter.allCounts(.window))
    }

    @Test func lineEditorKeys() {
        var editor = LineEditor()
        for character in "one two three" { _ = editor.handle(.character(character)) }
        _ = editor.handle(.control("w"))
        #expect(editor.text == "one two ")
        _ = editor.handle(.home)
        _ = editor.handle(.delete)
        #expect(editor.text == "ne two ")
        _ = editor.handle(.control("k"))
        #expect(editor.text == "")
        #expect(editor.handle(.enter) == .edited)  // nothing to send
        _ = editor.handle(.character("a"))
        #expect(editor.handle(.enter) == .submitted("a"))
        _ = editor.handle(.character("b"))
        _ = editor.handle(.up)
        #expect(editor.text == "a")
        _ = editor.handle(.down)
        #expect(editor.text == "b")
    }
}
