// The mixture-of-experts FFN: router, the routing hook, the chosen experts, their weighted sum
// and the shared expert (reference §3.0, llama.cpp `build_moe_ffn`).
//
// Legend: n = tokens in the batch, E = embedding length, NE = experts, k = experts per token,
// FFe = expert width. Expert outputs are kept per (token, rank) and summed in rank order, so a
// token's result does not depend on which other tokens share its batch.

import Foundation

extension InferenceSession {
    /// The MoE FFN of block `il` on `count` normalised rows of `input` [n, E]; writes `output`
    /// [n, E].
    func mixture(
        layer il: Int, weights m: MixtureWeights, input: FloatBuffer, output: FloatBuffer,
        count n: Int, capture: RoutingCapture?
    ) {
        let hp = model.hyperparameters
        let e = hp.embeddingLength
        let experts = m.expertCount
        let k = hp.expertsPerToken
        let router = Router(
            policy: model.architecture.routing, expertCount: experts, expertsPerToken: k)

        // router logits [n, NE]
        let logits = FloatBuffer(count: n * experts)
        project(m.router, input.pointer, count: n, logits.pointer)

        // route every token through the one hook: k experts and weights per token
        let probabilities = FloatBuffer(count: experts)  // [NE] scratch
        let chosen = UnsafeMutablePointer<Int32>.allocate(capacity: n * k)  // [n, k]
        defer { chosen.deallocate() }
        let gateWeights = FloatBuffer(count: n * k)  // [n, k]
        for t in 0..<n {
            router.route(
                layer: il, logits: logits[t * experts], probabilities: probabilities.pointer,
                experts: chosen + t * k, weights: gateWeights[t * k], token: t, capture: capture)
        }

        // run the chosen experts: expertOutput [n, k, E]
        let expertOutput = FloatBuffer(count: n * k * e)
        if n == 1 {
            runExpertsForOneToken(m, input: input.pointer, chosen: chosen, output: expertOutput)
        } else {
            runExpertsForBatch(m, input: input, chosen: chosen, count: n, output: expertOutput)
        }

        // weighted sum in rank order
        output.pointer.update(repeating: 0, count: n * e)
        for t in 0..<n {
            for slot in 0..<k {
                accumulate(
                    expertOutput[(t * k + slot) * e], scaledBy: gateWeights[t * k][slot],
                    into: output[t * e], count: e)
            }
        }

        // shared expert, always on (qwen2moe: × sigmoid(ffn_gate_inp_shexp · x))
        if let shared = m.shared {
            let sharedOutput = FloatBuffer(count: n * e)  // [n, E]
            swiGLU(shared, input: input.pointer, output: sharedOutput.pointer, count: n)
            for t in 0..<n {
                var gate: Float = 1
                if let sharedGate = m.sharedGate {
                    var z: Float = 0
                    for i in 0..<e { z += sharedGate.pointer[i] * input[t * e][i] }
                    gate = 1 / (1 + expf(-z))
                }
                accumulate(sharedOutput[t * e], scaledBy: gate, into: output[t * e], count: e)
            }
        }
    }

    /// Decode: the k experts of one token, their gate and up projections in one parallel pass
    /// and their down projections in another.
    private func runExpertsForOneToken(
        _ m: MixtureWeights, input x: UnsafePointer<Float>, chosen: UnsafePointer<Int32>,
        output: FloatBuffer
    ) {
        let k = model.hyperparameters.expertsPerToken
        let e = model.hyperparameters.embeddingLength
        let ff = m.expertWidth
        let gate = FloatBuffer(count: k * ff)  // [k, FFe]
        let up = FloatBuffer(count: k * ff)  // [k, FFe]
        let selected = (0..<k).map { m.expert(Int(chosen[$0])) }

        // gate and up of every chosen expert
        var products: [MatVecProduct] = []
        products.reserveCapacity(2 * k)
        for slot in 0..<k {
            products.append(MatVecProduct(selected[slot].gate, x, gate[slot * ff]))
            products.append(MatVecProduct(selected[slot].up, x, up[slot * ff]))
        }
        matVec(products, pool: pool)

        // silu(gate) ⊙ up, then every down projection
        siluMul(gate.pointer, up.pointer, into: gate.pointer, count: k * ff)
        let downs = (0..<k).map { slot in
            MatVecProduct(selected[slot].down, gate[slot * ff], output[slot * e])
        }
        matVec(downs, pool: pool)
    }

    /// Prefill: each expert runs once on every token that chose it, and its rows are scattered
    /// back to their (token, rank) slots. An expert with few tokens runs them as matrix-vector
    /// products on its stored blocks; one with many is decoded once for sgemm.
    private func runExpertsForBatch(
        _ m: MixtureWeights, input: FloatBuffer, chosen: UnsafePointer<Int32>, count n: Int,
        output: FloatBuffer
    ) {
        let k = model.hyperparameters.expertsPerToken
        let e = model.hyperparameters.embeddingLength
        let ff = m.expertWidth

        // which (token, rank) slots each expert serves
        var slots = Array(repeating: [Int](), count: m.expertCount)
        for index in 0..<(n * k) { slots[Int(chosen[index])].append(index) }

        let gathered = FloatBuffer(count: n * e)  // [rows, E], rows ≤ n
        let results = FloatBuffer(count: n * e)  // [rows, E]
        let gate = FloatBuffer(count: n * ff)  // [rows, FFe]
        let up = FloatBuffer(count: n * ff)  // [rows, FFe]
        for (index, served) in slots.enumerated() where !served.isEmpty {
            let expert = m.expert(index)
            let rows = served.count

            // gather the inputs of the tokens this expert serves
            for (row, slot) in served.enumerated() {
                gathered[row * e].update(from: input[(slot / k) * e], count: e)
            }

            // run the expert
            if rows <= Self.expertRowsForSgemm {
                matVec(
                    (0..<rows).flatMap { row in
                        [
                            MatVecProduct(expert.gate, gathered[row * e], gate[row * ff]),
                            MatVecProduct(expert.up, gathered[row * e], up[row * ff]),
                        ]
                    }, pool: pool)
                siluMul(gate.pointer, up.pointer, into: gate.pointer, count: rows * ff)
                matVec(
                    (0..<rows).map { MatVecProduct(expert.down, gate[$0 * ff], results[$0 * e]) },
                    pool: pool)
            } else {
                swiGLU(expert, input: gathered.pointer, output: results.pointer, count: rows)
            }

            // scatter to the (token, rank) slots
            for (row, slot) in served.enumerated() {
                output[slot * e].update(from: results[row * e], count: e)
            }
        }
    }

    /// Below this many tokens an expert's products are computed on its stored blocks instead of
    /// decoding the expert for sgemm: decoding three matrices costs more than a few passes over
    /// them.
    static let expertRowsForSgemm = 16
}
