// Dequantisation of ggml tensor rows to Float32, bit for bit as gguf-py's `gguf.quants` (and
// ggml's `dequantize_row_*`) compute them: the same products in the same order, in Float32.
//
// Legend: a block holds `blockSize` elements along ne[0]; `d` is the block scale, `m`/`dmin`
// the block minimum, `qs` the packed low bits, `qh`/`hmask` the packed high bits, `sc` a
// sub-block scale, `e` the element index in the block, `l` the index inside a 32-run.
// Layouts: /work/shared/reference/gguf-and-moe-architectures.md §1.8 and gguf-py quants.py.

/// Dequantises `count` elements of `type` starting at `source` into `destination`.
///
/// `count` must be a whole number of the type's blocks and the type must be one moetop
/// computes with (`GGMLType.isSupportedForCompute`); both are the caller's duty (a GGUFFile
/// has already checked its tensors' row lengths).
public func dequantizeRow(
    _ type: GGMLType, from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<Float>,
    count: Int
) {
    precondition(type.isSupportedForCompute, "cannot dequantise \(type.name)")
    precondition(
        count >= 0 && count % type.blockSize == 0, "\(count) is not whole \(type.name) blocks")
    let blocks = count / type.blockSize
    switch type {
    case .f32:
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
    case .f16:
        for i in 0..<count { destination[i] = floatFromHalfBits(load(source, 2 * i)) }
    case .bf16:
        for i in 0..<count { destination[i] = floatFromBFloat16Bits(load(source, 2 * i)) }
    case .q8_0:
        for b in 0..<blocks { dequantizeQ8_0(source + b * 34, destination + b * 32) }
    case .q4_0:
        for b in 0..<blocks { dequantizeQ4_0(source + b * 18, destination + b * 32) }
    case .q4_1:
        for b in 0..<blocks { dequantizeQ4_1(source + b * 20, destination + b * 32) }
    case .q5_0:
        for b in 0..<blocks { dequantizeQ5_0(source + b * 22, destination + b * 32) }
    case .q5_1:
        for b in 0..<blocks { dequantizeQ5_1(source + b * 24, destination + b * 32) }
    case .q2_K:
        for b in 0..<blocks { dequantizeQ2_K(source + b * 84, destination + b * 256) }
    case .q3_K:
        for b in 0..<blocks { dequantizeQ3_K(source + b * 110, destination + b * 256) }
    case .q4_K:
        for b in 0..<blocks { dequantizeQ4_K(source + b * 144, destination + b * 256) }
    case .q5_K:
        for b in 0..<blocks { dequantizeQ5_K(source + b * 176, destination + b * 256) }
    case .q6_K:
        for b in 0..<blocks { dequantizeQ6_K(source + b * 210, destination + b * 256) }
    case .q8_K:
        for b in 0..<blocks { dequantizeQ8_K(source + b * 292, destination + b * 256) }
    default:
        preconditionFailure("unreachable: isSupportedForCompute checked above")
    }
}

@inline(__always)
private func load<T: FixedWidthInteger>(_ base: UnsafeRawPointer, _ offset: Int) -> T {
    T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
}

@inline(__always)
private func half(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
    floatFromHalfBits(load(base, offset))
}

/// Q8_0, 34 bytes: d f16 | qs[32] int8. x = qs * d.
@inline(__always)
private func dequantizeQ8_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    for e in 0..<32 {
        y[e] = Float(Int8(bitPattern: block.load(fromByteOffset: 2 + e, as: UInt8.self))) * d
    }
}

/// Q4_0, 18 bytes: d f16 | qs[16]. Low nibbles are elements 0..15, high nibbles 16..31.
/// x = d * (q - 8).
@inline(__always)
private func dequantizeQ4_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    for l in 0..<16 {
        let byte = block.load(fromByteOffset: 2 + l, as: UInt8.self)
        y[l] = d * Float(Int(byte & 0x0F) - 8)
        y[l + 16] = d * Float(Int(byte >> 4) - 8)
    }
}

