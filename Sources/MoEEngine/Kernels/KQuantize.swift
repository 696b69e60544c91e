// Quantisation of float rows to Q4_K and Q6_K (for `moetop synth`; layouts in BlockDecode.swift).
//
// Legend: a block is 256 values x; Q4_K cuts it into 8 sub-blocks of 32, each with a scale s and
// a minimum m (x ≈ s·q − m, q in 0...15), both stored as 6-bit multiples of the block's f16
// super-scales d and dmin. Q6_K cuts it into 16 sub-blocks of 16, each with a signed 8-bit
// multiple of d as scale (x ≈ scale·q, q in −32...31).
//
// The method follows ggml's reference quantisers in idea (not bit for bit): a sub-block's scale
// and minimum are chosen by a small search over candidate scales, each refined by weighted least
// squares; weights favour large values. Then the sub-block parameters are rounded to their
// stored forms and the values re-quantised against the rounded ones.

import MoEGGUF

/// Quantises `count` values (whole 256-blocks) from `x` to `type` (.q4_K or .q6_K) at `out`.
public func quantizeRowKQuant(
    _ type: GGMLType, _ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, count: Int
) {
    precondition(count % 256 == 0, "K-quant rows are whole 256-element blocks")
    for block in 0..<(count / 256) {
        switch type {
        case .q4_K: quantizeBlockQ4_K(x + 256 * block, out + 144 * block)
        case .q6_K: quantizeBlockQ6_K(x + 256 * block, out + 210 * block)
        default: preconditionFailure("quantizeRowKQuant writes Q4_K and Q6_K, not \(type.name)")
        }
    }
}

/// The f16 bits of `value` (round to nearest even), through Swift's Float16.
@inline(__always)
private func halfBits(_ value: Float) -> UInt16 { Float16(value).bitPattern }

/// Rounds to the nearest integer, ties away from zero, as an Int (inputs are small and finite).
@inline(__always)
private func nearest(_ value: Float) -> Int { Int(value.rounded()) }

/// Scale s ≥ 0 and minimum m ≥ 0 with x ≈ s·q − m, q in 0...maximum, for the values `x[0..<n]`
/// with weights `w`: a search over 1 + steps candidate inverse scales, each refined by weighted
/// least squares; `codes` receives the best q.
private func fitScaleAndMinimum(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int, maximum: Int,
    codes: UnsafeMutablePointer<UInt8>
) -> (scale: Float, minimum: Float) {
    var low = x[0]
    var high = x[0]
    for i in 1..<n {
        low = min(low, x[i])
        high = max(high, x[i])
    }
    low = min(low, 0)
    guard high > low else {
        for i in 0..<n { codes[i] = 0 }
        return (0, -low)
    }

    var bestError = Float.infinity
    var best: (scale: Float, minimum: Float) = ((high - low) / Float(maximum), -low)
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { trial in
        for step in -1...20 {
            // candidate codes: the plain range split (step −1), then stretched inverse scales
            let inverse =
                step < 0
                ? Float(maximum) / (high - low)
                : (Float(maximum) - 1 + 0.1 * Float(step)) / (high - low)
            for i in 0..<n {
                trial[i] = UInt8(max(0, min(maximum, nearest(inverse * (x[i] - low)))))
            }

            // weighted least squares for x ≈ s·q + b, with b ≤ 0 (b = −m)
            var sw: Float = 0
            var swq: Float = 0
            var swqq: Float = 0
            var swx: Float = 0
            var swqx: Float = 0
            for i in 0..<n {
                let q = Float(trial[i])
                sw += w[i]
                swq += w[i] * q
                swqq += w[i] * q * q
                swx += w[i] * x[i]
                swqx += w[i] * q * x[i]
            }
            let determinant = sw * swqq - swq * swq
            guard determinant > 0 else { continue }
            var scale = (sw * swqx - swq * swx) / determinant
            var offset = (swqq * swx - swq * swqx) / determinant
            if offset > 0 {
                offset = 0
                scale = swqx / swqq
            }
            guard scale > 0 else { continue }

            var error: Float = 0
            for i in 0..<n {
                let difference = scale * Float(trial[i]) + offset - x[i]
                error += w[i] * difference * difference
            }
            if error < bestError {
                bestError = error
                best = (scale, -offset)
                for i in 0..<n { codes[i] = trial[i] }
            }
        }
    }
    if bestError == .infinity {
        // every candidate failed (all weights zero): the plain range split
        let inverse = Float(maximum) / (high - low)
        for i in 0..<n { codes[i] = UInt8(max(0, min(maximum, nearest(inverse * (x[i] - low))))) }
    }
    return best
}

