import Foundation
import MoEEngine
import MoEGGUF
import MoERouting

private let synthUsage = """
    usage: moetop synth --arch ARCH --out FILE [--type TYPE] [shape options] [--seed S]

    Writes a random-weight model of any supported architecture and size, with llama.cpp's tensor
    names and metadata keys and a small byte-level BPE tokenizer, for tests and benchmarks.

    architectures: qwen3moe, qwen2moe, olmoe, llama (Mixtral-style experts), granitemoe

    options:
      --arch ARCH         architecture (required)
      --out FILE          where to write the GGUF (required)
      --type TYPE         type of the weight matrices: F32, F16 (default), BF16, Q8_0, Q4_0,
                          Q4_K, Q6_K, or Q4_K_M (Q4_K, with Q6_K for the output matrix and for
                          attn_v and ffn_down in half the layers, as llama.cpp's Q4_K_M does).
                          Norms, biases and routers stay F32. A matrix whose rows are not whole
                          blocks of TYPE falls back to Q8_0, or F16 (said on stderr).
      --vocab N           vocabulary size, at least 259 (default 1024)
      --hidden N          hidden size (default 256)
      --layers N          transformer blocks (default 4)
      --heads N           query heads (default 4)
      --kv-heads N        key/value heads (default: --heads)
      --head-dim N        head dimension (default: hidden / heads)
      --experts N         routed experts per MoE layer (default 8)
      --top-k N           experts per token (default 2)
      --expert-ff N       width of one expert's FFN (default 128)
      --shared-ff N       width of the shared expert: qwen2moe (default: --expert-ff); llama and
                          granitemoe get an ungated shared expert when N > 0 (default 0)
      --dense-ff N        width of dense FFNs (feed_forward_length); for llama, olmoe and
                          granitemoe it is the expert width, so only --expert-ff sets it
                          (default: 4 × hidden for qwen2moe and qwen3moe)
      --dense-layers N    the first N blocks have a dense FFN instead of experts (default 0)
      --context N         context length (default 4096)
      --seed S            random seed (default 1); the same options and seed give the same file
      --router MODE       random (default); collapsed: experts 0 and 1 win every token;
                          balanced: router rows of equal length in random directions
      --help
    """

/// `moetop synth`.
func runSynth(_ arguments: [String]) throws -> Int32 {
    let options = try Arguments(
        command: "synth", arguments,
        options: [
            "--arch", "--out", "--type", "--vocab", "--hidden", "--layers", "--heads",
            "--kv-heads", "--head-dim", "--experts", "--top-k", "--expert-ff", "--shared-ff",
            "--dense-ff", "--dense-layers", "--context", "--seed", "--router",
        ],
        flags: ["--help"])
    if options.flag("--help") {
        print(synthUsage)
        return 0
    }
    try options.expectPositional(atMost: 0)
    let spec = try SynthSpec(options)
    let started = Date()
    let parameters = try writeSynthModel(spec)
    printError(
        "synth: wrote \(spec.path): \(spec.architecture.rawValue), "
            + "\(formatCount(parameters)) parameters, \(spec.typeName), "
            + String(format: "%.1f s", Date().timeIntervalSince(started)))
    return 0
}

/// The architectures synth can write.
enum SynthArchitecture: String, CaseIterable {
    case qwen3moe, qwen2moe, olmoe, llama, granitemoe

    /// `tokenizer.ggml.pre` for the vocabulary.
    var tokenizerPre: String {
        switch self {
        case .qwen3moe, .qwen2moe: "qwen2"
        case .olmoe: "olmo"
        case .llama: "llama-bpe"
        case .granitemoe: "refact"
        }
    }

    /// Whether the expert width is written as `expert_feed_forward_length` (else it is
    /// `feed_forward_length`).
    var hasExpertWidthKey: Bool { self == .qwen3moe || self == .qwen2moe }
}

