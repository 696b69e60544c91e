/// Conversions between Float32 and the two 16-bit float formats of GGUF, done on bit patterns
/// so that they are exact and identical on every platform (Swift's `Float16` is missing on
/// Intel Macs).

/// IEEE binary16 bits to Float32. Exact: subnormals are kept, infinities stay infinities, and
/// a NaN keeps its sign and payload (shifted into the top of the Float32 mantissa), as numpy does.
@inline(__always)
public func floatFromHalfBits(_ half: UInt16) -> Float {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    }
    if exponent == 0 {
        // zero or subnormal: mantissa x 2^-24, exact in Float32
        let magnitude = Float(mantissa) * 0x1p-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    }
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
}

/// Float32 to IEEE binary16 bits, rounding to nearest even; overflow gives infinity, values
/// below half the smallest subnormal give a signed zero. A NaN keeps its sign and the top ten
/// bits of its payload and stays a NaN (numpy's `astype(np.float16)`).
@inline(__always)
public func halfBitsFromFloat(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {
        guard mantissa != 0 else { return sign | 0x7C00 }
        let payload = UInt16(truncatingIfNeeded: mantissa >> 13)
        return sign | 0x7C00 | (payload == 0 ? 1 : payload)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F {
        return sign | 0x7C00
    }
    if halfExponent <= 0 {
        // subnormal half (or zero): the 24-bit significand shifted into units of 2^-24
        guard halfExponent >= -10 else { return sign }
        let significand = mantissa | 0x80_0000
        let shift = UInt32(14 - halfExponent)
        var rounded = significand >> shift
        let remainder = significand & ((1 << shift) - 1)
        let halfway: UInt32 = 1 << (shift - 1)
        if remainder > halfway || (remainder == halfway && rounded & 1 == 1) { rounded += 1 }
        return sign | UInt16(rounded)
    }
    var rounded = UInt32(halfExponent) << 10 | mantissa >> 13
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && rounded & 1 == 1) { rounded += 1 }
    return sign | UInt16(rounded)
}

/// BF16 bits to Float32 (exact: the bits are the top half of a Float32).
@inline(__always)
public func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// Float32 to BF16 bits as ggml and gguf-py do it: a NaN is made quiet (bit 6 set), everything
/// else rounds to nearest even (never plain truncation).
@inline(__always)
public func bfloat16BitsFromFloat(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if bits & 0x7FFF_FFFF > 0x7F80_0000 {
        return UInt16(truncatingIfNeeded: bits >> 16) | 0x40
    }
    return UInt16(truncatingIfNeeded: (UInt64(bits) + 0x7FFF + UInt64((bits >> 16) & 1)) >> 16)
}
