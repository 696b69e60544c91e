import MoEGGUF

// Decoding of one stored block to F32, for every type the kernels support.
//
// Layouts follow ggml (reference: gguf-and-moe-architectures.md §1.8). Legend: `b` points at
// the block's first byte, `out` receives `type.blockSize` floats, `e` is an element index in
// the block, lo/hi are a byte's low and high nibble. All arithmetic is Float32, in ggml's
// order, so the values are bit-identical to ggml's dequantisation.
//
// These are the plain, obviously-correct decoders: the matMul tiles and the generic matVec
// path use them; the fast matVec paths (MatVecInteger.swift) read blocks without them.

/// Decodes row `row` of `w` into `out` (`w.columns` floats).
public func dequantizeRow(_ w: WeightMatrix, row: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(row >= 0 && row < w.rows)
    let blocks = w.columns / w.type.blockSize
    let src = w.row(row)
    for block in 0..<blocks {
        decodeBlock(
            w.type, src + block * w.type.blockBytes, out + block * w.type.blockSize)
    }
}

/// Whether the kernels can compute with weights of `type`.
public func kernelsSupport(_ type: GGMLType) -> Bool {
    switch type {
    case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K:
        true
    default: false
    }
}

/// Decodes one block of `type` at `b` into `type.blockSize` floats at `out`.
@inline(__always)
func decodeBlock(_ type: GGMLType, _ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    switch type {
    case .f32: out[0] = b.loadUnaligned(as: Float.self)
    case .f16: out[0] = loadHalf(b)
    case .bf16: out[0] = bfloatToFloat(b.loadUnaligned(as: UInt16.self))
    case .q8_0: decodeQ8_0(b, out)
    case .q4_0: decodeQ4_0(b, out)
    case .q4_1: decodeQ4_1(b, out)
    case .q5_0: decodeQ5_0(b, out)
    case .q5_1: decodeQ5_1(b, out)
    case .q2_K: decodeQ2_K(b, out)
    case .q3_K: decodeQ3_K(b, out)
    case .q4_K: decodeQ4_K(b, out)
    case .q5_K: decodeQ5_K(b, out)
    case .q6_K: decodeQ6_K(b, out)
    default: preconditionFailure("kernels do not support \(type.name) (checked at load time)")
    }
}

@inline(__always)
private func byte(_ b: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    b.load(fromByteOffset: offset, as: UInt8.self)
}

/// Q8_0: d f16 | qs[32] i8.
func decodeQ8_0(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    for e in 0..<32 { out[e] = Float(b.load(fromByteOffset: 2 + e, as: Int8.self)) * d }
}

/// Q4_0: d f16 | qs[16]; low nibbles are elements 0..15, high nibbles 16..31; q − 8.
func decodeQ4_0(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    for j in 0..<16 {
        let q = byte(b, 2 + j)
        out[j] = Float(Int(q & 0x0F) - 8) * d
        out[j + 16] = Float(Int(q >> 4) - 8) * d
    }
}

/// Q4_1: d f16 | m f16 | qs[16]; value = q·d + m.
func decodeQ4_1(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    let m = loadHalf(b, 2)
    for j in 0..<16 {
        let q = byte(b, 4 + j)
        out[j] = Float(q & 0x0F) * d + m
        out[j + 16] = Float(q >> 4) * d + m
    }
}

/// Q5_0: d f16 | qh u32 | qs[16]; bit j of qh is element j's fifth bit; q − 16.
func decodeQ5_0(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
    for j in 0..<16 {
        let q = byte(b, 6 + j)
        let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
        let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
        out[j] = Float(low - 16) * d
        out[j + 16] = Float(high - 16) * d
    }
}

/// Q5_1: d f16 | m f16 | qh u32 | qs[16]; value = q·d + m.
func decodeQ5_1(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    let m = loadHalf(b, 2)
    let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    for j in 0..<16 {
        let q = byte(b, 8 + j)
        let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
        let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
        out[j] = Float(low) * d + m
        out[j + 16] = Float(high) * d + m
    }
}

