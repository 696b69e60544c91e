import Foundation
import MoEEngine
import MoEGGUF
import MoERouting

private let benchUsage = """
    usage: moetop bench [MODEL] [-m MODEL] [-p 128] [-n 64] [-t THREADS] [--json]
           moetop bench --kernels [--type Q8_0] [-n 64] [-t THREADS] [--json]

    Measures prefill and decode throughput (tokens/s) of MODEL, and decode with routing
    capture on and off (the overhead in %).

    --kernels measures the kernels alone, without a model: the matrix-vector products of one
    decode step of the benchmark anchor (qwen3moe: hidden 1024, 16 layers, 16 heads of 64,
    4 KV heads, 64 experts of 256, top-8, vocab 32000) on random weights of --type, with
    random experts per token.

    options:
      -m, --model FILE    the model (or give it as the argument)
      -p, --prompt-tokens N   prompt length for prefill (default 128)
      -n, --tokens N      decode steps (default 64)
      -t, --threads N     worker threads (default: every core)
      --type TYPE         weight type for --kernels (F32, F16, BF16, Q8_0, Q4_0, Q4_K, ...)
      --json              one JSON object on stdout
      --help
    """

/// `moetop bench`.
func runBench(_ arguments: [String]) throws -> Int32 {
    let options = try Arguments(
        command: "bench", arguments,
        options: ["--model", "--prompt-tokens", "--tokens", "--threads", "--type"],
        flags: ["--json", "--help", "--kernels"],
        aliases: ["-m": "--model", "-p": "--prompt-tokens", "-n": "--tokens", "-t": "--threads"])
    if options.flag("--help") {
        print(benchUsage)
        return 0
    }
    try options.expectPositional(atMost: 1)
    let threads = try options.int(
        "--threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256)
    let tokens = try options.int("--tokens", default: 64, in: 1...100_000)

    if options.flag("--kernels") {
        let typeName = options.string("--type") ?? "Q8_0"
        guard let type = GGMLType.allCases.first(where: { $0.name == typeName.uppercased() }),
            kernelsSupport(type)
        else {
            throw UsageError(
                "bench: --type expects one of "
                    + GGMLType.allCases.filter(kernelsSupport).map(\.name).joined(separator: ", ")
                    + ", got '\(typeName)'")
        }
        let result = runKernelBench(type: type, threads: threads, tokens: tokens)
        if options.flag("--json") {
            print(
                """
                {"mode":"kernels","type":"\(type.name)","threads":\(threads),\
                "tokens":\(tokens),"decode_tokens_per_second":\(result.tokensPerSecond),\
                "weight_bytes_per_token":\(result.bytesPerToken),\
                "weight_gigabytes_per_second":\(result.gigabytesPerSecond),\
                "cpu_seconds_per_token":\(result.cpuSecondsPerToken)}
                """)
        } else {
            print(
                "kernels \(type.name), \(threads) threads: decode matVec work "
                    + String(format: "%.1f tok/s", result.tokensPerSecond)
                    + String(format: " (%.0f MB of weights per token, ", result.bytesPerToken / 1e6)
                    + String(format: "%.2f GB/s), ", result.gigabytesPerSecond)
                    + String(
                        format: "%.1f ms processor time per token", 1000 * result.cpuSecondsPerToken
                    ))
        }
        return 0
    }

    let promptTokens = try options.int("--prompt-tokens", default: 128, in: 1...1_000_000)
    if options.string("--model") != nil && !options.positional.isEmpty {
        throw UsageError("bench: give the model once, as the argument or with -m")
    }
    let url = try modelURL(options.string("--model") ?? options.positional.first)
    let result = try runModelBench(
        url: url, threads: threads, promptTokens: promptTokens, decodeTokens: tokens)
    if options.flag("--json") {
        print(
            """
            {"mode":"model","model":\(jsonString(url.lastPathComponent)),"threads":\(threads),\
            "prompt_tokens":\(promptTokens),"decode_tokens":\(tokens),\
            "prefill_tokens_per_second":\(result.prefill),\
            "decode_tokens_per_second":\(result.decode),\
            "decode_tokens_per_second_capture":\(result.decodeCapture),\
            "capture_overhead_percent":\(result.captureOverheadPercent),\
            "decode_cpu_seconds_per_token":\(result.decodeCPUSeconds),\
            "decode_cpu_seconds_per_token_capture":\(result.decodeCaptureCPUSeconds),\
            "capture_cpu_overhead_percent":\(result.captureCPUOverheadPercent)}
            """)
    } else {
        print("model      \(url.lastPathComponent), \(threads) threads")
        print(String(format: "prefill    %8.1f tok/s  (%d tokens)", result.prefill, promptTokens))
        print(
            String(
                format: "decode     %8.1f tok/s  (%d tokens, capture off; "
                    + "%.1f ms processor time per token)",
                result.decode, tokens, 1000 * result.decodeCPUSeconds))
        print(
            String(
                format: "decode     %8.1f tok/s  (capture on; %.1f ms processor time per token)",
                result.decodeCapture, 1000 * result.decodeCaptureCPUSeconds))
        print(
            String(
                format: "capture    %+8.1f %% of decode time (%+.1f %% of processor time)",
                result.captureOverheadPercent, result.captureCPUOverheadPercent))
    }
    return 0
}

/// A JSON string literal.
private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

// MARK: - A model

private struct ModelBenchResult {
    /// Tokens per second, wall clock.
    var prefill: Double
    var decode: Double
    var decodeCapture: Double
    /// Processor seconds per decode step (all threads).
    var decodeCPUSeconds: Double
    var decodeCaptureCPUSeconds: Double

    /// How much longer a decode step takes with routing capture on, in % (wall clock).
    var captureOverheadPercent: Double { 100 * (decode / decodeCapture - 1) }
    /// The same in processor time, which other work on the machine disturbs less.
    var captureCPUOverheadPercent: Double {
        100 * (decodeCaptureCPUSeconds / decodeCPUSeconds - 1)
    }
}

/// Prefill of `promptTokens` random tokens, then `decodeTokens` greedy decode steps, in four
/// rounds (capture off, on, on, off: a drift in machine load cancels out between the two).
/// Prefill speed is the best round's; decode speeds are totals over their two rounds.
private func runModelBench(url: URL, threads: Int, promptTokens: Int, decodeTokens: Int) throws
    -> ModelBenchResult
{
    let model = try Model(url: url)
    let session = try InferenceSession(
        model: model, contextLength: promptTokens + decodeTokens, threads: threads)
    var random = SeededRandom(seed: 7)
    let vocabulary = model.hyperparameters.vocabularySize
    let prompt = (0..<promptTokens).map { _ in
        Int32(Int.random(in: 0..<vocabulary, using: &random))
    }

    var bestPrefill = 0.0
    var decodeSeconds = [false: 0.0, true: 0.0]
    var decodeCPU = [false: 0.0, true: 0.0]
    var generated: [Bool: [Int32]] = [:]
    for capture in [false, true, true, false] {
        // prefill
        session.reset()
        let prefillStart = DispatchTime.now().uptimeNanoseconds
        var evaluation = try session.evaluate(prompt, logits: .last, captureRouting: capture)
        let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - prefillStart) / 1e9
        bestPrefill = max(bestPrefill, Double(promptTokens) / prefillSeconds)

        // greedy decode
        var tokens: [Int32] = []
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = processCPUSeconds()
        for _ in 0..<decodeTokens {
            let next = Int32(argmax(evaluation.logits))
            tokens.append(next)
            evaluation = try session.evaluate([next], logits: .last, captureRouting: capture)
        }
        decodeSeconds[capture]! += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        decodeCPU[capture]! += processCPUSeconds() - cpuStart
        if let earlier = generated[capture], earlier != tokens {
            throw BenchError.nondeterministic
        }
        generated[capture] = tokens
    }
    guard generated[false] == generated[true] else { throw BenchError.captureChangedTokens }
    let steps = Double(2 * decodeTokens)
    return ModelBenchResult(
        prefill: bestPrefill, decode: steps / decodeSeconds[false]!,
        decodeCapture: steps / decodeSeconds[true]!,
        decodeCPUSeconds: decodeCPU[false]! / steps,
        decodeCaptureCPUSeconds: decodeCPU[true]! / steps)
}