/// Q4_1, 20 bytes: d f16 | m f16 | qs[16]. x = d * q + m.
@inline(__always)
private func dequantizeQ4_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    let m = half(block, 2)
    for l in 0..<16 {
        let byte = block.load(fromByteOffset: 4 + l, as: UInt8.self)
        y[l] = d * Float(byte & 0x0F) + m
        y[l + 16] = d * Float(byte >> 4) + m
    }
}

/// Q5_0, 22 bytes: d f16 | qh u32 | qs[16]. Bit e of qh is the fifth bit of element e.
/// x = d * (q - 16).
@inline(__always)
private func dequantizeQ5_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    let qh: UInt32 = load(block, 2)
    for l in 0..<16 {
        let byte = block.load(fromByteOffset: 6 + l, as: UInt8.self)
        let low = Int(byte & 0x0F) | Int((qh >> UInt32(l)) & 1) << 4
        let high = Int(byte >> 4) | Int((qh >> UInt32(l + 16)) & 1) << 4
        y[l] = d * Float(low - 16)
        y[l + 16] = d * Float(high - 16)
    }
}

/// Q5_1, 24 bytes: d f16 | m f16 | qh u32 | qs[16]. x = d * q + m.
@inline(__always)
private func dequantizeQ5_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    let m = half(block, 2)
    let qh: UInt32 = load(block, 4)
    for l in 0..<16 {
        let byte = block.load(fromByteOffset: 8 + l, as: UInt8.self)
        let low = UInt32(byte & 0x0F) | ((qh >> UInt32(l)) & 1) << 4
        let high = UInt32(byte >> 4) | ((qh >> UInt32(l + 16)) & 1) << 4
        y[l] = d * Float(low) + m
        y[l + 16] = d * Float(high) + m
    }
}

/// Q2_K, 84 bytes: scales[16] (lo = scale, hi = min) | qs[64] | d f16 | dmin f16.
/// Element e: q = (qs[32*(e/128) + e%32] >> 2*((e%128)/32)) & 3; x = (d*sc)*q - (dmin*m).
@inline(__always)
private func dequantizeQ2_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 80)
    let dmin = half(block, 82)
    for group in 0..<16 {
        let s = block.load(fromByteOffset: group, as: UInt8.self)
        let dl = d * Float(s & 0x0F)
        let ml = dmin * Float(s >> 4)
        for i in 0..<16 {
            let e = group * 16 + i
            let byte = block.load(fromByteOffset: 16 + 32 * (e / 128) + e % 32, as: UInt8.self)
            let q = (byte >> UInt8(2 * ((e % 128) / 32))) & 3
            y[e] = dl * Float(q) - ml
        }
    }
}

/// Q3_K, 110 bytes: hmask[32] | qs[64] | scales[12] (sixteen 6-bit signed) | d f16.
/// Element e: low2 from qs as in Q2_K; q = low2 - 4 unless bit e/32 of hmask[e%32] is set;
/// x = (d*sc) * q.
@inline(__always)
private func dequantizeQ3_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 108)
    for group in 0..<16 {
        let lowByte = block.load(fromByteOffset: 96 + group % 8, as: UInt8.self)
        let low4 = group < 8 ? lowByte & 0x0F : lowByte >> 4
        let highByte = block.load(fromByteOffset: 96 + 8 + group % 4, as: UInt8.self)
        let high2 = (highByte >> UInt8(2 * (group / 4))) & 3
        let sc = Int(low4 | high2 << 4) - 32
        let dl = d * Float(sc)
        for i in 0..<16 {
            let e = group * 16 + i
            let l = e % 32
            let byte = block.load(fromByteOffset: 32 + 32 * (e / 128) + l, as: UInt8.self)
            let low2 = Int((byte >> UInt8(2 * ((e % 128) / 32))) & 3)
            let hbit = (block.load(fromByteOffset: l, as: UInt8.self) >> UInt8(e / 32)) & 1
            y[e] = dl * Float(low2 - (hbit == 1 ? 0 : 4))
        }
    }
}

/// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block, from its 12 bytes.
@inline(__always)
private func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    func byte(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 {
        return (byte(j) & 63, byte(j + 4) & 63)
    }
    return (
        (byte(j + 4) & 0x0F) | (byte(j - 4) >> 6) << 4,
        (byte(j + 4) >> 4) | (byte(j) >> 6) << 4
    )
}

/// Q4_K, 144 bytes: d f16 | dmin f16 | scales[12] | qs[128]. Chunk c of 32 bytes holds
/// elements 64c..64c+31 in low nibbles (sub-block 2c) and 64c+32.. in high nibbles (2c+1).
/// x = (d*sc)*q - (dmin*m).
@inline(__always)
private func dequantizeQ4_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    let dmin = half(block, 2)
    for sub in 0..<8 {
        let (scale, min) = scaleMinK4(sub, block + 4)
        let dl = d * Float(scale)
        let ml = dmin * Float(min)
        let shift = UInt8(4 * (sub % 2))
        for l in 0..<32 {
            let byte = block.load(fromByteOffset: 16 + 32 * (sub / 2) + l, as: UInt8.self)
            y[32 * sub + l] = dl * Float((byte >> shift) & 0x0F) - ml
        }
    }
}

/// Q5_K, 176 bytes: d | dmin | scales[12] | qh[32] | qs[128]. As Q4_K plus a fifth bit:
/// bit e/32 of qh[e%32].
@inline(__always)
private func dequantizeQ5_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 0)
    let dmin = half(block, 2)
    for sub in 0..<8 {
        let (scale, min) = scaleMinK4(sub, block + 4)
        let dl = d * Float(scale)
        let ml = dmin * Float(min)
        let shift = UInt8(4 * (sub % 2))
        for l in 0..<32 {
            let byte = block.load(fromByteOffset: 48 + 32 * (sub / 2) + l, as: UInt8.self)
            let high = (block.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(sub)) & 1
            let q = (byte >> shift) & 0x0F | high << 4
            y[32 * sub + l] = dl * Float(q) - ml
        }
    }
}

/// Q6_K, 210 bytes: ql[128] | qh[64] | scales[16] int8 | d f16. Element e (h = e/128,
/// r = e%128, k = r/32, l = r%32): low4 = nibble k/2 of ql[64h + r%64]; high2 =
/// (qh[32h + l] >> 2k) & 3; x = (d*sc) * (q - 32).
@inline(__always)
private func dequantizeQ6_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = half(block, 208)
    for group in 0..<16 {
        let sc = Int8(bitPattern: block.load(fromByteOffset: 192 + group, as: UInt8.self))
        let dl = d * Float(sc)
        for i in 0..<16 {
            let e = group * 16 + i
            let h = e / 128
            let r = e % 128
            let k = r / 32
            let lowByte = block.load(fromByteOffset: 64 * h + r % 64, as: UInt8.self)
            let low4 = (lowByte >> UInt8(4 * (k / 2))) & 0x0F
            let high2 =
                (block.load(fromByteOffset: 128 + 32 * h + r % 32, as: UInt8.self) >> UInt8(2 * k))
                & 3
            y[e] = dl * Float(Int(low4 | high2 << 4) - 32)
        }
    }
}

/// Q8_K, 292 bytes: d f32 | qs[256] int8 | bsums[16] int16 (unused here). x = d * qs.
@inline(__always)
private func dequantizeQ8_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = Float(bitPattern: load(block, 0))
    for e in 0..<256 {
        y[e] = d * Float(Int8(bitPattern: block.load(fromByteOffset: 4 + e, as: UInt8.self)))
    }
}
