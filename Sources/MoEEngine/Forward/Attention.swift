// Causal grouped-query self-attention with a KV cache (reference §3.0, §1.7).
//
// Legend: n = tokens in the batch, p0 = position of the first, H / Hkv = query / key-value
// heads, dk / dv = key / value head width. Query head h reads key-value head h / (H / Hkv).
// Rows are tokens; within a row, head h occupies [h·d, (h+1)·d).

import Foundation

extension InferenceSession {
    /// Self-attention of block `il` for `count` normalised rows of `input` [n, E]; writes the
    /// output projection to `output` [n, E] and appends the tokens' keys and values to the cache.
    func attention(
        layer il: Int, weights a: AttentionWeights, input: FloatBuffer, output: FloatBuffer,
        count n: Int
    ) {
        let hp = model.hyperparameters
        let heads = hp.headCount
        let kvHeads = hp.kvHeadCount
        let dk = hp.keyLength
        let dv = hp.valueLength
        let qWidth = hp.queryWidth
        let kWidth = hp.keyWidth
        let vWidth = hp.valueWidth
        let p0 = position

        let q = FloatBuffer(count: n * qWidth)  // [n, H·dk]
        let k = FloatBuffer(count: n * kWidth)  // [n, Hkv·dk]
        let v = FloatBuffer(count: n * vWidth)  // [n, Hkv·dv]
        let o = FloatBuffer(count: n * heads * dv)  // [n, H·dv]

        // projections (+ biases); a single token's three share one parallel pass
        if n == 1 {
            matVec(
                [
                    MatVecProduct(a.query, input.pointer, q.pointer),
                    MatVecProduct(a.key, input.pointer, k.pointer),
                    MatVecProduct(a.value, input.pointer, v.pointer),
                ], pool: pool)
            for (bias, out) in [(a.queryBias, q), (a.keyBias, k), (a.valueBias, v)] {
                if let bias { add(out.pointer, bias.pointer, into: out.pointer, count: bias.count) }
            }
        } else {
            project(a.query, input.pointer, count: n, q.pointer, bias: a.queryBias)
            project(a.key, input.pointer, count: n, k.pointer, bias: a.keyBias)
            project(a.value, input.pointer, count: n, v.pointer, bias: a.valueBias)
        }

        // QK-norm: each head (qwen3moe) or the whole projection (olmoe)
        if let queryNorm = a.queryNorm, let keyNorm = a.keyNorm {
            let eps = hp.rmsNormEpsilon
            for t in 0..<n {
                switch a.qkNormScope {
                case .perHead:
                    for h in 0..<heads {
                        let head = q[t * qWidth + h * dk]
                        rmsNorm(
                            head, weight: queryNorm.pointer, epsilon: eps, into: head, count: dk)
                    }
                    for h in 0..<kvHeads {
                        let head = k[t * kWidth + h * dk]
                        rmsNorm(head, weight: keyNorm.pointer, epsilon: eps, into: head, count: dk)
                    }
                case .wholeProjection:
                    let qRow = q[t * qWidth]
                    let kRow = k[t * kWidth]
                    rmsNorm(
                        qRow, weight: queryNorm.pointer, epsilon: eps, into: qRow, count: qWidth)
                    rmsNorm(kRow, weight: keyNorm.pointer, epsilon: eps, into: kRow, count: kWidth)
                case .none:
                    break
                }
            }
        }

        // rope on q and k, then append k and v to the cache
        let half = max(rope.dimensionCount / 2, 1)
        let cos = FloatBuffer(count: half)
        let sin = FloatBuffer(count: half)
        for t in 0..<n {
            rope.angles(at: p0 + t, cos: cos.pointer, sin: sin.pointer)
            rope.rotate(
                q[t * qWidth], heads: heads, headLength: dk, cos: cos.pointer, sin: sin.pointer)
            rope.rotate(
                k[t * kWidth], heads: kvHeads, headLength: dk, cos: cos.pointer, sin: sin.pointer)
            cache.key(il, p0 + t).update(from: k[t * kWidth], count: kWidth)
            cache.value(il, p0 + t).update(from: v[t * vWidth], count: vWidth)
        }

        // scores, softmax and weighted values: one (token, head) pair per unit of work
        let scale = hp.attentionScale ?? 1 / Float(dk).squareRoot()
        let group = heads / kvHeads
        let cache = self.cache
        let pairs = n * heads
        let chunks = min(pairs, ThreadPool.maximumChunks)
        let scratch = FloatBuffer(count: pool.threadCount * (p0 + n))  // [threads, positions]
        pool.parallelFor(chunks: chunks) { chunk, thread in
            let scores = scratch[thread * (p0 + n)]
            for pair in ThreadPool.range(of: chunk, chunks: chunks, count: pairs) {
                let t = pair / heads
                let h = pair % heads
                let kvHead = h / group
                let length = p0 + t + 1  // causal: positions 0 ... p0 + t
                let query = q[t * qWidth + h * dk]

                // q · k for every visible position, scaled
                for j in 0..<length {
                    let key = cache.key(il, j) + kvHead * dk
                    var dot: Float = 0
                    for d in 0..<dk { dot += query[d] * key[d] }
                    scores[j] = dot * scale
                }

                // softmax over positions
                softmax(scores, count: length)

                // weighted sum of values
                let out = o[t * heads * dv + h * dv]
                out.initialize(repeating: 0, count: dv)
                for j in 0..<length {
                    let value = cache.value(il, j) + kvHead * dv
                    let weight = scores[j]
                    for d in 0..<dv { out[d] += weight * value[d] }
                }
            }
        }

        // output projection (+ bias)
        project(a.output, o.pointer, count: n, output.pointer, bias: a.outputBias)
    }
}
