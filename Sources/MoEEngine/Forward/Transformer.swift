// The decoder forward pass shared by every supported architecture: pre-norm blocks of
// self-attention and a dense or mixture-of-experts SwiGLU FFN (reference §3.0). What differs
// between architectures comes from `Architecture` and `Hyperparameters`: RoPE pairing, QK-norm,
// routing policy, shared-expert gate, Granite's multipliers.
//
// Legend: n = tokens in the batch, E = embedding length, V = vocabulary, H / Hkv = query /
// key-value heads, dk / dv = key / value head width, NE = experts, k = experts per token,
// FF = FFN width. Every activation buffer is row-major with one token per row.

import MoERouting

extension InferenceSession {
    /// Runs `tokens` at positions `position ..< position + n`, fills the KV cache and returns
    /// the requested logits. Inputs were checked by `evaluate`.
    func forward(_ tokens: [Int32], logits request: LogitsRequest, capture: RoutingCapture?)
        -> [Float]
    {
        let hp = model.hyperparameters
        let weights = model.weights
        let n = tokens.count
        let e = hp.embeddingLength

        let x = FloatBuffer(count: n * e)  // [n, E] residual stream
        let normed = FloatBuffer(count: n * e)  // [n, E] normalised input of a branch
        let branch = FloatBuffer(count: n * e)  // [n, E] output of a branch

        // token embeddings (granite: × embedding_scale)
        for t in 0..<n {
            dequantizeRow(weights.tokenEmbedding, row: Int(tokens[t]), into: x[t * e])
        }
        if hp.embeddingScale != 1 { scale(x.pointer, by: hp.embeddingScale, count: n * e) }

        for (il, layer) in weights.layers.enumerated() {
            // attention norm
            normalizeRows(x, weight: layer.attention.norm, into: normed, count: n)

            // self-attention
            attention(layer: il, weights: layer.attention, input: normed, output: branch, count: n)

            // residual (granite: × residual_scale)
            accumulate(branch.pointer, scaledBy: hp.residualScale, into: x.pointer, count: n * e)

            // ffn norm
            normalizeRows(x, weight: layer.feedForwardNorm, into: normed, count: n)

            // feed-forward: dense SwiGLU, or routed experts plus any shared expert
            switch layer.feedForward {
            case .dense(let ffn):
                swiGLU(ffn, input: normed.pointer, output: branch.pointer, count: n)
            case .mixture(let moe):
                mixture(
                    layer: il, weights: moe, input: normed, output: branch, count: n,
                    capture: capture)
            }

            // residual
            accumulate(branch.pointer, scaledBy: hp.residualScale, into: x.pointer, count: n * e)
        }

        // output norm and head, on the rows asked for (granite: ÷ logit_scale)
        let rows: Range<Int>
        switch request {
        case .none: return []
        case .last: rows = (n - 1)..<n
        case .all: rows = 0..<n
        }
        let final = FloatBuffer(count: rows.count * e)  // [rows, E]
        for (row, t) in rows.enumerated() {
            rmsNorm(
                x[t * e], weight: weights.outputNorm.pointer, epsilon: hp.rmsNormEpsilon,
                into: final[row * e], count: e)
        }
        var logits = [Float](repeating: 0, count: rows.count * hp.vocabularySize)  // [rows, V]
        logits.withUnsafeMutableBufferPointer { out in
            project(weights.output, final.pointer, count: rows.count, out.baseAddress!)
            if hp.logitScale != 1 {
                scale(out.baseAddress!, by: 1 / hp.logitScale, count: out.count)
            }
        }
        return logits
    }

    /// RMSNorm of each of `count` rows of `x` [count, E] into `out`.
    func normalizeRows(_ x: FloatBuffer, weight: FloatBuffer, into out: FloatBuffer, count n: Int) {
        let e = model.hyperparameters.embeddingLength
        for t in 0..<n {
            rmsNorm(
                x[t * e], weight: weight.pointer, epsilon: model.hyperparameters.rmsNormEpsilon,
                into: out[t * e], count: e)
        }
    }

    /// y [n, rows] = x [n, columns] · Wᵀ (+ bias): matrix-vector for one token, sgemm for more.
    func project(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int,
        _ y: UnsafeMutablePointer<Float>, bias: FloatBuffer? = nil
    ) {
        if n == 1 {
            matVec(w, x, y, pool: pool)
        } else {
            matMul(w, x, count: n, y, pool: pool)
        }
        if let bias {
            for t in 0..<n {
                add(y + t * w.rows, bias.pointer, into: y + t * w.rows, count: w.rows)
            }
        }
    }

    /// A SwiGLU FFN on `count` rows: y = down · (silu(gate · x) ⊙ (up · x)).
    func swiGLU(
        _ ffn: SwiGLUWeights, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
        count n: Int
    ) {
        let ff = ffn.gate.rows
        let gate = FloatBuffer(count: n * ff)  // [n, FF]
        let up = FloatBuffer(count: n * ff)  // [n, FF]

        // gate and up projections (one parallel pass for a single token)
        if n == 1 {
            matVec(
                [MatVecProduct(ffn.gate, x, gate.pointer), MatVecProduct(ffn.up, x, up.pointer)],
                pool: pool)
        } else {
            matMul(ffn.gate, x, count: n, gate.pointer, pool: pool)
            matMul(ffn.up, x, count: n, up.pointer, pool: pool)
        }

        // silu(gate) ⊙ up, then down
        siluMul(gate.pointer, up.pointer, into: gate.pointer, count: n * ff)
        project(ffn.down, gate.pointer, count: n, y)
    }
}
