import Foundation
import MoEEngine
import MoERouting
import MoETUI

let demoUsage = """
    usage: moetop demo [-m MODEL] [--prompts DIR] [--theme NAME|FILE] [--ascii]

    A live demonstration for an audience: an attract loop over the sample prompts, sampled
    with fixed seeds (the same run every time), walking the layers and heatmap modes while
    the answers stream. Runs until a key is pressed.

      -m, --model MODEL  GGUF file (default: the embedded moetop-tiny)
      --prompts DIR      prompt files (*.jsonl with "prompt"); default: the SamplePrompts
      --theme NAME|FILE  dark (default), light, high-contrast, monochrome, or a btop theme
      --ascii            draw with ASCII only
      --threads N        kernel threads (default: all processors)
      --help             this text
    """

/// Prompts shaped like moetop-tiny's training material (SamplePrompts/README.md), shown first
/// so the demo shows experts specialising.
let demoFavourites = [
    "code-001", "legal-003", "math-001", "manuals-001", "multilingual-002", "code-002",
    "legal-009", "math-002", "manuals-002", "multilingual-021", "code-016", "math-005",
]

/// `moetop demo`.
func runDemo(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(demoUsage)
        return 0
    }
    let options = try Arguments(
        command: "demo", arguments, options: ["--model", "--prompts", "--theme", "--threads"],
        flags: ["--ascii", "--no-mouse"], aliases: ["-m": "--model"])
    try options.expectPositional(atMost: 0)
    let folder: URL
    if let given = options.string("--prompts") {
        folder = URL(fileURLWithPath: given)
    } else {
        guard let found = dataDirectory("SamplePrompts") else {
            throw UsageError("demo: the SamplePrompts folder was not found; pass --prompts DIR")
        }
        folder = found
    }
    let prompts = try loadDemoPrompts(folder)
    let settings = SessionSettings(maxTokens: 160, temperature: 0.7)
    let engine = try EngineSession(
        url: try modelURL(options.string("--model")), settings: settings,
        threads: try options.int(
            "--threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256),
        context: nil)
    let screen = ScreenOptions(
        theme: options.string("--theme"), ascii: options.flag("--ascii"),
        mouse: !options.flag("--no-mouse"))
    return try ScreenLoop.run(
        kind: .demo, history: RoutingHistory(model: engine.model), options: screen,
        engine: DemoEngine(engine), settings: settings, demoPrompts: prompts)
}

/// A line of a prompt file that the demo reads.
private struct PromptLine: Decodable {
    var id: String?
    var domain: String?
    var prompt: String
}

/// The demo's prompts: the favourites in order, then the rest in a fixed shuffled order.
func loadDemoPrompts(_ folder: URL) throws -> [DemoPrompt] {
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".jsonl") }.sorted()
    var byID: [String: DemoPrompt] = [:]
    var all: [DemoPrompt] = []
    for file in files {
        let path = folder.appendingPathComponent(file).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for (index, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            let entry: PromptLine
            do {
                entry = try JSONDecoder().decode(PromptLine.self, from: Data(line.utf8))
            } catch {
                throw UsageError("demo: \(path):\(index + 1): not a prompt line (\(error))")
            }
            let prompt = DemoPrompt(label: entry.domain ?? file, text: entry.prompt)
            all.append(prompt)
            if let id = entry.id { byID[id] = prompt }
        }
    }
    guard !all.isEmpty else { throw UsageError("demo: no prompts in \(folder.path)") }
    let favourites = demoFavourites.compactMap { byID[$0] }
    // a fixed shuffle (linear congruential), so every run shows the same sequence
    var state: UInt64 = 2026
    var rest = all.filter { !favourites.contains($0) }
    for index in stride(from: rest.count - 1, to: 0, by: -1) {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        rest.swapAt(index, Int((state >> 33) % UInt64(index + 1)))
    }
    return favourites + rest
}

/// The demo runs every prompt from an empty context: each answer stands alone.
final class DemoEngine: SessionEngine, @unchecked Sendable {
    let base: EngineSession
    var model: ModelDescription { base.model }

    init(_ base: EngineSession) { self.base = base }

    func run(
        prompt: String, settings: SessionSettings, emit: (TokenStep) -> Void,
        shouldStop: () -> Bool
    ) throws {
        let options = GenerationOptions(
            maxTokens: settings.maxTokens, sampler: base.sampler(settings), capturesRouting: true)
        let run = try base.generator.generate(
            prompt: base.generator.tokenize(prompt), options: options)
        for step in run {
            emit(step)
            if shouldStop() { base.generator.requestStop() }
        }
    }
}
