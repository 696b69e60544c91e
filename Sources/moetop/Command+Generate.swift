import Foundation
import MoEEngine
import MoERouting

let generateUsage = """
    usage: moetop generate [-m MODEL] --prompt TEXT [-n N] [--seed S] [--temp T] [--top-k K]
                           [--top-p P] [--min-p P] [--repeat-penalty R] [--stop S]
                           [--trace FILE] [--json] [--threads N] [--context N]

    Runs the model headless: the generated text streams to stdout; prefill and decode speeds
    go to stderr.

      -m, --model MODEL     GGUF file (default: the embedded moetop-tiny)
      -p, --prompt TEXT     the prompt (required)
      -n, --tokens N        most tokens to generate (default 128)
      --seed S              sampler seed (default 0); same seed, same tokens
      --temp T              temperature (default 0.8); 0 is greedy
      --top-k K             keep the K most likely tokens (default 40; 0 off)
      --top-p P             nucleus sampling (default 0.95; 1 off)
      --min-p P             drop tokens below P x the top probability (default 0.05; 0 off)
      --repeat-penalty R    penalise the last 64 tokens (default 1, off)
      --stop S              stop when the text contains S (repeatable); S is not printed
      --ignore-eos          keep generating past end-of-sequence tokens
      --trace FILE          write the routing of every token to FILE (.gz: compressed)
      --json                one JSON object per token (prompt and generated) with its routing
                            instead of plain text
      --threads N           kernel threads (default: all processors); results do not change
      --context N           context positions (default: the model's, at most 4096)
      --help                this text
    """

/// `moetop generate`.
func runGenerate(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(generateUsage)
        return 0
    }
    let options = try Arguments(
        command: "generate", arguments,
        options: [
            "--model", "--prompt", "--tokens", "--seed", "--temp", "--top-k", "--top-p",
            "--min-p", "--repeat-penalty", "--stop", "--trace", "--threads", "--context",
        ],
        flags: ["--json", "--ignore-eos"],
        aliases: ["-m": "--model", "-p": "--prompt", "-n": "--tokens"])
    try options.expectPositional(atMost: 0)
    guard let prompt = options.string("--prompt") else {
        throw UsageError("generate: --prompt TEXT is required (see moetop generate --help)")
    }

    // settings
    let seedText = options.string("--seed") ?? "0"
    guard let seed = UInt64(seedText) else {
        throw UsageError(
            "generate: --seed expects an integer in 0...\(UInt64.max), got '\(seedText)'")
    }
    let sampler = SamplerSettings(
        temperature: Float(try options.double("--temp", default: 0.8, in: 0...100)),
        topK: try options.int("--top-k", default: 40, in: 0...1_000_000),
        topP: Float(try options.double("--top-p", default: 0.95, in: 0.000_001...1)),
        minP: Float(try options.double("--min-p", default: 0.05, in: 0...1)),
        repetitionPenalty: Float(
            try options.double("--repeat-penalty", default: 1, in: 0.01...100)),
        seed: seed)
    let generation = GenerationOptions(
        maxTokens: try options.int("--tokens", default: 128, in: 0...1_000_000),
        sampler: sampler, stopStrings: options.strings("--stop"),
        stopsAtEndOfGeneration: !options.flag("--ignore-eos"),
        capturesRouting: options.flag("--json") || options.string("--trace") != nil)
    let threads = try options.int(
        "--threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256)
    let context: Int? =
        options.string("--context") == nil
        ? nil : try options.int("--context", default: 0, in: 1...10_000_000)

    // model, prompt, trace
    let generator = try Generator(
        url: try modelURL(options.string("--model")), contextLength: context, threads: threads)
    let tokens = generator.tokenize(prompt)
    let run = try generator.generate(prompt: tokens, options: generation)
    var trace: TraceWriter?
    if let path = options.string("--trace") {
        trace = try TraceWriter(
            path: path,
            header: TraceHeader(
                model: generator.model.description, sampling: sampler.traceSettings,
                created: TraceHeader.now(), producer: "moetop \(moetopVersion)"))
        try trace?.write(prompt: prompt)
    }

    // steps: text or JSON lines to stdout
    let json = options.flag("--json")
    for step in run {
        try trace?.write(step: step)
        if json {
            try writeStandardOutput(try GeneratedTokenJSON.line(step))
        } else if step.phase == .decode && !step.piece.isEmpty {
            try writeStandardOutput(Data(step.piece.utf8))
        }
    }
    try trace?.close()
    if !json { try writeStandardOutput(Data("\n".utf8)) }

    // speeds to stderr
    let speed = run.throughput
    printError(
        String(
            format: "prefill: %d tokens, %.1f tok/s; decode: %d tokens, %.1f tok/s; stop: %@",
            speed.promptTokens, speed.prefillTokensPerSecond, speed.generatedTokens,
            speed.decodeTokensPerSecond, run.stopReason?.rawValue ?? "none"))
    return 0
}

/// One line of `moetop generate --json`.
struct GeneratedTokenJSON: Encodable {
    struct Routing: Encodable {
        var layer: Int
        var experts: [Int32]
        var weights: [Float]
        var probabilities: [Float]
    }

    var position: Int
    var phase: String
    var id: Int32
    var piece: String
    var routing: [Routing]

    static func line(_ step: TokenStep) throws -> Data {
        let value = GeneratedTokenJSON(
            position: step.position, phase: step.phase.rawValue, id: step.tokenID,
            piece: step.piece,
            routing: step.records.map {
                Routing(
                    layer: $0.layer, experts: $0.experts, weights: $0.weights,
                    probabilities: $0.probabilities)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }
}