/// Q2_K: scales[16] | qs[64] | d f16 | dmin f16; value = d·lo(s)·q − dmin·hi(s).
func decodeQ2_K(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b, 80)
    let dmin = loadHalf(b, 82)
    for e in 0..<256 {
        let h = e / 128
        let r = e % 128
        let j = r / 32
        let l = r % 32
        let q = (byte(b, 16 + 32 * h + l) >> UInt8(2 * j)) & 3
        let s = byte(b, e / 16)
        out[e] = d * Float(s & 0x0F) * Float(q) - dmin * Float(s >> 4)
    }
}

/// Q3_K: hmask[32] | qs[64] | scales[12] | d f16; sixteen signed 6-bit scales; q in −4...3.
func decodeQ3_K(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b, 108)
    for i in 0..<16 {
        let low4 = i < 8 ? byte(b, 96 + i) & 0x0F : byte(b, 96 + i - 8) >> 4
        let high2 = (byte(b, 96 + 8 + i % 4) >> UInt8(2 * (i / 4))) & 3
        let scale = d * Float(Int(low4 | high2 << 4) - 32)
        for e in (16 * i)..<(16 * i + 16) {
            let h = e / 128
            let r = e % 128
            let j = r / 32
            let l = r % 32
            let low2 = Int((byte(b, 32 + 32 * h + l) >> UInt8(2 * j)) & 3)
            let hbit = (byte(b, l) >> UInt8(4 * h + j)) & 1
            out[e] = scale * Float(low2 - (hbit != 0 ? 0 : 4))
        }
    }
}

/// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block, from the 12 bytes
/// at `s`.
@inline(__always)
func kQuantScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (byte(s, j) & 63, byte(s, j + 4) & 63)
    }
    let scale = (byte(s, j + 4) & 0x0F) | (byte(s, j - 4) >> 6) << 4
    let min = (byte(s, j + 4) >> 4) | (byte(s, j) >> 6) << 4
    return (scale, min)
}

/// Q4_K: d f16 | dmin f16 | scales[12] | qs[128]; eight sub-blocks of 32.
func decodeQ4_K(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    let dmin = loadHalf(b, 2)
    for c in 0..<4 {
        let (sc0, mn0) = kQuantScaleMin(b + 4, 2 * c)
        let (sc1, mn1) = kQuantScaleMin(b + 4, 2 * c + 1)
        let d0 = d * Float(sc0)
        let m0 = dmin * Float(mn0)
        let d1 = d * Float(sc1)
        let m1 = dmin * Float(mn1)
        for l in 0..<32 {
            let q = byte(b, 16 + 32 * c + l)
            out[64 * c + l] = d0 * Float(q & 0x0F) - m0
            out[64 * c + 32 + l] = d1 * Float(q >> 4) - m1
        }
    }
}

/// Q5_K: d | dmin | scales[12] | qh[32] | qs[128]; Q4_K plus a fifth bit from qh.
func decodeQ5_K(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b)
    let dmin = loadHalf(b, 2)
    for c in 0..<4 {
        let (sc0, mn0) = kQuantScaleMin(b + 4, 2 * c)
        let (sc1, mn1) = kQuantScaleMin(b + 4, 2 * c + 1)
        let d0 = d * Float(sc0)
        let m0 = dmin * Float(mn0)
        let d1 = d * Float(sc1)
        let m1 = dmin * Float(mn1)
        for l in 0..<32 {
            let q = byte(b, 48 + 32 * c + l)
            let qh = byte(b, 16 + l)
            let low = (q & 0x0F) | ((qh >> UInt8(2 * c)) & 1) << 4
            let high = (q >> 4) | ((qh >> UInt8(2 * c + 1)) & 1) << 4
            out[64 * c + l] = d0 * Float(low) - m0
            out[64 * c + 32 + l] = d1 * Float(high) - m1
        }
    }
}

/// Q6_K: ql[128] | qh[64] | scales[16] i8 | d f16; q in −32...31.
func decodeQ6_K(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(b, 208)
    for e in 0..<256 {
        let h = e / 128
        let r = e % 128
        let k = r / 32
        let l = r % 32
        let source = byte(b, 64 * h + (k & 1) * 32 + l)
        let low4 = k < 2 ? source & 0x0F : source >> 4
        let high2 = (byte(b, 128 + 32 * h + l) >> UInt8(2 * k)) & 3
        let q = Int(low4 | high2 << 4) - 32
        let scale = Float(b.load(fromByteOffset: 192 + e / 16, as: Int8.self))
        out[e] = d * scale * Float(q)
    }
}
