import Foundation
import MoEEngine
import MoERouting
import MoETUI

let replayUsage = """
    usage: moetop replay TRACE [-m MODEL] [--theme NAME|FILE] [--ascii] [--no-mouse]

    Replays a routing trace on the screen, with no model needed: the same panes as a live
    session, driven by the file.

      -m, --model FILE   check the trace was recorded with this model (refused otherwise)
      --theme NAME|FILE  dark (default), light, high-contrast, monochrome, or a btop theme
      --ascii            draw with ASCII only
      --no-mouse         do not capture the mouse

    keys: space play/pause  , . step  [ ] speed 0.25x-32x  Home End  digits Enter seek
          ? help  q quit (every key: docs/screen.md)
    """

/// `moetop replay TRACE`: the screen over a trace file.
func runReplay(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(replayUsage)
        return 0
    }
    let parsed = try Arguments(
        command: "replay", arguments,
        options: ["--model", "--theme", "--synthetic", "--bench-frame"],
        flags: ["--ascii", "--no-mouse"], aliases: ["-m": "--model"])
    try parsed.expectPositional(atMost: 1)
    let options = ScreenOptions(
        theme: parsed.string("--theme"), ascii: parsed.flag("--ascii"),
        mouse: !parsed.flag("--no-mouse"))

    // hidden: a synthesised trace (LAYERSxEXPERTSxK), for looking at the screen and for tests
    let history: RoutingHistory
    if let shape = parsed.string("--synthetic") {
        history = try syntheticHistory(shape, command: "replay")
    } else {
        guard let path = parsed.positional.first else {
            throw UsageError("replay: needs a TRACE file (see moetop replay --help)")
        }
        history = try loadTraceHistory(path: path, model: parsed.string("--model"))
    }
    if let benchmark = parsed.string("--bench-frame") {
        return try benchFrame(history, spec: benchmark)
    }
    return try ScreenLoop.run(kind: .replay, history: history, options: options)
}

/// A synthetic history from "LAYERSxEXPERTSxK[xTOKENS]", e.g. "48x128x8x2000".
func syntheticHistory(_ shape: String, command: String) throws -> RoutingHistory {
    let parts = shape.split(separator: "x").map { Int($0) }
    guard parts.count >= 3, parts.count <= 4, parts.allSatisfy({ ($0 ?? 0) > 0 }),
        let layers = parts[0], let experts = parts[1], let k = parts[2], k <= experts
    else {
        throw UsageError(
            "\(command): --synthetic expects LAYERSxEXPERTSxK[xTOKENS] with k <= experts, got '\(shape)'"
        )
    }
    let tokens = parts.count == 4 ? parts[3]! : 400
    let model = SyntheticRouting.model(layers: layers, experts: experts, topK: k, seed: 7)
    var generator = SyntheticRouting(model: model, seed: 7)
    let prefill = min(24, tokens / 4)
    var history = RoutingHistory(model: model)
    history.append(contentsOf: (0..<tokens).map { _ in generator.next(prefillTokens: prefill) })
    return history
}

/// Reads a trace into a history, refusing it when a model is given and its fingerprint differs.
func loadTraceHistory(path: String, model: String?) throws -> RoutingHistory {
    let trace = try TraceReader.read(path: path)
    if let model {
        let description = try modelDescription(at: try modelURL(model))
        try trace.check(against: description)
    }
    if let torn = trace.report.tornLastLine {
        printError(
            "moetop: \(path): line \(torn) is incomplete (recording cut short); replaying up to it")
    }
    return RoutingHistory(trace: trace)
}

/// The routing shape and fingerprint of a model file (memory-mapped; no weights are read).
func modelDescription(at url: URL) throws -> ModelDescription {
    try Model(url: url).description
}

/// Hidden benchmark: builds frames for a size ("WIDTHxHEIGHT[xN]") and reports the time per frame.
func benchFrame(_ history: RoutingHistory, spec: String) throws -> Int32 {
    let parts = spec.split(separator: "x").compactMap { Int($0) }
    guard parts.count >= 2, parts[0] > 0, parts[1] > 0 else {
        throw UsageError("replay: --bench-frame expects WIDTHxHEIGHT[xFRAMES], got '\(spec)'")
    }
    let frames = parts.count > 2 ? parts[2] : 200
    var history = history
    history.show(upTo: history.count)
    history.saveBaseline()
    var context = ScreenContext(history: history, kind: .replay)
    let modes = HeatmapMode.allCases
    context.history = history
    var results: [String] = []
    for mode in modes {
        context.view.heatmapMode = mode
        _ = FrameBuilder.build(context, width: parts[0], height: parts[1])
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<frames {
            context.view.selectedToken = index % max(1, history.visibleCount)
            _ = FrameBuilder.build(context, width: parts[0], height: parts[1])
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        results.append(String(format: "%@ %.3f ms", mode.rawValue, elapsed / Double(frames) * 1000))
    }
    let model = history.model
    print(
        "frame \(parts[0])x\(parts[1]), \(model.moeLayers.count) layers x \(model.expertCount) experts, "
            + "\(history.visibleCount) tokens, \(frames) frames per mode: "
            + results.joined(separator: ", "))
    return 0
}