/// The index of the largest value (the first one on ties).
private func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in 1..<values.count where values[i] > values[best] { best = i }
    return best
}

/// A benchmark run that contradicts the engine's guarantees.
private enum BenchError: Error, CustomStringConvertible {
    case nondeterministic
    case captureChangedTokens

    var description: String {
        switch self {
        case .nondeterministic:
            "bench: two identical decode runs gave different tokens (the engine should be deterministic)"
        case .captureChangedTokens:
            "bench: routing capture changed the generated tokens (it should only observe)"
        }
    }
}

// MARK: - Kernels alone

/// The benchmark anchor's shapes (issue 4).
private enum Anchor {
    static let hidden = 1024
    static let layers = 16
    static let heads = 16
    static let headDimension = 64
    static let kvHeads = 4
    static let experts = 64
    static let expertFF = 256
    static let expertsPerToken = 8
    static let vocabulary = 32000
}

private struct KernelBenchResult {
    var tokensPerSecond: Double
    var bytesPerToken: Double
    var gigabytesPerSecond: Double
    /// Processor time (user + system, every thread) per decode step, in seconds: on a machine
    /// shared with other work, the wall-clock figure depends on what else runs; this does not.
    var cpuSecondsPerToken: Double
}

/// User plus system processor time of this process so far, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// A random-weight matrix owned by the benchmark.
private final class RandomMatrix {
    let storage: UnsafeMutableRawPointer
    let matrix: WeightMatrix

