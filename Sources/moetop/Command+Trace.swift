import Foundation
import MoERouting

// `moetop trace stats|export|validate|synth`: tools over routing trace files
// (docs/trace-format.md).

let traceUsage = """
    usage: moetop trace stats TRACE [--phase all|prefill|decode] [--top N] [--json]
           moetop trace export TRACE --csv|--jsonl [--phase all|prefill|decode]
           moetop trace validate TRACE [--lenient]
           moetop trace synth --layers L --experts E --top-k K --tokens N --out FILE
                              [--seed S] [--delay-ms D] [--prefill P] [--no-probs] [--logits]

    Tools for routing traces (JSON Lines, gzip when the name ends in .gz).
    moetop trace SUBCOMMAND --help for each.
    """

func runTrace(_ arguments: [String]) throws -> Int32 {
    guard let subcommand = arguments.first else { throw UsageError("trace: \(traceUsage)") }
    let rest = Array(arguments.dropFirst())
    switch subcommand {
    case "stats": return try runTraceStats(rest)
    case "export": return try runTraceExport(rest)
    case "validate": return try runTraceValidate(rest)
    case "synth": return try runTraceSynth(rest)
    case "--help", "-h", "help":
        print(traceUsage)
        return 0
    default:
        throw UsageError(
            "trace: unknown subcommand '\(subcommand)' (stats, export, validate, synth)")
    }
}

/// True (after printing `usage`) when the arguments ask for help.
private func helpRequested(_ arguments: [String], _ usage: String) -> Bool {
    guard arguments.contains("--help") || arguments.contains("-h") else { return false }
    print(usage)
    return true
}

/// The one TRACE argument of a subcommand.
private func tracePath(_ parsed: Arguments) throws -> String {
    try parsed.expectPositional(atMost: 1)
    guard let path = parsed.positional.first else {
        throw UsageError(
            "\(parsed.command): needs a TRACE file (see moetop \(parsed.command) --help)")
    }
    return path
}

/// The phases `--phase` selects.
private func phases(_ parsed: Arguments) throws -> Set<Phase> {
    switch parsed.string("--phase") ?? "all" {
    case "all": return Set(Phase.allCases)
    case "prefill": return [.prefill]
    case "decode": return [.decode]
    case let other:
        throw UsageError(
            "\(parsed.command): --phase expects all, prefill or decode, got '\(other)'")
    }
}

/// Reads a trace and notes on stderr anything the reader tolerated.
private func readTrace(_ path: String, options: TraceReadOptions) throws -> Trace {
    let trace = try TraceReader.read(path: path, options: options)
    let report = trace.report
    if let torn = report.tornLastLine {
        printError("moetop: \(path):\(torn): incomplete last line dropped (recording cut short)")
    } else if report.truncatedCompression {
        printError("moetop: \(path): gzip stream ends early (recording cut short)")
    }
    if report.skippedLines > 0 {
        printError("moetop: \(path): skipped \(report.skippedLines) bad lines")
    }
    return trace
}

// MARK: stats

private let statsUsage = """
    usage: moetop trace stats TRACE [--phase all|prefill|decode] [--top N] [--json]

    Per MoE layer: balance of the expert load (normalised entropy, effective experts exp(H),
    Gini, Jain index, top-3 share, CV, max/mean, dead and rare experts), the most used experts,
    the consecutive-token repeat rate (top-1, and top-k overlap, with their random baselines)
    and the most frequent co-activated pairs. Formulas: Sources/MoERouting/LoadMetrics.swift.

      --phase P   count prefill tokens, decode tokens, or all (default all)
      --top N     experts and pairs listed per layer (default 3)
      --json      one JSON object on stdout instead of text
    """

