// Dot products of one stored weight row with a prepared activation vector (ActivationPrep.swift).
//
// Legend: n = columns; a row is n/B blocks of the weight type (B = 32 or 256 elements); G = 32,
// the activation group; g = group index; d = a scale; q = a quantised value. The row is
// contiguous (ggml ne[0]). Each function computes Σ_c W[c]·x[c] for one row in a fixed order
// (block by block, SIMD lanes in a fixed layout, one horizontal sum at the end), so a row's
// result never depends on which thread computes it.
//
// Integer kernels: a 32-byte load of weights as SIMD16<Int16> holds element 2i in lane i's low
// byte and element 2i+1 in its high byte; x is stored pair-split (evens, then odds, widened to
// Int16), so `lowBytes(w) &* xEven &+ highBytes(w) &* xOdd` is a product per lane without
// shuffles; every such sum stays within Int16 (|w·x| ≤ 128·127, two terms). `pairSum` then
// widens adjacent lanes to Int32, and the group's integer sum is scaled once in float.

import MoEGGUF

/// Sums adjacent Int16 lanes into Int32 lanes: result[j] = p[2j] + p[2j+1].
@inline(__always)
func pairSum(_ p: SIMD16<Int16>) -> SIMD8<Int32> {
    let v = unsafeBitCast(p, to: SIMD8<Int32>.self)
    return ((v &<< 16) &>> 16) &+ (v &>> 16)
}

/// As `pairSum` for 8 lanes.
@inline(__always)
func pairSum(_ p: SIMD8<Int16>) -> SIMD4<Int32> {
    let v = unsafeBitCast(p, to: SIMD4<Int32>.self)
    return ((v &<< 16) &>> 16) &+ (v &>> 16)
}

/// The signed low byte of every 16-bit lane.
@inline(__always)
func lowBytes(_ v: SIMD16<Int16>) -> SIMD16<Int16> { (v &<< 8) &>> 8 }

/// The signed high byte of every 16-bit lane.
@inline(__always)
func highBytes(_ v: SIMD16<Int16>) -> SIMD16<Int16> { v &>> 8 }

@inline(__always)
func load16(_ p: UnsafeRawPointer, _ offset: Int = 0) -> SIMD16<Int16> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD16<Int16>.self)
}

@inline(__always)
func load8(_ p: UnsafeRawPointer, _ offset: Int = 0) -> SIMD8<Int16> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int16>.self)
}

// MARK: - Float weights

/// F32 row · x (x as given).
@inline(__always)
func dotRowF32(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var c = 0
    while c + 16 <= n {
        acc0 +=
            row.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
            * xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        acc1 +=
            row.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
            * xr.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
        c += 16
    }
    var total = (acc0 + acc1).sum()
    while c < n {
        total += row.loadUnaligned(fromByteOffset: 4 * c, as: Float.self) * x[c]
        c += 1
    }
    return total
}

/// F16 or BF16 row · x (x pair-split per 16).
@inline(__always)
func dotRowHalf(_ row: UnsafeRawPointer, _ pairs: UnsafePointer<Float>, _ n: Int, bfloat: Bool)
    -> Float
{
    let xr = UnsafeRawPointer(pairs)
    var acc = SIMD8<Float>()
    var c = 0
    while c + 16 <= n {
        // lane j: element 2j in the low half, 2j+1 in the high half
        let v = row.loadUnaligned(fromByteOffset: 2 * c, as: SIMD8<UInt32>.self)
        let even: SIMD8<Float>
        let odd: SIMD8<Float>
        if bfloat {
            even = unsafeBitCast(v &<< 16, to: SIMD8<Float>.self)
            odd = unsafeBitCast(v & 0xFFFF_0000, to: SIMD8<Float>.self)
        } else {
            even = halfToFloat(lowHalves: v)
            odd = halfToFloat(lowHalves: v &>> 16)
        }
        acc += even * xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        acc += odd * xr.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
        c += 16
    }
    var total = acc.sum()
    while c < n {
        let bits = row.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self)
        total += (bfloat ? bfloatToFloat(bits) : halfToFloat(bits)) * pairs[c]
        c += 1
    }
    return total
}

// MARK: - 32-element blocks

/// Q8_0 row · x. Block: d f16 | qs[32] i8.
@inline(__always)
func dotRowQ8_0(_ row: UnsafeRawPointer, _ a: PreparedActivation, blocks: Int) -> Float {
    let xq = UnsafeRawPointer(a.q!)
    let dx = a.d!
    var acc = SIMD8<Float>()
    for k in 0..<blocks {
        let b = row + k * 34
        let w = load16(b, 2)
        let p = lowBytes(w) &* load16(xq, 64 * k) &+ highBytes(w) &* load16(xq, 64 * k + 32)
        acc += SIMD8<Float>(pairSum(p)) * (loadHalf(b) * dx[k])
    }
    return acc.sum()
}

