import Foundation
import MoEGGUF
import MoERouting

extension ModelDescription {
    /// The description of a loaded model: its routing definition from the architecture, its
    /// parameter counts from the configuration (counted once, in MoEGGUF) and its fingerprint.
    init(file: GGUFFile, configuration c: ModelConfiguration, architecture: Architecture) throws {
        let counts = c.parameters
        let hasSharedExpert = file.tensors.contains { ParameterCounts.isSharedExpert($0.name) }
        let displayName =
            c.name ?? URL(fileURLWithPath: file.path).deletingPathExtension().lastPathComponent
        self.init(
            name: displayName,
            architecture: c.architecture,
            fingerprint: modelFingerprint(file),
            layerCount: c.blockCount,
            moeLayers: counts.moeLayers,
            expertCount: c.expertCount ?? 0,
            expertsPerToken: c.expertsPerToken,
            sharedExpertCount: c.expertSharedCount ?? (hasSharedExpert ? 1 : 0),
            gating: architecture.routing.gating,
            normalizesTopK: architecture.routing.normalizesTopK,
            weightsScale: architecture.routing.weightsScale,
            totalParameters: counts.total,
            activeParameters: counts.active,
            parametersPerExpert: counts.routedExpertParameters.first ?? 0,
            bytesPerExpert: counts.routedExpertBytes.first ?? 0,
            alwaysActiveBytes: counts.alwaysOnBytes)
    }
}

/// A stable hash of a model's metadata and tensor table: 64-bit FNV-1a over every key (in file
/// order) with its type and encoded value, then every tensor's name, type, shape and offset.
/// 16 lowercase hex digits. Tensor data is not read, so fingerprinting costs no I/O.
func modelFingerprint(_ file: GGUFFile) -> String {
    var hash = FNV1a64()
    let metadata = file.metadata
    for key in metadata.keys {
        hash.add(key)
        guard let value = metadata[key] else { continue }
        hash.add(UInt64(value.type.rawValue))
        switch value {
        case .uint8(let v): hash.add(UInt64(v))
        case .int8(let v): hash.add(UInt64(bitPattern: Int64(v)))
        case .uint16(let v): hash.add(UInt64(v))
        case .int16(let v): hash.add(UInt64(bitPattern: Int64(v)))
        case .uint32(let v): hash.add(UInt64(v))
        case .int32(let v): hash.add(UInt64(bitPattern: Int64(v)))
        case .uint64(let v): hash.add(v)
        case .int64(let v): hash.add(UInt64(bitPattern: v))
        case .float32(let v): hash.add(UInt64(v.bitPattern))
        case .float64(let v): hash.add(v.bitPattern)
        case .bool(let v): hash.add(v ? 1 : 0)
        case .string(let v): hash.add(v)
        case .array(let array):
            hash.add(UInt64(array.elementType.rawValue))
            hash.add(UInt64(array.count))
            array.withEncodedBytes { hash.add($0) }
        }
    }
    for tensor in file.tensors {
        hash.add(tensor.name)
        hash.add(UInt64(tensor.type.rawValue))
        for dimension in tensor.shape { hash.add(UInt64(dimension)) }
        hash.add(UInt64(tensor.relativeOffset))
    }
    return String(format: "%016llx", hash.value)
}

/// 64-bit FNV-1a.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* Self.prime
        }
    }

    mutating func add(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { add($0) }
    }

    mutating func add(_ string: String) {
        add(UInt64(string.utf8.count))
        var copy = string
        copy.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }
}
