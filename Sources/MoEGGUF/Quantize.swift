// Quantisation of Float32 rows, bit for bit as gguf-py's `gguf.quants.quantize` does it (which
// itself follows ggml's reference `quantize_row_*_ref`): the same Float32 operations in the
// same order. Non-finite inputs never trap; their codes are unspecified for Q8_0 and Q4_0.

extension GGMLType {
    /// Whether `quantizeRow` can write this type.
    public var isSupportedForQuantization: Bool {
        switch self {
        case .f32, .f16, .bf16, .q8_0, .q4_0: true
        default: false
        }
    }
}

/// Quantises `count` Float32 values from `source` into `type` blocks at `destination`
/// (`type.rowBytes(columns: count)` bytes). `count` must be whole blocks and the type one of
/// `isSupportedForQuantization` (the caller's duty).
public func quantizeRow(
    _ type: GGMLType, from source: UnsafePointer<Float>, to destination: UnsafeMutableRawPointer,
    count: Int
) {
    precondition(type.isSupportedForQuantization, "cannot quantise to \(type.name)")
    precondition(
        count >= 0 && count % type.blockSize == 0, "\(count) is not whole \(type.name) blocks")
    switch type {
    case .f32:
        destination.copyMemory(from: source, byteCount: count * 4)
    case .f16:
        for i in 0..<count { store(halfBitsFromFloat(source[i]), destination, 2 * i) }
    case .bf16:
        for i in 0..<count { store(bfloat16BitsFromFloat(source[i]), destination, 2 * i) }
    case .q8_0:
        for b in 0..<count / 32 { quantizeQ8_0(source + 32 * b, destination + 34 * b) }
    case .q4_0:
        for b in 0..<count / 32 { quantizeQ4_0(source + 32 * b, destination + 18 * b) }
    default:
        preconditionFailure("unreachable: isSupportedForQuantization checked above")
    }
}

/// Quantises `values` (whole blocks) to `type`, returning the stored bytes.
public func quantize(_ values: [Float], to type: GGMLType) -> [UInt8] {
    guard let byteCount = type.rowBytes(columns: values.count) else {
        preconditionFailure("\(values.count) values are not whole \(type.name) blocks")
    }
    var bytes = [UInt8](repeating: 0, count: byteCount)
    values.withUnsafeBufferPointer { source in
        bytes.withUnsafeMutableBytes { destination in
            guard let input = source.baseAddress, let output = destination.baseAddress else {
                return
            }
            quantizeRow(type, from: input, to: output, count: values.count)
        }
    }
    return bytes
}

@inline(__always)
private func store<T: FixedWidthInteger>(_ value: T, _ base: UnsafeMutableRawPointer, _ offset: Int)
{
    base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
}

/// The low byte of C's float-to-integer conversion as x86 compilers emit it (and numpy's
/// `astype(np.int8)` therefore does): a 32-bit conversion, where values that do not fit
/// (infinities, NaN, |x| >= 2^31) become INT32_MIN, whose low byte is 0. This decides the codes
/// when a block's scale is subnormal and its inverse overflows to infinity.
@inline(__always)
private func lowByteOfCConversion(_ value: Float) -> UInt8 {
    guard value.isFinite, value > -0x1p31, value < 0x1p31 else { return 0 }
    return UInt8(truncatingIfNeeded: Int32(value))
}

/// Q8_0: d = max|x| / 127, q = round-half-away(x / d), d stored as f16.
private func quantizeQ8_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
    var amax: Float = 0
    for e in 0..<32 { amax = max(amax, abs(x[e])) }
    let d = amax / 127
    let id: Float = d == 0 ? 0 : 1 / d
    store(halfBitsFromFloat(d), block, 0)
    for e in 0..<32 {
        let q = (x[e] * id).rounded(.toNearestOrAwayFromZero)
        block.storeBytes(of: lowByteOfCConversion(q), toByteOffset: 2 + e, as: UInt8.self)
    }
}

/// Q4_0: the element of largest magnitude (first one on ties) keeps its sign: d = it / -8,
/// q = trunc(x / d + 8.5) clipped to 0...15; elements e and e+16 share byte e.
private func quantizeQ4_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
    var amax = abs(x[0])
    var extreme = x[0]
    for e in 1..<32 where abs(x[e]) > amax {
        amax = abs(x[e])
        extreme = x[e]
    }
    let d = extreme / -8
    let id: Float = d == 0 ? 0 : 1 / d
    store(halfBitsFromFloat(d), block, 0)
    func code(_ value: Float) -> UInt8 {
        min(15, lowByteOfCConversion((value * id + 8.5).rounded(.towardZero)))
    }
    for l in 0..<16 {
        block.storeBytes(of: code(x[l]) | code(x[l + 16]) << 4, toByteOffset: 2 + l, as: UInt8.self)
    }
}