/// Q4_0 row · x. Block: d f16 | qs[16]; byte j holds element j (low nibble) and j+16 (high).
@inline(__always)
func dotRowQ4_0(_ row: UnsafeRawPointer, _ a: PreparedActivation, blocks: Int) -> Float {
    let xq = UnsafeRawPointer(a.q!)
    let dx = a.d!
    var acc = SIMD4<Float>()
    for k in 0..<blocks {
        let b = row + k * 18
        let v = load8(b, 2)
        let x = xq + 64 * k
        // nibbles of elements 0,2..14 | 1,3..15 | 16,18..30 | 17,19..31, each minus 8
        let e0 = (v & 0x0F) &- 8
        let e1 = ((v &>> 8) & 0x0F) &- 8
        let e2 = ((v &>> 4) & 0x0F) &- 8
        let e3 = ((v &>> 12) & 0x0F) &- 8
        var p = e0 &* load8(x, 0) &+ e1 &* load8(x, 32)
        p &+= e2 &* load8(x, 16) &+ e3 &* load8(x, 48)
        acc += SIMD4<Float>(pairSum(p)) * (loadHalf(b) * dx[k])
    }
    return acc.sum()
}

// MARK: - 256-element blocks

/// Q4_K row · x. Block: d | dmin | scales[12] | qs[128]; chunk c (32 bytes) holds sub-block 2c
/// in its low nibbles and 2c+1 in its high nibbles.
@inline(__always)
func dotRowQ4_K(_ row: UnsafeRawPointer, _ a: PreparedActivation, blocks: Int) -> Float {
    let xq = UnsafeRawPointer(a.q!)
    let dx = a.d!
    let xsum = a.sum!
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for k in 0..<blocks {
        let b = row + k * 144
        let d = loadHalf(b)
        let dmin = loadHalf(b, 2)
        var blockMinimum: Float = 0
        for c in 0..<4 {
            let g = 8 * k + 2 * c
            let (sc0, mn0) = kQuantScaleMin(b + 4, 2 * c)
            let (sc1, mn1) = kQuantScaleMin(b + 4, 2 * c + 1)
            let v = load16(b, 16 + 32 * c)
            let x = xq + 64 * g
            let p0 = (v & 0x0F) &* load16(x, 0) &+ ((v &>> 8) & 0x0F) &* load16(x, 32)
            let p1 = ((v &>> 4) & 0x0F) &* load16(x, 64) &+ ((v &>> 12) & 0x0F) &* load16(x, 96)
            acc += SIMD8<Float>(pairSum(p0)) * (d * Float(sc0) * dx[g])
            acc += SIMD8<Float>(pairSum(p1)) * (d * Float(sc1) * dx[g + 1])
            blockMinimum += Float(mn0) * xsum[g] + Float(mn1) * xsum[g + 1]
        }
        minimums += dmin * blockMinimum
    }
    return acc.sum() - minimums
}

/// Q5_K row · x. Block: d | dmin | scales[12] | qh[32] | qs[128]; as Q4_K, the fifth bit of
/// element 32·s + l is bit s of qh[l].
@inline(__always)
func dotRowQ5_K(_ row: UnsafeRawPointer, _ a: PreparedActivation, blocks: Int) -> Float {
    let xq = UnsafeRawPointer(a.q!)
    let dx = a.d!
    let xsum = a.sum!
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for k in 0..<blocks {
        let b = row + k * 176
        let d = loadHalf(b)
        let dmin = loadHalf(b, 2)
        let h = load16(b, 16)
        var blockMinimum: Float = 0
        for c in 0..<4 {
            let g = 8 * k + 2 * c
            let (sc0, mn0) = kQuantScaleMin(b + 4, 2 * c)
            let (sc1, mn1) = kQuantScaleMin(b + 4, 2 * c + 1)
            let v = load16(b, 48 + 32 * c)
            let s0 = Int16(2 * c)
            let s1 = Int16(2 * c + 1)
            let even0 = (v & 0x0F) | ((h &>> s0) & 1) &<< 4
            let odd0 = ((v &>> 8) & 0x0F) | ((h &>> (s0 + 8)) & 1) &<< 4
            let even1 = ((v &>> 4) & 0x0F) | ((h &>> s1) & 1) &<< 4
            let odd1 = ((v &>> 12) & 0x0F) | ((h &>> (s1 + 8)) & 1) &<< 4
            let x = xq + 64 * g
            let p0 = even0 &* load16(x, 0) &+ odd0 &* load16(x, 32)
            let p1 = even1 &* load16(x, 64) &+ odd1 &* load16(x, 96)
            acc += SIMD8<Float>(pairSum(p0)) * (d * Float(sc0) * dx[g])
            acc += SIMD8<Float>(pairSum(p1)) * (d * Float(sc1) * dx[g + 1])
            blockMinimum += Float(mn0) * xsum[g] + Float(mn1) * xsum[g + 1]
        }
        minimums += dmin * blockMinimum
    }
    return acc.sum() - minimums
}

