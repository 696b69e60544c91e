// F16 and BF16 to F32 conversions for the kernels, inlined and exact.
//
// Swift's `Float(Float16)` is a library call on x86-64 without F16C; these are a few integer
// and one float instruction, and have a SIMD form. F16 trick: the 15 magnitude bits shifted
// left by 13 are the bits of a float whose value is the half's value times 2^-112, subnormals
// included; multiplying by 2^112 is exact. Infinity and NaN (exponent 31) get the float
// exponent 255 instead.

/// The float value of IEEE binary16 bits `h` (exact, subnormals, infinities and NaN included).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let magnitude = UInt32(h & 0x7FFF) &<< 13
    let sign = UInt32(h & 0x8000) &<< 16
    let scaled = Float(bitPattern: magnitude) * 0x1p112
    let bits = magnitude >= 0x0F80_0000 ? magnitude | 0x7F80_0000 : scaled.bitPattern
    return Float(bitPattern: bits | sign)
}

/// `halfToFloat` on lanes whose low 16 bits hold a binary16 (the high 16 bits are ignored).
///
/// Integer lane operations only: Swift's SIMD comparisons (`.>=`, `replacing(with:where:)`)
/// became a scalar loop over the lanes on x86-64, which cost a factor of 7 in F16 decode.
@inline(__always)
func halfToFloat(lowHalves h: SIMD8<UInt32>) -> SIMD8<Float> {
    let magnitude = (h & 0x7FFF) &<< 13
    let sign = (h & 0x8000) &<< 16
    let scaled = unsafeBitCast(magnitude, to: SIMD8<Float>.self) * 0x1p112
    // all ones where the exponent is 31 (magnitude >= 0x0F80_0000: bit 31 of the sum is set)
    let special = unsafeBitCast(
        unsafeBitCast(magnitude &+ 0x7080_0000, to: SIMD8<Int32>.self) &>> 31,
        to: SIMD8<UInt32>.self)
    let bits =
        (unsafeBitCast(scaled, to: SIMD8<UInt32>.self) & ~special)
        | ((magnitude | 0x7F80_0000) & special)
    return unsafeBitCast(bits | sign, to: SIMD8<Float>.self)
}

/// The float value of bfloat16 bits `b` (exact).
@inline(__always)
func bfloatToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) &<< 16) }

/// Reads the little-endian binary16 at `p + offset` as a float.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}