/// One Q4_K block: d f16 | dmin f16 | scales[12] | qs[128].
private func quantizeBlockQ4_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256 + 16) { floats in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { codes in
            let w = floats.baseAddress!
            let scales = w + 256
            let minimums = w + 264

            // per sub-block fits, weighted towards large values
            var sumSquares: Float = 0
            for i in 0..<256 { sumSquares += x[i] * x[i] }
            let average = (sumSquares / 256).squareRoot()
            for i in 0..<256 { w[i] = average + abs(x[i]) }
            for j in 0..<8 {
                let fit = fitScaleAndMinimum(
                    x + 32 * j, w + 32 * j, 32, maximum: 15, codes: codes.baseAddress! + 32 * j)
                scales[j] = fit.scale
                minimums[j] = fit.minimum
            }

            // super-scales and the 6-bit multiples
            var largestScale: Float = 0
            var largestMinimum: Float = 0
            for j in 0..<8 {
                largestScale = max(largestScale, scales[j])
                largestMinimum = max(largestMinimum, minimums[j])
            }
            let d = Float(Float16(largestScale / 63))
            let dmin = Float(Float16(largestMinimum / 63))
            var scaleCodes = [UInt8](repeating: 0, count: 8)
            var minimumCodes = [UInt8](repeating: 0, count: 8)
            for j in 0..<8 {
                scaleCodes[j] = d > 0 ? UInt8(min(63, nearest(scales[j] / d))) : 0
                minimumCodes[j] = dmin > 0 ? UInt8(min(63, nearest(minimums[j] / dmin))) : 0
            }
            out.storeBytes(of: halfBits(d).littleEndian, toByteOffset: 0, as: UInt16.self)
            out.storeBytes(of: halfBits(dmin).littleEndian, toByteOffset: 2, as: UInt16.self)

            // pack the 6-bit pairs into 12 bytes (inverse of kQuantScaleMin)
            let s = out + 4
            for i in 0..<12 { s.storeBytes(of: 0, toByteOffset: i, as: UInt8.self) }
            func orByte(_ offset: Int, _ value: UInt8) {
                s.storeBytes(
                    of: s.load(fromByteOffset: offset, as: UInt8.self) | value,
                    toByteOffset: offset, as: UInt8.self)
            }
            for j in 0..<8 {
                let sc = scaleCodes[j]
                let mn = minimumCodes[j]
                if j < 4 {
                    orByte(j, sc)
                    orByte(j + 4, mn)
                } else {
                    orByte(j + 4, (sc & 0x0F) | (mn & 0x0F) << 4)
                    orByte(j - 4, (sc >> 4) << 6)
                    orByte(j, (mn >> 4) << 6)
                }
            }

            // re-quantise against the stored scales and minimums, then pack nibbles
            let c = codes.baseAddress!
            for j in 0..<8 {
                let scale = d * Float(scaleCodes[j])
                let minimum = dmin * Float(minimumCodes[j])
                for i in (32 * j)..<(32 * j + 32) {
                    c[i] = scale > 0 ? UInt8(max(0, min(15, nearest((x[i] + minimum) / scale)))) : 0
                }
            }
            for chunk in 0..<4 {
                for l in 0..<32 {
                    let byte = c[64 * chunk + l] | c[64 * chunk + 32 + l] << 4
                    out.storeBytes(of: byte, toByteOffset: 16 + 32 * chunk + l, as: UInt8.self)
                }
            }
        }
    }
}

/// Signed scale for 16 values with q in −32...31 (x ≈ scale·q): a search over inverse scales
/// around −32/extreme, keeping the one whose least-squares fit (weights x²) explains most.
private func fitSignedScale(_ x: UnsafePointer<Float>) -> Float {
    var extreme: Float = 0
    for i in 0..<16 where abs(x[i]) > abs(extreme) { extreme = x[i] }
    guard extreme != 0 else { return 0 }
    var bestScore: Float = -1
    var bestScale: Float = 0
    for step in -9...9 {
        let inverse = -(32 + 0.1 * Float(step)) / extreme
        var sxq: Float = 0
        var sqq: Float = 0
        for i in 0..<16 {
            let q = Float(max(-32, min(31, nearest(inverse * x[i]))))
            let w = x[i] * x[i]
            sxq += w * x[i] * q
            sqq += w * q * q
        }
        // the fit's explained part is sxq² / sqq
        if sqq > 0 && sxq * sxq / sqq > bestScore {
            bestScore = sxq * sxq / sqq
            bestScale = sxq / sqq
        }
    }
    return bestScale
}

/// One Q6_K block: ql[128] | qh[64] | scales[16] i8 | d f16.
private func quantizeBlockQ6_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    // per sub-block scales, then the block scale d so that they fit in int8
    var scales = [Float](repeating: 0, count: 16)
    var extreme: Float = 0
    for j in 0..<16 {
        scales[j] = fitSignedScale(x + 16 * j)
        if abs(scales[j]) > abs(extreme) { extreme = scales[j] }
    }
    let d = Float(Float16(extreme == 0 ? 0 : -extreme / 128))
    out.storeBytes(of: halfBits(d).littleEndian, toByteOffset: 208, as: UInt16.self)
    var codes = [Int](repeating: 32, count: 256)
    for j in 0..<16 {
        let code = d != 0 ? Int8(max(-128, min(127, nearest(scales[j] / d)))) : 0
        out.storeBytes(of: code, toByteOffset: 192 + j, as: Int8.self)
        let scale = d * Float(code)
        guard scale != 0 else { continue }
        for i in (16 * j)..<(16 * j + 16) {
            codes[i] = max(-32, min(31, nearest(x[i] / scale))) + 32
        }
    }

    // pack: low nibbles in ql, two high bits per value in qh (inverse of decodeQ6_K)
    for half in 0..<2 {
        for l in 0..<32 {
            let q1 = codes[128 * half + l]
            let q2 = codes[128 * half + 32 + l]
            let q3 = codes[128 * half + 64 + l]
            let q4 = codes[128 * half + 96 + l]
            out.storeBytes(
                of: UInt8((q1 & 0x0F) | (q3 & 0x0F) << 4), toByteOffset: 64 * half + l,
                as: UInt8.self)
            out.storeBytes(
                of: UInt8((q2 & 0x0F) | (q4 & 0x0F) << 4), toByteOffset: 64 * half + 32 + l,
                as: UInt8.self)
            out.storeBytes(
                of: UInt8((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6),
                toByteOffset: 128 + 32 * half + l, as: UInt8.self)
        }
    }
}