/// Statistics of one MoE layer, as `--json` prints them.
private struct LayerStats: Encodable {
    struct Expert: Encodable {
        var expert: Int
        var share: Double
        var relativeLoad: Double
    }
    struct Pair: Encodable {
        var a: Int
        var b: Int
        var tokens: Int
        /// P(b | a)
        var conditional: Double
    }
    var layer: Int
    var tokens: Int
    var normalizedEntropy: Double
    var effectiveExperts: Double
    var gini: Double
    var jainIndex: Double
    var top3Share: Double
    var coefficientOfVariation: Double
    var maxOverMean: Double
    var coverage: Double
    var deadExperts: [Int]
    var rareExperts: [Int]
    var topExperts: [Expert]
    var top1RepeatRate: Double?
    var topKOverlap: Double?
    var topPairs: [Pair]
}

private struct TraceStats: Encodable {
    var trace: String
    var model: String
    var architecture: String
    var fingerprint: String
    var moeLayers: Int
    var experts: Int
    var topK: Int
    var tokens: Int
    var prefillTokens: Int
    var decodeTokens: Int
    var prompts: Int
    var phase: String
    var fairShare: Double
    var top1RepeatBaseline: Double
    var topKOverlapBaseline: Double
    var thresholds: ExpertThresholds
    var coverage: Double
    var layers: [LayerStats]
}

private func runTraceStats(_ arguments: [String]) throws -> Int32 {
    if helpRequested(arguments, statsUsage) { return 0 }
    let parsed = try Arguments(
        command: "trace stats", arguments, options: ["--phase", "--top"], flags: ["--json"])
    let path = try tracePath(parsed)
    let selected = try phases(parsed)
    let top = try parsed.int("--top", default: 3, in: 0...1000)
    let trace = try readTrace(path, options: .init(probabilities: false, logits: false))
    let model = trace.header.model
    let (layers, e) = (trace.layerCount, trace.expertCount)

    // count per layer, pairing consecutive tokens within each prompt's run
    var counts = [[Int]](repeating: [Int](repeating: 0, count: e), count: layers)
    var sequences = [SequenceCounts](repeating: SequenceCounts(expertCount: e), count: layers)
    let promptStarts = Set(trace.prompts.map(\.tokenIndex))
    var counted = 0
    for token in 0..<trace.count {
        if promptStarts.contains(token) {
            for slot in 0..<layers { sequences[slot].breakSequence() }
        }
        guard selected.contains(trace.phases[token]), trace.hasRouting[token] else { continue }
        counted += 1
        for slot in 0..<layers {
            let experts = trace.experts(token: token, slot: slot)
            for expert in experts { counts[slot][Int(expert)] += 1 }
            sequences[slot].add(experts)
        }
    }

    // metrics per layer
    var layerStats: [LayerStats] = []
    var used = 0
    for slot in 0..<layers {
        used += counts[slot].count(where: { $0 > 0 })
        guard let balance = LoadBalance(counts: counts[slot]) else { continue }
        let sequence = sequences[slot]
        let ranked = balance.shares.indices.sorted {
            balance.shares[$0] != balance.shares[$1]
                ? balance.shares[$0] > balance.shares[$1] : $0 < $1
        }
        layerStats.append(
            LayerStats(
                layer: model.moeLayers[slot], tokens: counted,
                normalizedEntropy: balance.normalizedEntropy,
                effectiveExperts: balance.effectiveExperts, gini: balance.gini,
                jainIndex: balance.jainIndex, top3Share: balance.top3Share,
                coefficientOfVariation: balance.coefficientOfVariation,
                maxOverMean: balance.maxOverMean, coverage: balance.coverage,
                deadExperts: balance.deadExperts, rareExperts: balance.rareExperts,
                topExperts: ranked.prefix(top).map {
                    .init(
                        expert: $0, share: balance.shares[$0],
                        relativeLoad: balance.relativeLoads[$0])
                },
                top1RepeatRate: sequence.top1RepeatRate, topKOverlap: sequence.topKOverlap,
                topPairs: sequence.topPairs(top).map {
                    .init(
                        a: $0.a, b: $0.b, tokens: $0.count,
                        conditional: sequence.conditional($0.b, given: $0.a) ?? 0)
                }))
    }
    let stats = TraceStats(
        trace: path, model: model.name, architecture: model.architecture,
        fingerprint: model.fingerprint, moeLayers: layers, experts: e,
        topK: model.expertsPerToken, tokens: trace.count,
        prefillTokens: trace.phases.count(where: { $0 == .prefill }),
        decodeTokens: trace.phases.count(where: { $0 == .decode }), prompts: trace.prompts.count,
        phase: parsed.string("--phase") ?? "all", fairShare: model.fairShare,
        top1RepeatBaseline: RepeatBaseline.top1(expertCount: e),
        topKOverlapBaseline: RepeatBaseline.topKOverlap(
            expertsPerToken: model.expertsPerToken, expertCount: e),
        thresholds: ExpertThresholds(),
        coverage: layers * e == 0 ? 0 : Double(used) / Double(layers * e), layers: layerStats)

    if parsed.flag("--json") {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        print(String(decoding: try encoder.encode(stats), as: UTF8.self))
    } else {
        printStats(stats)
    }
    return 0
}

