// SIMD decoding of whole rows to F32 for the matMul tiles, in a permuted column order.
//
// Legend: a group is 32 consecutive elements of a row (every type here has blocks or sub-blocks
// of 32); e = element index in the group. Loading a group's 32 bytes as eight 32-bit lanes puts
// element 4i + j in byte j of lane i, so extracting byte j of every lane yields elements
// j, 4 + j, ..., 28 + j: eight values a SIMD8 converts and stores at once. The decoded group is
// therefore stored "quad-split": element e at position 8·(e mod 4) + e/4.
//
// A matrix product does not care in which order it sums the columns, as long as X uses the same
// order: matMul permutes X's columns once per call (`quadSplitColumns`) and decodes W's rows with
// these functions. Values are bit-identical to `decodeBlock`'s (same float operations).

import MoEGGUF

extension GGMLType {
    /// Whether `decodeRowQuadSplit` handles this type.
    var hasQuadSplitDecoder: Bool {
        switch self {
        case .q8_0, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }
}

/// The position of column `c` in quad-split order.
@inline(__always)
func quadSplitPosition(_ c: Int) -> Int {
    let e = c & 31
    return (c & ~31) | (e & 3) << 3 | e >> 2
}

/// Copies `x` [n, columns] into `out` [n, columns] with every row's columns in quad-split order.
func quadSplitColumns(
    _ x: UnsafePointer<Float>, count n: Int, columns: Int, into out: UnsafeMutablePointer<Float>
) {
    for t in 0..<n {
        let source = x + t * columns
        let destination = out + t * columns
        for c in 0..<columns { destination[quadSplitPosition(c)] = source[c] }
    }
}

@inline(__always)
private func lanes(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int32> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int32>.self)
}

@inline(__always)
private func store(_ v: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Decodes row `row` of `w` (a type with `hasQuadSplitDecoder`) into `out` in quad-split order.
func decodeRowQuadSplit(_ w: WeightMatrix, row: Int, into out: UnsafeMutablePointer<Float>) {
    let src = w.row(row)
    let blocks = w.columns / w.type.blockSize
    switch w.type {
    case .q8_0:
        for k in 0..<blocks {
            let b = src + 34 * k
            let d = SIMD8<Float>(repeating: loadHalf(b))
            let v = lanes(b, 2)
            let o = out + 32 * k
            for j: Int32 in 0..<4 {
                // signed byte j of each lane
                let q = (v &<< (24 - 8 * j)) &>> 24
                store(SIMD8<Float>(q) * d, o + 8 * Int(j))
            }
        }

    case .q4_K, .q5_K:
        let five = w.type == .q5_K
        let blockBytes = five ? 176 : 144
        let quants = five ? 48 : 16
        for k in 0..<blocks {
            let b = src + blockBytes * k
            let d = loadHalf(b)
            let dmin = loadHalf(b, 2)
            let high = five ? lanes(b, 16) : SIMD8<Int32>()
            for c in 0..<4 {
                let v = lanes(b, quants + 32 * c)
                for half in 0..<2 {
                    // sub-block 2c + half: low nibbles (half 0) or high nibbles (half 1)
                    let sub = 2 * c + half
                    let (sc, mn) = kQuantScaleMin(b + 4, sub)
                    let scale = SIMD8<Float>(repeating: d * Float(sc))
                    let minimum = SIMD8<Float>(repeating: dmin * Float(mn))
                    let o = out + 256 * k + 32 * sub
                    for j: Int32 in 0..<4 {
                        var q = (v &>> (8 * j + 4 * Int32(half))) & 0x0F
                        if five { q |= ((high &>> (8 * j + Int32(sub))) & 1) &<< 4 }
                        store(scale * SIMD8<Float>(q) - minimum, o + 8 * Int(j))
                    }
                }
            }
        }

    case .q6_K:
        for k in 0..<blocks {
            let b = src + 210 * k
            let d = loadHalf(b, 208)
            for half in 0..<2 {
                let lowA = lanes(b, 64 * half)
                let lowB = lanes(b, 64 * half + 32)
                let high = lanes(b, 128 + 32 * half)
                for quarter in 0..<4 {
                    // low nibbles from A (quarters 0, 2) or B (1, 3); high bits at 2·quarter
                    let low = quarter & 1 == 0 ? lowA : lowB
                    let nibble = Int32(4 * (quarter >> 1))
                    let e0 = 128 * half + 32 * quarter
                    let s = b + 192 + e0 / 16
                    let scaleLow = d * Float(s.load(as: Int8.self))
                    let scaleHigh = d * Float(s.load(fromByteOffset: 1, as: Int8.self))
                    // lanes 0...3 hold elements l < 16 of the quarter, lanes 4...7 the rest
                    let scale = SIMD8<Float>(
                        scaleLow, scaleLow, scaleLow, scaleLow, scaleHigh, scaleHigh, scaleHigh,
                        scaleHigh)
                    for j: Int32 in 0..<4 {
                        let q =
                            ((low &>> (8 * j + nibble)) & 0x0F)
                            | (((high &>> (8 * j + 2 * Int32(quarter))) & 3) &<< 4)
                        store(scale * SIMD8<Float>(q &- 32), out + 256 * k + e0 + 8 * Int(j))
                    }
                }
            }
        }

    default:
        preconditionFailure("no quad-split decoder for \(w.type.name)")
    }
}
