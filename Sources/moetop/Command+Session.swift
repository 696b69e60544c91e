import Foundation
import MoEEngine
import MoERouting
import MoETUI

let sessionUsage = """
    usage: moetop [-m MODEL] [--prompt TEXT] [options]

    The interactive screen: type prompts, watch the router send every token to its experts.

      -m, --model MODEL  GGUF file (default: the embedded moetop-tiny); a lone argument that
                         names a file is the model too
      -p, --prompt TEXT  send this prompt at start
      -n, --tokens N     most tokens per answer (default 256)
      --seed S           sampler seed (default 0)
      --temp T           temperature (default 0.8; 0 greedy)
      --trace FILE       record the routing of the session to FILE (.gz: compressed);
                         the s key starts and stops recording at any time
      --theme NAME|FILE  dark (default), light, high-contrast, monochrome, or a btop theme file
      --ascii            draw with ASCII only (terminals without Unicode)
      --no-mouse         do not capture the mouse
      --threads N        kernel threads (default: all processors)
      --context N        context positions (default: the model's, at most 4096)
      --help             this text

    keys: Enter send  Esc leave the prompt  ? help  q quit  (every key: docs/screen.md)
    Colours follow COLORTERM (truecolor), the terminal's palette, and NO_COLOR.
    """

/// `moetop [-m MODEL]`: the interactive session.
func runSession(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(sessionUsage)
        return 0
    }
    let options = try Arguments(
        command: "moetop", arguments,
        options: [
            "--model", "--prompt", "--tokens", "--seed", "--temp", "--trace", "--theme",
            "--threads", "--context",
        ],
        flags: ["--ascii", "--no-mouse"],
        aliases: ["-m": "--model", "-p": "--prompt", "-n": "--tokens"])
    try options.expectPositional(atMost: 1)
    var modelPath = options.string("--model")
    if let lone = options.positional.first {
        guard modelPath == nil, FileManager.default.fileExists(atPath: lone) else {
            throw UsageError("moetop: unknown command or file '\(lone)' (see moetop --help)")
        }
        modelPath = lone
    }
    let settings = try sessionSettings(options, defaultTokens: 256)
    let engine = try EngineSession(
        url: try modelURL(modelPath), settings: settings,
        threads: try options.int(
            "--threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256),
        context: options.string("--context") == nil
            ? nil : try options.int("--context", default: 0, in: 1...10_000_000))

    // recording: from the start with --trace, or later with the s key
    var recorder: TraceRecorder?
    if let path = options.string("--trace") {
        recorder = try FileTraceRecorder(path: path, engine: engine)
    }
    let screen = ScreenOptions(
        theme: options.string("--theme"), ascii: options.flag("--ascii"),
        mouse: !options.flag("--no-mouse"))
    return try ScreenLoop.run(
        kind: .live, history: RoutingHistory(model: engine.model), options: screen,
        engine: engine, settings: settings, initialPrompt: options.string("--prompt"),
        recorder: recorder,
        makeRecorder: { try FileTraceRecorder(path: try defaultTracePath(), engine: engine) })
}

/// Sampling settings from the command line.
func sessionSettings(_ options: Arguments, defaultTokens: Int) throws -> SessionSettings {
    let seedText = options.string("--seed") ?? "0"
    guard let seed = UInt64(seedText) else {
        throw UsageError(
            "\(options.command): --seed expects an integer in 0...\(UInt64.max), got '\(seedText)'")
    }
    return SessionSettings(
        maxTokens: try options.int("--tokens", default: defaultTokens, in: 1...1_000_000),
        temperature: try options.double("--temp", default: 0.8, in: 0...100), seed: seed)
}

/// Where `s` records when no `--trace` was given: `$XDG_DATA_HOME/moetop/traces/` (or
/// `~/.local/share/moetop/traces/`), one timestamped file per recording (`moetop-<UTC time>.jsonl`).
func defaultTracePath() throws -> String {
    let environment = ProcessInfo.processInfo.environment
    let data =
        environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? NSHomeDirectory() + "/.local/share"
    let folder = data + "/moetop/traces"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    // two recordings within one second get -2, -3 ...: a recording never overwrites another
    let stem = folder + "/moetop-\(formatter.string(from: Date()))"
    var path = stem + ".jsonl"
    var number = 1
    while FileManager.default.fileExists(atPath: path) {
        number += 1
        path = stem + "-\(number).jsonl"
    }
    return path
}

/// The engine's generator as the screen's `SessionEngine`: turns continue the conversation.
///
/// The generator starts every run from an empty context, so each turn runs the transcript so
/// far plus the new prompt; the steps of the transcript's tokens are already on the screen and
/// are not emitted again.
final class EngineSession: SessionEngine, @unchecked Sendable {
    let model: ModelDescription
    let generator: Generator
    let settings: SessionSettings
    /// Every token of the conversation so far. Touched only by the engine thread (one turn at a
    /// time: the screen starts a turn only when the last one finished).
    private var transcript: [Int32] = []

    init(url: URL, settings: SessionSettings, threads: Int, context: Int?) throws {
        generator = try Generator(url: url, contextLength: context, threads: threads)
        model = generator.model.description
        self.settings = settings
    }

    /// The sampler settings a turn uses.
    func sampler(_ settings: SessionSettings) -> SamplerSettings {
        SamplerSettings(
            temperature: Float(settings.temperature), topK: settings.topK,
            topP: Float(settings.topP), seed: settings.seed ?? 0)
    }

    func run(
        prompt: String, settings: SessionSettings, emit: (TokenStep) -> Void,
        shouldStop: () -> Bool
    ) throws {
        // the new prompt after the transcript, on a line of its own; start over when the
        // context would overflow
        var tokens: [Int32]
        if let last = transcript.last {
            let separator = generator.tokenizer.decode([last]).hasSuffix("\n") ? "" : "\n"
            tokens = transcript + generator.tokenizer.encode(separator + prompt, addSpecial: false)
        } else {
            tokens = generator.tokenize(prompt)
        }
        var alreadyShown = transcript.count
        if tokens.count + settings.maxTokens > generator.session.contextLength {
            tokens = generator.tokenize(prompt)
            alreadyShown = 0
        }
        let options = GenerationOptions(
            maxTokens: settings.maxTokens, sampler: sampler(settings), capturesRouting: true)
        let run = try generator.generate(prompt: tokens, options: options)
        var index = 0
        for step in run {
            defer { index += 1 }
            if index < alreadyShown { continue }
            emit(step)
            if shouldStop() { generator.requestStop() }
        }
        transcript = run.tokens
    }
}

/// Records to a trace file through MoERouting's writer (flushed per token).
final class FileTraceRecorder: TraceRecorder {
    let writer: TraceWriter
    var path: String { writer.path }

    init(path: String, engine: EngineSession) throws {
        writer = try TraceWriter(
            path: path,
            header: TraceHeader(
                model: engine.model, sampling: engine.sampler(engine.settings).traceSettings,
                created: TraceHeader.now(), producer: "moetop \(moetopVersion)"))
    }

    func record(prompt: String) throws { try writer.write(prompt: prompt) }
    func record(_ step: TokenStep) throws { try writer.write(step: step) }
    func close() throws { try writer.close() }
}