private func printStats(_ stats: TraceStats) {
    func fixed(_ value: Double?, _ digits: Int = 3) -> String {
        guard let value else { return "-" }
        return String(format: "%.\(digits)f", value)
    }
    func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
    print("trace     \(stats.trace)")
    print(
        "model     \(stats.model) · \(stats.architecture) · fingerprint \(stats.fingerprint)")
    print(
        "shape     \(stats.moeLayers) MoE layers × \(stats.experts) experts · top-\(stats.topK) · fair share k/E \(fixed(stats.fairShare, 4))"
    )
    print(
        "tokens    \(stats.tokens) (\(stats.prefillTokens) prefill, \(stats.decodeTokens) decode) · \(stats.prompts) prompts · counted: \(stats.phase)"
    )
    print(
        "coverage  \(fixed(stats.coverage * 100, 1)) % of (layer, expert) slots used · repeat baselines: top-1 \(fixed(stats.top1RepeatBaseline)), top-k overlap \(fixed(stats.topKOverlapBaseline))"
    )
    print(
        "dead: never chosen · rare: under \(stats.thresholds.rare)× a fair share · relative load = share × E"
    )
    print()
    let columns = [
        ("layer", 5), ("H/lnE", 6), ("exp(H)", 7), ("Gini", 6), ("Jain", 6), ("top3", 6),
        ("CV", 6), ("max/mean", 8), ("dead", 5), ("rare", 5), ("rep1", 6), ("repk", 6),
    ]
    print(columns.map { pad($0.0, $0.1) }.joined(separator: " ") + "  top experts (share)")
    for layer in stats.layers {
        let values = [
            "\(layer.layer)", fixed(layer.normalizedEntropy), fixed(layer.effectiveExperts, 1),
            fixed(layer.gini), fixed(layer.jainIndex), fixed(layer.top3Share),
            fixed(layer.coefficientOfVariation, 2), fixed(layer.maxOverMean, 2),
            "\(layer.deadExperts.count)", "\(layer.rareExperts.count)",
            fixed(layer.top1RepeatRate), fixed(layer.topKOverlap),
        ]
        let top = layer.topExperts.map { "\($0.expert) (\(fixed($0.share * 100, 1))%)" }
        print(
            zip(values, columns).map { pad($0, $1.1) }.joined(separator: " ") + "  "
                + top.joined(separator: ", "))
    }
    print()
    print("co-activation: most frequent pairs per layer, tokens (P(b|a))")
    for layer in stats.layers where !layer.topPairs.isEmpty {
        let pairs = layer.topPairs.map {
            "\($0.a)+\($0.b) \($0.tokens) (\(fixed($0.conditional, 2)))"
        }
        print("\(pad("\(layer.layer)", 5))  " + pairs.joined(separator: ", "))
    }
}

// MARK: export

private let exportUsage = """
    usage: moetop trace export TRACE --csv|--jsonl [--phase all|prefill|decode]

    Writes the routing in long format to stdout: one row per token × MoE layer × rank.
    Columns: token (index in the trace), position, phase, token_id, layer (block index),
    rank (0 = best), expert, weight (empty in CSV, null in JSON Lines, when the trace did
    not record weights).

      --csv       comma-separated values with a header row
      --jsonl     one JSON object per row
      --phase P   export prefill tokens, decode tokens, or all (default all)
    """