/// Everything synth needs to know, checked.
struct SynthSpec {
    var architecture: SynthArchitecture
    var path: String
    var typeName: String
    var vocabulary: Int
    var hidden: Int
    var layers: Int
    var heads: Int
    var kvHeads: Int
    var headDimension: Int
    var experts: Int
    var topK: Int
    var expertFF: Int
    var sharedFF: Int
    var denseFF: Int
    var denseLayers: Int
    var context: Int
    var seed: UInt64
    /// The router option (SynthRouter.swift).
    var router: SynthRouter

    init(_ options: Arguments) throws {
        guard let archName = options.string("--arch") else {
            throw UsageError("synth: --arch is required (see moetop synth --help)")
        }
        guard let architecture = SynthArchitecture(rawValue: archName) else {
            throw UsageError(
                "synth: unsupported architecture '\(archName)'; supported: "
                    + SynthArchitecture.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let path = options.string("--out") else {
            throw UsageError("synth: --out FILE is required")
        }
        self.architecture = architecture
        self.path = path
        typeName = (options.string("--type") ?? "F16").uppercased()
        guard synthTypeNames.contains(typeName) else {
            throw UsageError(
                "synth: --type expects one of \(synthTypeNames.joined(separator: ", ")), "
                    + "got '\(typeName)'")
        }
        let limit = 1 << 20
        vocabulary = try options.int("--vocab", default: 1024, in: 259...limit)
        hidden = try options.int("--hidden", default: 256, in: 32...65536)
        layers = try options.int("--layers", default: 4, in: 1...1024)
        heads = try options.int("--heads", default: 4, in: 1...1024)
        kvHeads = try options.int("--kv-heads", default: heads, in: 1...heads)
        guard heads % kvHeads == 0 else {
            throw UsageError(
                "synth: --heads (\(heads)) must be a multiple of --kv-heads (\(kvHeads))")
        }
        headDimension = try options.int("--head-dim", default: hidden / heads, in: 2...4096)
        guard headDimension % 2 == 0 else {
            throw UsageError(
                "synth: --head-dim must be even (RoPE rotates pairs), got \(headDimension)")
        }
        experts = try options.int("--experts", default: 8, in: 1...1024)
        topK = try options.int("--top-k", default: 2, in: 1...experts)
        expertFF = try options.int("--expert-ff", default: 128, in: 32...limit)
        let sharedDefault = architecture == .qwen2moe ? expertFF : 0
        sharedFF = try options.int("--shared-ff", default: sharedDefault, in: 0...limit)
        switch architecture {
        case .qwen2moe:
            guard sharedFF > 0 else {
                throw UsageError("synth: qwen2moe has a shared expert; --shared-ff must be > 0")
            }
        case .qwen3moe, .olmoe:
            guard sharedFF == 0 else {
                throw UsageError(
                    "synth: \(architecture.rawValue) has no shared expert (--shared-ff)")
            }
        case .llama, .granitemoe:
            break
        }
        if architecture.hasExpertWidthKey {
            denseFF = try options.int("--dense-ff", default: 4 * hidden, in: 32...limit)
        } else {
            guard options.string("--dense-ff") == nil else {
                throw UsageError(
                    "synth: \(architecture.rawValue) uses one FFN width for experts and dense "
                        + "blocks; set it with --expert-ff")
            }
            denseFF = expertFF
        }
        denseLayers = try options.int("--dense-layers", default: 0, in: 0...layers)
        context = try options.int("--context", default: 4096, in: 16...(1 << 24))
        seed = UInt64(try options.int("--seed", default: 1, in: 0...Int.max))
        router = try SynthRouter(option: options.string("--router"))
        for (name, value) in [("--hidden", hidden), ("--expert-ff", expertFF)]
        where value % 32 != 0 {
            throw UsageError(
                "synth: \(name) must be a multiple of 32 (a quantisation block), got \(value)")
        }
        if architecture.hasExpertWidthKey && denseLayers > 0 && denseFF % 32 != 0 {
            throw UsageError("synth: --dense-ff must be a multiple of 32, got \(denseFF)")
        }
        if sharedFF % 32 != 0 {
            throw UsageError("synth: --shared-ff must be a multiple of 32, got \(sharedFF)")
        }
        if (heads * headDimension) % 32 != 0 {
            throw UsageError("synth: heads × head-dim must be a multiple of 32")
        }
    }
}

/// The `--type` values synth accepts.
private let synthTypeNames = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q4_K_M"]

// MARK: - Writing

/// How one tensor's values are drawn.
private enum Initialisation {
    /// Uniform with this standard deviation around 0.
    case random(standardDeviation: Float)
    /// Uniform in 1 ± spread (norm weights).
    case aroundOne(spread: Float)
    /// `random`, plus this vector added to every row (`--router collapsed`'s embeddings).
    case randomPlus(standardDeviation: Float, offset: [Float])
    /// These values, row-major (`--router`'s router weights).
    case given([Float])
}

/// Writes the model; returns its parameter count.
func writeSynthModel(_ spec: SynthSpec) throws -> Int {
    var writer = GGUFWriter()
    let arch = spec.architecture.rawValue
    let e = spec.hidden
    let qWidth = spec.heads * spec.headDimension
    let kvWidth = spec.kvHeads * spec.headDimension
    let pool = ThreadPool()
    var parameters = 0
    var fallbacks: [String: String] = [:]

    // metadata: general, hyper-parameters, then the tokenizer
    func key(_ name: String, _ value: GGUFValue) { writer.add("\(arch).\(name)", value) }
    writer.add("general.architecture", .string(arch))
    writer.add("general.name", .string("moetop-synth-\(arch)"))
    if spec.typeName != "F32" && spec.typeName != "F16" && spec.typeName != "BF16" {
        writer.add("general.quantization_version", .uint32(2))
    }
    key("context_length", .uint32(UInt32(spec.context)))
    key("embedding_length", .uint32(UInt32(e)))
    key("block_count", .uint32(UInt32(spec.layers)))
    key("feed_forward_length", .uint32(UInt32(spec.denseFF)))
    if spec.architecture.hasExpertWidthKey {
        key("expert_feed_forward_length", .uint32(UInt32(spec.expertFF)))
    }
    if spec.sharedFF > 0 {
        key("expert_shared_feed_forward_length", .uint32(UInt32(spec.sharedFF)))
    }
    key("attention.head_count", .uint32(UInt32(spec.heads)))
    key("attention.head_count_kv", .uint32(UInt32(spec.kvHeads)))
    key("attention.key_length", .uint32(UInt32(spec.headDimension)))
    key("attention.value_length", .uint32(UInt32(spec.headDimension)))
    key("attention.layer_norm_rms_epsilon", .float32(1e-6))
    key("rope.freq_base", .float32(spec.architecture.hasExpertWidthKey ? 1_000_000 : 10_000))
    key("rope.dimension_count", .uint32(UInt32(spec.headDimension)))
    key("expert_count", .uint32(UInt32(spec.experts)))
    key("expert_used_count", .uint32(UInt32(spec.topK)))
    key("vocab_size", .uint32(UInt32(spec.vocabulary)))
    if spec.architecture == .granitemoe {
        // the multipliers of one published Granite MoE GGUF
        key("embedding_scale", .float32(12))
        key("attention.scale", .float32(0.015625))
        key("residual_scale", .float32(0.22))
        key("logit_scale", .float32(8))
    }
    addSynthTokenizer(&writer, vocabulary: spec.vocabulary, pre: spec.architecture.tokenizerPre)

    // tensors
    func tensor(
        _ name: String, _ shape: [Int], _ initialisation: Initialisation,
        type requested: GGMLType? = nil
    ) {
        let type =
            requested.map { storedType($0, columns: shape[0], name: name, &fallbacks) } ?? .f32
        let count = shape.reduce(1, *)
        parameters += count
        let tensorSeed = spec.seed ^ stableHash(name)
        writer.addTensor(name, type: type, shape: shape) { buffer in
            fillTensor(
                buffer, type: type, columns: shape[0], rows: count / shape[0],
                initialisation: initialisation, seed: tensorSeed, pool: pool)
        }
    }
    let weights = spec.typeName
    func matrixType(_ role: MatrixRole, layer: Int) -> GGMLType {
        synthMatrixType(weights, role: role, layer: layer, layers: spec.layers)
    }
    let inverseRootE = 1 / Float(e).squareRoot()

    let embeddingOffset = spec.router.embeddingOffset(hidden: e, seed: spec.seed)
    tensor(
        "token_embd.weight", [e, spec.vocabulary],
        embeddingOffset.map { .randomPlus(standardDeviation: 1, offset: $0) }
            ?? .random(standardDeviation: 1),
        type: matrixType(.embedding, layer: 0))
    for layer in 0..<spec.layers {
        let b = "blk.\(layer)."
        // attention
        tensor(b + "attn_norm.weight", [e], .aroundOne(spread: 0.1))
        tensor(
            b + "attn_q.weight", [e, qWidth], .random(standardDeviation: inverseRootE),
            type: matrixType(.attention, layer: layer))
        tensor(
            b + "attn_k.weight", [e, kvWidth], .random(standardDeviation: inverseRootE),
            type: matrixType(.attention, layer: layer))
        tensor(
            b + "attn_v.weight", [e, kvWidth], .random(standardDeviation: inverseRootE),
            type: matrixType(.attentionValue, layer: layer))
        tensor(
            b + "attn_output.weight", [qWidth, e],
            .random(standardDeviation: 1 / Float(qWidth).squareRoot()),
            type: matrixType(.attention, layer: layer))
        switch spec.architecture {
        case .qwen2moe:
            tensor(b + "attn_q.bias", [qWidth], .random(standardDeviation: 0.02))
            tensor(b + "attn_k.bias", [kvWidth], .random(standardDeviation: 0.02))
            tensor(b + "attn_v.bias", [kvWidth], .random(standardDeviation: 0.02))
        case .qwen3moe:
            tensor(b + "attn_q_norm.weight", [spec.headDimension], .aroundOne(spread: 0.1))
            tensor(b + "attn_k_norm.weight", [spec.headDimension], .aroundOne(spread: 0.1))
        case .olmoe:
            tensor(b + "attn_q_norm.weight", [qWidth], .aroundOne(spread: 0.1))
            tensor(b + "attn_k_norm.weight", [kvWidth], .aroundOne(spread: 0.1))
        case .llama, .granitemoe:
            break
        }

        // feed-forward: dense, or router, experts and any shared expert
        tensor(b + "ffn_norm.weight", [e], .aroundOne(spread: 0.1))
        if layer < spec.denseLayers {
            let ff = spec.denseFF
            tensor(
                b + "ffn_gate.weight", [e, ff], .random(standardDeviation: inverseRootE),
                type: matrixType(.feedForward, layer: layer))
            tensor(
                b + "ffn_up.weight", [e, ff], .random(standardDeviation: inverseRootE),
                type: matrixType(.feedForward, layer: layer))
            tensor(
                b + "ffn_down.weight", [ff, e],
                .random(standardDeviation: 1 / Float(ff).squareRoot()),
                type: matrixType(.feedForwardDown, layer: layer))
            continue
        }
        let ff = spec.expertFF
        let routerWeights = spec.router.routerWeights(
            hidden: e, experts: spec.experts, layer: layer, seed: spec.seed)
        tensor(
            b + "ffn_gate_inp.weight", [e, spec.experts],
            routerWeights.map { .given($0) } ?? .random(standardDeviation: 2 * inverseRootE))
        tensor(
            b + "ffn_gate_exps.weight", [e, ff, spec.experts],
            .random(standardDeviation: inverseRootE),
            type: matrixType(.feedForward, layer: layer))
        tensor(
            b + "ffn_up_exps.weight", [e, ff, spec.experts],
            .random(standardDeviation: inverseRootE),
            type: matrixType(.feedForward, layer: layer))
        tensor(
            b + "ffn_down_exps.weight", [ff, e, spec.experts],
            .random(standardDeviation: 1 / Float(ff).squareRoot()),
            type: matrixType(.feedForwardDown, layer: layer))
        if spec.sharedFF > 0 {
            let sf = spec.sharedFF
            if spec.architecture == .qwen2moe {
                tensor(
                    b + "ffn_gate_inp_shexp.weight", [e], .random(standardDeviation: inverseRootE))
            }
            tensor(
                b + "ffn_gate_shexp.weight", [e, sf], .random(standardDeviation: inverseRootE),
                type: matrixType(.feedForward, layer: layer))
            tensor(
                b + "ffn_up_shexp.weight", [e, sf], .random(standardDeviation: inverseRootE),
                type: matrixType(.feedForward, layer: layer))
            tensor(
                b + "ffn_down_shexp.weight", [sf, e],
                .random(standardDeviation: 1 / Float(sf).squareRoot()),
                type: matrixType(.feedForwardDown, layer: layer))
        }
    }
    tensor("output_norm.weight", [e], .aroundOne(spread: 0.1))
    // granitemoe files usually tie the output to token_embd; the others carry `output`
    if spec.architecture != .granitemoe {
        tensor(
            "output.weight", [e, spec.vocabulary], .random(standardDeviation: inverseRootE),
            type: matrixType(.output, layer: 0))
    }

    for (name, message) in fallbacks.sorted(by: { $0.key < $1.key }) {
        printError("synth: \(name): \(message)")
    }
    do {
        try writer.write(to: spec.path)
    }
    return parameters
}

/// Where a weight matrix sits, for mixed-type files (Q4_K_M).
enum MatrixRole {
    case embedding, attention, attentionValue, feedForward, feedForwardDown, output
}

/// The stored type of a weight matrix for `--type name`. Q4_K_M follows llama.cpp's choice:
/// Q6_K for the output matrix, and for attn_v and ffn_down in the first and last eighth of the
/// layers and every third layer between; Q4_K elsewhere.
func synthMatrixType(_ name: String, role: MatrixRole, layer: Int, layers: Int) -> GGMLType {
    guard name == "Q4_K_M" else {
        return GGMLType.allCases.first { $0.name == name }!
    }
    switch role {
    case .output:
        return .q6_K
    case .attentionValue, .feedForwardDown:
        let moreBits =
            layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
        return moreBits ? .q6_K : .q4_K
    case .embedding, .attention, .feedForward:
        return .q4_K
    }
}

/// `type`, or a fallback when rows of `columns` elements are not whole blocks of it.
private func storedType(
    _ type: GGMLType, columns: Int, name: String, _ fallbacks: inout [String: String]
) -> GGMLType {
    if columns % type.blockSize == 0 { return type }
    let fallback: GGMLType = columns % 32 == 0 ? .q8_0 : .f16
    fallbacks[name] =
        "\(columns) columns are not whole \(type.name) blocks; stored as \(fallback.name)"
    return fallback
}

/// FNV-1a of a tensor name: a seed that does not depend on the order tensors are written in.
private func stableHash(_ name: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// Fills `buffer` with `rows` rows of random values, stored as `type`. Each row has its own
/// generator (seeded by the tensor and the row), so the bytes do not depend on thread count.
private func fillTensor(
    _ buffer: UnsafeMutableRawBufferPointer, type: GGMLType, columns: Int, rows: Int,
    initialisation: Initialisation, seed: UInt64, pool: ThreadPool
) {
    let rowBytes = type.rowBytes(columns: columns)!
    let base = buffer.baseAddress!
    let chunks = min(rows, 64 * pool.threadCount)
    let scratch = (0..<pool.threadCount).map { _ in
        UnsafeMutablePointer<Float>.allocate(capacity: columns)
    }
    defer { scratch.forEach { $0.deallocate() } }
    pool.parallelFor(chunks: chunks) { chunk, thread in
        let values = scratch[thread]
        for row in ThreadPool.range(of: chunk, chunks: chunks, count: rows) {
            // values: uniform, with the requested spread
            var random = SeededRandom(seed: seed &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15)
            let (center, halfWidth): (Float, Float)
            switch initialisation {
            case .random(let standardDeviation), .randomPlus(let standardDeviation, _):
                (center, halfWidth) = (0, standardDeviation * 1.7320508)
            case .aroundOne(let spread): (center, halfWidth) = (1, spread)
            case .given: (center, halfWidth) = (0, 0)
            }
            for c in 0..<columns {
                let unit = Float(random.next() >> 40) * 0x1p-24  // [0, 1)
                values[c] = center + (2 * unit - 1) * halfWidth
            }
            switch initialisation {
            case .randomPlus(_, let offset): for c in 0..<columns { values[c] += offset[c] }
            case .given(let all): for c in 0..<columns { values[c] = all[row * columns + c] }
            case .random, .aroundOne: break
            }

            // stored form
            quantizeSynthRow(type, values, base + row * rowBytes, count: columns)
        }
    }
}

/// Quantises one row to any type synth writes.
private func quantizeSynthRow(
    _ type: GGMLType, _ values: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, count: Int
) {
    if type.isSupportedForQuantization {
        quantizeRow(type, from: values, to: out, count: count)
    } else {
        quantizeRowKQuant(type, values, out, count: count)
    }
}

// MARK: - Tokenizer

/// A byte-level BPE vocabulary of `vocabulary` tokens: the 256 byte symbols (GPT-2's byte
/// alphabet), three special tokens (`<|endoftext|>` is BOS and EOS), and merges of frequent
/// character pairs, then of merged tokens with characters, until the size is reached.
private func addSynthTokenizer(_ writer: inout GGUFWriter, vocabulary: Int, pre: String) {
    // the byte alphabet: printable Latin-1 bytes stand for themselves, the rest are shifted
    // above U+0100 in order (GPT-2's bytes_to_unicode)
    var symbols = [String](repeating: "", count: 256)
    var shifted = 0
    for byte in 0..<256 {
        let printable =
            (33...126).contains(byte) || (161...172).contains(byte)
            || (174...255).contains(byte)
        let scalar = printable ? byte : 256 + shifted
        if !printable { shifted += 1 }
        symbols[byte] = String(Character(Unicode.Scalar(UInt32(scalar))!))
    }
    var tokens = symbols
    var types = [Int32](repeating: 1, count: 256)
    let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens += specials
    types += [3, 3, 3]

    // merges: frequent characters first (space is the byte symbol of 0x20)
    let frequent = Array(" etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,'-\n")
        .map { symbols[Int($0.asciiValue!)] }
    var known = Set(tokens)
    var merges: [String] = []
    var left = frequent
    var next: [String] = []
    outer: while tokens.count < vocabulary {
        for a in left {
            for b in frequent {
                let merged = a + b
                guard !known.contains(merged) else { continue }
                known.insert(merged)
                tokens.append(merged)
                types.append(1)
                merges.append(a + " " + b)
                next.append(merged)
                if tokens.count == vocabulary { break outer }
            }
        }
        left = next
        next = []
    }

    writer.add("tokenizer.ggml.model", .string("gpt2"))
    writer.add("tokenizer.ggml.pre", .string(pre))
    writer.add("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
    writer.add("tokenizer.ggml.token_type", .array(GGUFArray(int32: types)))
    writer.add("tokenizer.ggml.merges", .array(GGUFArray(strings: merges)))
    writer.add("tokenizer.ggml.bos_token_id", .uint32(256))
    writer.add("tokenizer.ggml.eos_token_id", .uint32(256))
    writer.add("tokenizer.ggml.padding_token_id", .uint32(256))
    writer.add("tokenizer.ggml.add_bos_token", .bool(false))
}