/// One 32-element quarter of a Q6_K block times its activation group: `even` and `odd` hold the
/// 6-bit values (0...63) of the group's even and odd elements; elements 0..<16 take `scaleLow`,
/// 16..<32 `scaleHigh` (int32 lanes 0..<4 and 4..<8 after `pairSum`).
@inline(__always)
func q6Quarter(
    _ even: SIMD16<Int16>, _ odd: SIMD16<Int16>, _ x: UnsafeRawPointer, _ scaleLow: Float,
    _ scaleHigh: Float
) -> SIMD8<Float> {
    let p = (even &- 32) &* load16(x, 0) &+ (odd &- 32) &* load16(x, 32)
    let scale = SIMD8<Float>(
        scaleLow, scaleLow, scaleLow, scaleLow, scaleHigh, scaleHigh, scaleHigh, scaleHigh)
    return SIMD8<Float>(pairSum(p)) * scale
}

/// Q6_K row · x. Block: ql[128] | qh[64] | scales[16] i8 | d f16. Half h (128 elements) takes
/// ql[64h..<64h+64] and qh[32h..<32h+32]; its quarter t (32 elements, l = 0..31) has low nibbles
/// from ql[64h + 32(t&1) + l] (low nibble for t < 2, high for t ≥ 2) and two high bits
/// (qh[32h + l] >> 2t) & 3; q = value − 32; one signed scale per 16 elements.
@inline(__always)
func dotRowQ6_K(_ row: UnsafeRawPointer, _ a: PreparedActivation, blocks: Int) -> Float {
    let xq = UnsafeRawPointer(a.q!)
    let dx = a.d!
    var acc = SIMD8<Float>()
    for k in 0..<blocks {
        let b = row + k * 210
        let d = loadHalf(b, 208)
        for half in 0..<2 {
            let lowA = load16(b, 64 * half)
            let lowB = load16(b, 64 * half + 32)
            let high = load16(b, 128 + 32 * half)
            let g = 8 * k + 4 * half
            let x = xq + 64 * g
            let s = b + 192 + 8 * half
            @inline(__always) func sc(_ i: Int, _ group: Int) -> Float {
                d * Float(s.load(fromByteOffset: i, as: Int8.self)) * dx[group]
            }
            acc += q6Quarter(
                (lowA & 0x0F) | ((high &<< 4) & 0x30),
                ((lowA &>> 8) & 0x0F) | ((high &>> 4) & 0x30),
                x, sc(0, g), sc(1, g))
            acc += q6Quarter(
                (lowB & 0x0F) | ((high &<< 2) & 0x30),
                ((lowB &>> 8) & 0x0F) | ((high &>> 6) & 0x30),
                x + 64, sc(2, g + 1), sc(3, g + 1))
            acc += q6Quarter(
                ((lowA &>> 4) & 0x0F) | (high & 0x30),
                ((lowA &>> 12) & 0x0F) | ((high &>> 8) & 0x30),
                x + 128, sc(4, g + 2), sc(5, g + 2))
            acc += q6Quarter(
                ((lowB &>> 4) & 0x0F) | ((high &>> 2) & 0x30),
                ((lowB &>> 12) & 0x0F) | ((high &>> 10) & 0x30),
                x + 192, sc(6, g + 3), sc(7, g + 3))
        }
    }
    return acc.sum()
}

// MARK: - Types without an integer kernel

/// Row · x by decoding one block at a time to floats (`scratch`: 256 floats) and a float dot.
/// Used for Q4_1, Q5_0, Q5_1, Q2_K and Q3_K.
@inline(__always)
func dotRowDecoded(
    _ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int,
    scratch: UnsafeMutablePointer<Float>
) -> Float {
    let size = type.blockSize
    var acc = SIMD8<Float>()
    for k in 0..<blocks {
        decodeBlock(type, row + k * type.blockBytes, scratch)
        let xk = UnsafeRawPointer(x + k * size)
        let wk = UnsafeRawPointer(scratch)
        for c in stride(from: 0, to: size, by: 8) {
            acc +=
                wk.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                * xk.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        }
    }
    return acc.sum()
}