private func runTraceExport(_ arguments: [String]) throws -> Int32 {
    if helpRequested(arguments, exportUsage) { return 0 }
    let parsed = try Arguments(
        command: "trace export", arguments, options: ["--phase"], flags: ["--csv", "--jsonl"])
    let path = try tracePath(parsed)
    let selected = try phases(parsed)
    guard parsed.flag("--csv") != parsed.flag("--jsonl") else {
        throw UsageError("trace export: choose one of --csv and --jsonl")
    }
    let csv = parsed.flag("--csv")
    let trace = try readTrace(path, options: .init(probabilities: false, logits: false))
    let layers = trace.header.model.moeLayers

    var out = BufferedOutput()
    if csv { try out.write("token,position,phase,token_id,layer,rank,expert,weight\n") }
    for token in 0..<trace.count
    where selected.contains(trace.phases[token]) && trace.hasRouting[token] {
        let prefix =
            csv
            ? "\(token),\(trace.positions[token]),\(trace.phases[token].rawValue),\(trace.tokenIDs[token]),"
            : "{\"token\":\(token),\"position\":\(trace.positions[token]),\"phase\":\"\(trace.phases[token].rawValue)\",\"token_id\":\(trace.tokenIDs[token]),"
        for (slot, layer) in layers.enumerated() {
            let experts = trace.experts(token: token, slot: slot)
            let weights = trace.weights(token: token, slot: slot)
            for (rank, (expert, weight)) in zip(experts, weights).enumerated() {
                // unknown weights (NaN) are an empty CSV field and JSON null
                let weightText =
                    weight.isNaN ? "null" : weight.isFinite ? weight.description : "\"\(weight)\""
                if csv {
                    try out.write(
                        prefix
                            + "\(layer),\(rank),\(expert),\(weight.isNaN ? "" : weight.description)\n"
                    )
                } else {
                    try out.write(
                        prefix
                            + "\"layer\":\(layer),\"rank\":\(rank),\"expert\":\(expert),\"weight\":\(weightText)}\n"
                    )
                }
            }
        }
    }
    try out.flush()
    return 0
}