    init(type: GGMLType, rows: Int, columns: Int, random: inout SeededRandom) {
        let bytes = rows * type.rowBytes(columns: columns)!
        storage = .allocate(byteCount: bytes, alignment: 64)
        fillRandomBlocks(storage, byteCount: bytes, type: type, random: &random)
        matrix = WeightMatrix(type: type, rows: rows, columns: columns, base: storage)
    }

    deinit { storage.deallocate() }
}

/// Fills whole blocks of `type` with random bytes, then sets every F16 scale field to a
/// moderate value so the blocks decode to finite numbers. Float types get values in ±1.
private func fillRandomBlocks(
    _ p: UnsafeMutableRawPointer, byteCount: Int, type: GGMLType, random: inout SeededRandom
) {
    let words = byteCount / 8
    let w = p.bindMemory(to: UInt64.self, capacity: words)
    for i in 0..<words { w[i] = random.next() }
    for i in (words * 8)..<byteCount {
        p.storeBytes(of: UInt8(i & 0xFF), toByteOffset: i, as: UInt8.self)
    }

    let scaleFields: [Int]
    switch type {
    case .f32:
        let f = p.bindMemory(to: Float.self, capacity: byteCount / 4)
        for i in 0..<(byteCount / 4) { f[i] = Float.random(in: -1...1, using: &random) }
        return
    case .f16, .bf16:
        let h = p.bindMemory(to: UInt16.self, capacity: byteCount / 2)
        for i in 0..<(byteCount / 2) {
            let value = Float.random(in: -1...1, using: &random)
            h[i] = type == .f16 ? Float16(value).bitPattern : UInt16(value.bitPattern >> 16)
        }
        return
    case .q8_0, .q4_0, .q5_0: scaleFields = [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: scaleFields = [0, 2]
    case .q2_K: scaleFields = [80, 82]
    case .q3_K: scaleFields = [108]
    case .q6_K: scaleFields = [208]
    default: scaleFields = []
    }
    let scale = Float16(0.01).bitPattern
    for block in 0..<(byteCount / type.blockBytes) {
        for field in scaleFields {
            p.storeBytes(of: scale, toByteOffset: block * type.blockBytes + field, as: UInt16.self)
        }
    }
}

/// One decode step's matrix-vector products on the anchor's shapes, `tokens` times.
private func runKernelBench(type: GGMLType, threads: Int, tokens: Int) -> KernelBenchResult {
    var random = SeededRandom(seed: 1)
    let d = Anchor.hidden
    let kvWidth = Anchor.kvHeads * Anchor.headDimension
    let qWidth = Anchor.heads * Anchor.headDimension
    let ff = Anchor.expertFF

    // weights
    struct Layer {
        var q, k, v, o, router, gate, up, down: RandomMatrix
    }
    let layers = (0..<Anchor.layers).map { _ in
        Layer(
            q: RandomMatrix(type: type, rows: qWidth, columns: d, random: &random),
            k: RandomMatrix(type: type, rows: kvWidth, columns: d, random: &random),
            v: RandomMatrix(type: type, rows: kvWidth, columns: d, random: &random),
            o: RandomMatrix(type: type, rows: d, columns: qWidth, random: &random),
            router: RandomMatrix(type: .f32, rows: Anchor.experts, columns: d, random: &random),
            gate: RandomMatrix(type: type, rows: Anchor.experts * ff, columns: d, random: &random),
            up: RandomMatrix(type: type, rows: Anchor.experts * ff, columns: d, random: &random),
            down: RandomMatrix(type: type, rows: Anchor.experts * d, columns: ff, random: &random))
    }
    let output = RandomMatrix(type: type, rows: Anchor.vocabulary, columns: d, random: &random)

    // activations: [hidden], [q], [kv], [experts], [k, ff] x2, [k, hidden], [vocab]
    let x = UnsafeMutablePointer<Float>.allocate(capacity: max(d, qWidth))
    let q = UnsafeMutablePointer<Float>.allocate(capacity: qWidth)
    let kv = UnsafeMutablePointer<Float>.allocate(capacity: 2 * kvWidth)
    let routerLogits = UnsafeMutablePointer<Float>.allocate(capacity: Anchor.experts)
    let gate = UnsafeMutablePointer<Float>.allocate(capacity: Anchor.expertsPerToken * ff)
    let up = UnsafeMutablePointer<Float>.allocate(capacity: Anchor.expertsPerToken * ff)
    let down = UnsafeMutablePointer<Float>.allocate(capacity: Anchor.expertsPerToken * d)
    let logits = UnsafeMutablePointer<Float>.allocate(capacity: Anchor.vocabulary)
    for i in 0..<max(d, qWidth) { x[i] = Float.random(in: -1...1, using: &random) }
    defer {
        for buffer in [x, q, kv, routerLogits, gate, up, down, logits] { buffer.deallocate() }
    }

    let pool = ThreadPool(threadCount: threads)
    var bytesPerToken = 0
    var elapsed: Double = 0
    var cpu: Double = 0
    for token in 0...tokens {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = processCPUSeconds()
        var bytes = 0
        for layer in layers {
            // attention projections
            matVec(
                [
                    MatVecProduct(layer.q.matrix, x, q),
                    MatVecProduct(layer.k.matrix, x, kv),
                    MatVecProduct(layer.v.matrix, x, kv + kvWidth),
                ], pool: pool)
            matVec(layer.o.matrix, q, x, pool: pool)
            matVec(layer.router.matrix, x, routerLogits, pool: pool)
            bytes += 2 * (qWidth + kvWidth) * layer.q.matrix.rowBytes
            bytes += Anchor.experts * layer.router.matrix.rowBytes

            // experts: gate and up in one pass, SwiGLU, down in one pass
            let chosen = (0..<Anchor.expertsPerToken).map { _ in
                Int.random(in: 0..<Anchor.experts, using: &random)
            }
            var products: [MatVecProduct] = []
            for (slot, expert) in chosen.enumerated() {
                products.append(
                    MatVecProduct(
                        layer.gate.matrix.slice(rows: expert * ff, count: ff), x, gate + slot * ff))
                products.append(
                    MatVecProduct(
                        layer.up.matrix.slice(rows: expert * ff, count: ff), x, up + slot * ff))
            }
            matVec(products, pool: pool)
            siluMul(gate, up, into: gate, count: Anchor.expertsPerToken * ff)
            products = chosen.enumerated().map { slot, expert in
                MatVecProduct(
                    layer.down.matrix.slice(rows: expert * d, count: d), gate + slot * ff,
                    down + slot * d)
            }
            matVec(products, pool: pool)
            bytes += Anchor.expertsPerToken * 3 * ff * layer.gate.matrix.rowBytes
        }
        matVec(output.matrix, x, logits, pool: pool)
        bytes += Anchor.vocabulary * output.matrix.rowBytes
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // the first step warms caches and threads; it is not counted
        if token > 0 {
            elapsed += seconds
            cpu += processCPUSeconds() - cpuStart
        }
        bytesPerToken = bytes
    }
    let tokensPerSecond = Double(tokens) / elapsed
    return KernelBenchResult(
        tokensPerSecond: tokensPerSecond, bytesPerToken: Double(bytesPerToken),
        gigabytesPerSecond: Double(bytesPerToken) * tokensPerSecond / 1e9,
        cpuSecondsPerToken: cpu / Double(tokens))
}
