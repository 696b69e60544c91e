import MoEGGUF

/// The weights of one attention block, viewed in place in the mapped file.
struct AttentionWeights {
    /// `attn_norm` [E].
    var norm: FloatBuffer
    /// `attn_q` [H·dk rows, E columns].
    var query: WeightMatrix
    /// `attn_k` [Hkv·dk, E].
    var key: WeightMatrix
    /// `attn_v` [Hkv·dv, E].
    var value: WeightMatrix
    /// `attn_output` [E, H·dv].
    var output: WeightMatrix
    /// Optional biases: [H·dk], [Hkv·dk], [Hkv·dv], [E].
    var queryBias: FloatBuffer?
    var keyBias: FloatBuffer?
    var valueBias: FloatBuffer?
    var outputBias: FloatBuffer?
    /// QK-norm weights and what they normalise.
    var queryNorm: FloatBuffer?
    var keyNorm: FloatBuffer?
    var qkNormScope: QKNormScope
}

/// What a QK-norm weight vector normalises, told apart by its length.
enum QKNormScope {
    /// No QK-norm.
    case none
    /// Each head's dk values separately (qwen3moe: weight length dk).
    case perHead
    /// The whole projected vector before it is split into heads (olmoe: weight length H·dk).
    case wholeProjection
}

/// gate, up and down projections of one SwiGLU FFN: y = down · (silu(gate · x) ⊙ (up · x)).
struct SwiGLUWeights {
    /// [FF, E].
    var gate: WeightMatrix
    /// [FF, E].
    var up: WeightMatrix
    /// [E, FF].
    var down: WeightMatrix
}

/// The routed experts of one MoE layer, plus its shared expert when it has one.
struct MixtureWeights {
    /// `ffn_gate_inp` [NE, E].
    var router: WeightMatrix
    /// `ffn_gate_exps` [NE·FFe, E]: expert e is rows e·FFe ..< (e+1)·FFe.
    var gate: WeightMatrix
    /// `ffn_up_exps` [NE·FFe, E].
    var up: WeightMatrix
    /// `ffn_down_exps` [NE·E, FFe]: expert e is rows e·E ..< (e+1)·E.
    var down: WeightMatrix
    /// Routed experts in this layer.
    var expertCount: Int
    /// Width of one routed expert.
    var expertWidth: Int
    /// `ffn_{gate,up,down}_shexp`, when present.
    var shared: SwiGLUWeights?
    /// `ffn_gate_inp_shexp` [E]: the shared expert's sigmoid gate (qwen2moe).
    var sharedGate: FloatBuffer?

    /// The SwiGLU weights of routed expert `e`.
    func expert(_ e: Int) -> SwiGLUWeights {
        SwiGLUWeights(
            gate: gate.slice(rows: e * expertWidth, count: expertWidth),
            up: up.slice(rows: e * expertWidth, count: expertWidth),
            down: down.slice(rows: e * down.rows / expertCount, count: down.rows / expertCount))
    }
}

/// A block's FFN: dense, or a mixture of experts.
enum FeedForwardWeights {
    case dense(SwiGLUWeights)
    case mixture(MixtureWeights)
}

/// One transformer block.
struct LayerWeights {
    var attention: AttentionWeights
    /// `ffn_norm` [E].
    var feedForwardNorm: FloatBuffer
    var feedForward: FeedForwardWeights
}

/// Every weight of a model, validated against its hyper-parameters at load time so the forward
/// pass can trust shapes and types.
struct ModelWeights {
    /// `token_embd` [V, E]: row t is token t's embedding.
    var tokenEmbedding: WeightMatrix
    /// `output_norm` [E].
    var outputNorm: FloatBuffer
    /// `output` [V, E], or `token_embd` when the architecture allows tied embeddings.
    var output: WeightMatrix
    /// Whether `output` is `token_embd`.
    var tiedOutput: Bool
    var layers: [LayerWeights]
}

/// Reads tensors out of a GGUF file with the checks the forward pass relies on.
struct WeightLoader {
    let file: GGUFFile

    var fileName: String { file.path }

    /// A 2-D matrix with `rows` rows of `columns` elements (ggml ne = [columns, rows]).
    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        guard let matrix = try optionalMatrix(name, rows: rows, columns: columns) else {
            throw EngineError.missingTensor(file: fileName, name: name)
        }
        return matrix
    }

    func optionalMatrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix? {
        guard let tensor = file.tensor(named: name) else { return nil }
        try check(tensor, shape: [columns, rows])
        try checkComputable(tensor)
        return WeightMatrix(
            type: tensor.type, rows: rows, columns: columns, base: file.data(of: tensor))
    }

    /// A stacked expert tensor [count, rows, columns] (ggml ne = [columns, rows, count]) as
    /// one matrix of count·rows rows.
    func experts(_ name: String, count: Int, rows: Int, columns: Int) throws -> WeightMatrix {
        guard let tensor = file.tensor(named: name) else {
            throw EngineError.missingTensor(file: fileName, name: name)
        }
        try check(tensor, shape: [columns, rows, count])
        try checkComputable(tensor)
        return WeightMatrix(
            type: tensor.type, rows: rows * count, columns: columns, base: file.data(of: tensor))
    }

    /// A vector of `length` floats (norm weights, biases), dequantised. A trailing dimension of
    /// 1 is accepted (`[E, 1]`), as llama.cpp does.
    func vector(_ name: String, length: Int) throws -> FloatBuffer {
        guard let vector = try optionalVector(name, length: length) else {
            throw EngineError.missingTensor(file: fileName, name: name)
        }
        return vector
    }

    func optionalVector(_ name: String, length: Int) throws -> FloatBuffer? {
        guard let tensor = file.tensor(named: name) else { return nil }
        try check(tensor, shape: [length])
        try checkComputable(tensor)
        return FloatBuffer(try file.floats(of: tensor))
    }

    /// The length of a 1-D tensor, when present.
    func vectorLength(_ name: String) -> Int? {
        file.tensor(named: name).map(\.elementCount)
    }

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    private func check(_ tensor: GGUFTensorInfo, shape: [Int]) throws {
        var found = tensor.shape
        while found.count > shape.count, found.last == 1 { found.removeLast() }
        guard found == shape else {
            throw EngineError.tensorShape(
                file: fileName, name: tensor.name, expected: shape, found: tensor.shape)
        }
    }

    private func checkComputable(_ tensor: GGUFTensorInfo) throws {
        guard tensor.type.isSupportedForCompute, kernelsSupport(tensor.type) else {
            throw EngineError.tensorType(
                file: fileName, name: tensor.name, type: tensor.type.name,
                reason: "the engine cannot compute with this type")
        }
    }
}