/// Stdout in large writes.
private struct BufferedOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        try writeStandardOutput(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

// MARK: validate

private let validateUsage = """
    usage: moetop trace validate TRACE [--lenient]

    Reads the whole trace and lists every bad line on stderr as FILE:LINE: column C: problem.
    Prints a summary on stdout. Exit status 1 when the header is bad or any line is bad;
    with --lenient, bad lines are counted but the exit status is 0 unless the header is bad.
    An incomplete last line (a recording cut short) is reported but is not an error.
    """

private func runTraceValidate(_ arguments: [String]) throws -> Int32 {
    if helpRequested(arguments, validateUsage) { return 0 }
    let parsed = try Arguments(
        command: "trace validate", arguments, options: [], flags: ["--lenient"])
    let path = try tracePath(parsed)
    let trace = try TraceReader.read(
        path: path, options: .init(lenient: true, maxIssues: Int.max))
    let report = trace.report
    for issue in report.issues {
        printError("\(path):\(issue.line): \(issue.message)")
    }
    if let torn = report.tornLastLine {
        printError("\(path):\(torn): incomplete last line (recording cut short); ignored")
    } else if report.truncatedCompression {
        printError("\(path): gzip stream ends early (recording cut short); ignored")
    }
    let model = trace.header.model
    var summary =
        "\(path): format v\(trace.header.version), \(model.name) (\(model.fingerprint)), \(trace.count) tokens, \(trace.prompts.count) prompts, \(report.lines) lines"
    if report.ignoredEvents > 0 { summary += ", \(report.ignoredEvents) unknown events ignored" }
    summary += report.skippedLines == 0 ? ": ok" : ": \(report.skippedLines) bad lines"
    print(summary)
    return report.skippedLines > 0 && !parsed.flag("--lenient") ? 1 : 0
}

// MARK: synth

private let traceSynthUsage = """
    usage: moetop trace synth --layers L --experts E --top-k K --tokens N --out FILE
                              [--seed S] [--delay-ms D] [--prefill P] [--no-probs] [--logits]

    Writes a trace of made-up routing (Zipf-like expert popularity per layer, Gaussian noise,
    some persistence between tokens) for a made-up model: for benchmarks, crash tests and
    demos. The same seed gives the same trace. Gzip when FILE ends in .gz.

      --layers L     MoE layers (1...1024)
      --experts E    experts per layer (1...32767)
      --top-k K      experts chosen per token (1...E)
      --tokens N     tokens to write
      --out FILE     where to write
      --seed S       random seed (default 1)
      --delay-ms D   sleep D milliseconds after each token (default 0)
      --prefill P    the first P tokens are prefill, the rest decode (default 0)
      --no-probs     leave out the probability vectors (top-k ids and weights only)
      --logits       also write the router logits
    """

private func runTraceSynth(_ arguments: [String]) throws -> Int32 {
    if helpRequested(arguments, traceSynthUsage) { return 0 }
    let parsed = try Arguments(
        command: "trace synth", arguments,
        options: [
            "--layers", "--experts", "--top-k", "--tokens", "--out", "--seed", "--delay-ms",
            "--prefill",
        ],
        flags: ["--no-probs", "--logits"])
    try parsed.expectPositional(atMost: 0)
    for required in ["--layers", "--experts", "--top-k", "--tokens", "--out"]
    where parsed.string(required) == nil {
        throw UsageError("trace synth: \(required) is required (see moetop trace synth --help)")
    }
    let layers = try parsed.int("--layers", default: 0, in: 1...1024)
    let experts = try parsed.int("--experts", default: 0, in: 1...Int(Int16.max))
    let topK = try parsed.int("--top-k", default: 0, in: 1...experts)
    let tokens = try parsed.int("--tokens", default: 0, in: 0...100_000_000)
    let seed = try parsed.int("--seed", default: 1, in: 0...Int.max)
    let delay = try parsed.int("--delay-ms", default: 0, in: 0...600_000)
    let prefill = try parsed.int("--prefill", default: 0, in: 0...Int.max)
    let out = parsed.string("--out")!

    let model = SyntheticRouting.model(
        layers: layers, experts: experts, topK: topK, seed: UInt64(seed))
    var routing = SyntheticRouting(model: model, seed: UInt64(seed))
    let writer = try TraceWriter(
        path: out,
        header: TraceHeader(
            model: model, sampling: SamplingSettings(temperature: 0, seed: UInt64(seed)),
            created: TraceHeader.now(), producer: "moetop \(moetopVersion) trace synth"),
        options: .init(probabilities: !parsed.flag("--no-probs"), logits: parsed.flag("--logits")))
    try writer.write(prompt: "synthetic routing, seed \(seed)")
    let start = Date()
    var writing = 0.0
    var writingCPU = 0.0
    for _ in 0..<tokens {
        let step = routing.next(prefillTokens: prefill)
        let before = Date()
        let beforeCPU = threadCPUSeconds()
        try writer.write(step: step)
        writingCPU += threadCPUSeconds() - beforeCPU
        writing += Date().timeIntervalSince(before)
        if delay > 0 { usleep(UInt32(delay * 1000)) }
    }
    try writer.close()
    let seconds = Date().timeIntervalSince(start)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
    let perToken = tokens > 0 ? Double(bytes) / Double(tokens) : 0
    let perTokenMicroseconds = { (total: Double) in
        String(format: "%.1f", tokens > 0 ? total / Double(tokens) * 1e6 : 0)
    }
    printError(
        "moetop: wrote \(out): \(tokens) tokens, \(bytes) bytes (\(String(format: "%.0f", perToken)) per token) in \(String(format: "%.2f", seconds)) s; TraceWriter.write(step:) per token: \(perTokenMicroseconds(writingCPU)) µs CPU, \(perTokenMicroseconds(writing)) µs wall"
    )
    return 0
}

/// CPU time of the calling thread, in seconds: unlike wall time, not inflated by other
/// processes competing for the cores.
private func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
