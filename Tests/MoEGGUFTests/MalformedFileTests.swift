import Foundation
import MoEGGUF
import Testing

/// A valid little MoE file written by GGUFWriter, and the places in it that the malformed
/// cases patch.
struct BaseFile {
    /// Everything a variant may change before the file is written.
    struct Spec {
        var architecture = "qwen3moe"
        var blockCount: GGUFValue = .uint32(2)
        var embeddingLength: UInt32 = 32
        var headCount: GGUFValue = .uint32(4)
        var headCountKV: UInt32 = 2
        var expertCount: UInt32 = 4
        var expertUsedCount: GGUFValue = .uint32(2)
        var ropeDimensionCount: UInt32 = 8
        var tokens = ["a", "b", "c", "d"]
        var embeddingRows = 4
        var embeddingWidth: Int?
        var routerExperts = 4
        var expertTensorExperts = 4
        var layers = [0, 1]
        var extraTensorName: String?
        var omitKey: String?
    }

    let bytes: [UInt8]
    let file: GGUFFile

    init(_ spec: Spec = Spec()) throws {
        bytes = Self.write(spec)
        file = try GGUFFile(bytes: bytes, path: "base.gguf")
    }

    /// The file `spec` describes, written by GGUFWriter.
    static func write(_ spec: Spec) -> [UInt8] {
        var writer = GGUFWriter()
        let arch = spec.architecture
        var entries: [(String, GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("general.alignment", .uint32(32)),
            ("test.a", .uint32(1)),
            ("test.b", .uint32(2)),
            ("\(arch).block_count", spec.blockCount),
            ("\(arch).embedding_length", .uint32(spec.embeddingLength)),
            ("\(arch).attention.head_count", spec.headCount),
            ("\(arch).attention.head_count_kv", .uint32(spec.headCountKV)),
            ("\(arch).rope.dimension_count", .uint32(spec.ropeDimensionCount)),
            ("\(arch).expert_count", .uint32(spec.expertCount)),
            ("\(arch).expert_used_count", spec.expertUsedCount),
            ("\(arch).context_length", .uint32(64)),
            ("tokenizer.ggml.tokens", .array(GGUFArray(strings: spec.tokens))),
        ]
        entries.removeAll { $0.0 == spec.omitKey }
        for (key, value) in entries { writer.add(key, value) }

        let e = Int(spec.embeddingLength)
        func zeros(_ type: GGMLType, _ shape: [Int]) -> [UInt8] {
            [UInt8](
                repeating: 0,
                count: type.rowBytes(columns: shape[0])! * shape.dropFirst().reduce(1, *))
        }
        let embedding = [spec.embeddingWidth ?? e, spec.embeddingRows]
        writer.addTensor(
            "token_embd.weight", type: .f32, shape: embedding, bytes: zeros(.f32, embedding))
        for layer in spec.layers {
            let p = "blk.\(layer)."
            writer.addTensor(
                p + "attn_norm.weight", type: .f32, shape: [e], bytes: zeros(.f32, [e]))
            writer.addTensor(
                p + "ffn_gate_inp.weight", type: .f32, shape: [e, spec.routerExperts],
                bytes: zeros(.f32, [e, spec.routerExperts]))
            let shape = [e, 32, spec.expertTensorExperts]
            writer.addTensor(
                p + "ffn_up_exps.weight", type: .f16, shape: shape, bytes: zeros(.f16, shape))
            writer.addTensor(
                p + "ffn_down_exps.weight", type: .q8_0, shape: shape, bytes: zeros(.q8_0, shape))
        }
        if let name = spec.extraTensorName {
            writer.addTensor(name, type: .f32, shape: [8], bytes: zeros(.f32, [8]))
        }
        return writer.bytes()
    }

    /// Where the value of `key` starts (after its key and type id).
    func valueOffset(_ key: String) -> Int {
        file.metadata.offset(of: key)! + 8 + key.utf8.count + 4
    }

    /// Where the type id of `key` starts.
    func typeOffset(_ key: String) -> Int { valueOffset(key) - 4 }

    /// Where the info of tensor `name` starts, and the offsets of its fields.
    func tensorFields(_ name: String) -> (
        info: Int, dimensionCount: Int, dimensions: Int, type: Int, offset: Int
    ) {
        let info = file.tensor(named: name)!
        let dimensionCount = info.infoOffset + 8 + name.utf8.count
        let dimensions = dimensionCount + 4
        let type = dimensions + 8 * info.shape.count
        return (info.infoOffset, dimensionCount, dimensions, type, type + 4)
    }

    /// The bytes with `value` written little-endian at `offset`.
    func patched<T: FixedWidthInteger>(_ offset: Int, _ value: T) -> [UInt8] {
        var copy = bytes
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { copy[offset + i] = byte }
        }
        return copy
    }

    /// The first `count` bytes.
    func truncated(_ count: Int) -> [UInt8] { Array(bytes.prefix(count)) }
}

/// Opens `bytes` as the `info` command does (reader, then configuration) and returns the error.
func openError(_ bytes: [UInt8]) -> GGUFError? {
    do {
        let file = try GGUFFile(bytes: bytes, path: "bad.gguf")
        _ = try ModelConfiguration(file: file)
        return nil
    } catch {
        return error
    }
}

/// One malformed file and the exact error it must produce.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: @Sendable () throws -> [UInt8]
    let expected: GGUFError.Reason
    var testDescription: String { name }
}

/// A table of malformed files, each built from a valid GGUFWriter file by patching or
/// truncating it (or by writing contradicting metadata), each expecting its specific error.
@Suite struct MalformedFileTests {
    static let cases: [MalformedCase] = {
        var cases: [MalformedCase] = []
        func add(
            _ name: String, _ expected: GGUFError.Reason,
            _ bytes: @escaping @Sendable (BaseFile) throws -> [UInt8]
        ) {
            cases.append(
                MalformedCase(name: name, bytes: { try bytes(BaseFile()) }, expected: expected))
        }
        func variant(
            _ name: String, _ expected: GGUFError.Reason,
            _ change: @escaping @Sendable (inout BaseFile.Spec) -> Void
        ) {
            cases.append(
                MalformedCase(
                    name: name,
                    bytes: {
                        var spec = BaseFile.Spec()
                        change(&spec)
                        return BaseFile.write(spec)
                    }, expected: expected))
        }
        let tokens = "tokenizer.ggml.tokens"
        let arch = "general.architecture"

        // header
        add("empty file", .truncated(field: "magic", needed: 4, available: 0)) { $0.truncated(0) }
        add("truncated in magic", .truncated(field: "magic", needed: 4, available: 3)) {
            $0.truncated(3)
        }
        add("bad magic", .badMagic(found: [0x47, 0x47, 0x55, 0x58])) { $0.patched(3, UInt8(0x58)) }
        add("truncated in version", .truncated(field: "version", needed: 4, available: 2)) {
            $0.truncated(6)
        }
        add("version 1", .unsupportedVersion(found: 1)) { $0.patched(4, UInt32(1)) }
        add("version 4", .unsupportedVersion(found: 4)) { $0.patched(4, UInt32(4)) }
        add("big-endian", .bigEndian(version: 0x0300_0000)) { $0.patched(4, UInt32(0x0300_0000)) }
        add("truncated in tensor_count", .truncated(field: "tensor_count", needed: 8, available: 5))
        {
            $0.truncated(13)
        }
        add("truncated in kv_count", .truncated(field: "kv_count", needed: 8, available: 1)) {
            $0.truncated(17)
        }
        add(
            "absurd tensor_count",
            .countTooLarge(field: "tensor_count", count: UInt64.max, limit: 0)
        ) {
            $0.patched(8, UInt64.max)
        }
        add("absurd kv_count", .countTooLarge(field: "kv_count", count: 1 << 40, limit: 0)) {
            $0.patched(16, UInt64(1) << 40)
        }

        // metadata
        add(
            "truncated in a key's length",
            .truncated(field: "key of metadata entry 0 length", needed: 8, available: 3)
        ) {
            $0.truncated(27)
        }
        add(
            "truncated in a key",
            .stringTooLong(field: "key of metadata entry 0", length: 20, available: 4)
        ) {
            $0.truncated(36)
        }
        add(
            "absurd key length",
            .stringTooLong(field: "key of metadata entry 0", length: UInt64.max, available: 0)
        ) {
            $0.patched(24, UInt64.max)
        }
        add("empty key", .emptyKey) { $0.patched(24, UInt64(0)) }
        add("duplicate key", .duplicateKey(key: "test.a")) { base in
            base.patched(base.file.metadata.offset(of: "test.b")! + 8 + 5, UInt8(ascii: "a"))
        }
        add(
            "truncated in a value type",
            .truncated(field: "value type of 'test.a'", needed: 4, available: 2)
        ) {
            $0.truncated($0.typeOffset("test.a") + 2)
        }
        add("unknown value type", .unknownValueType(key: "test.a", found: 13)) {
            $0.patched($0.typeOffset("test.a"), UInt32(13))
        }
        add("truncated in a value", .truncated(field: "value of 'test.a'", needed: 4, available: 3))
        {
            $0.truncated($0.valueOffset("test.a") + 3)
        }
        add(
            "absurd string length",
            .stringTooLong(field: "value of '\(arch)'", length: 1 << 60, available: 0)
        ) {
            $0.patched($0.valueOffset(arch), UInt64(1) << 60)
        }
        add("unknown array element type", .unknownValueType(key: tokens, found: 99)) {
            $0.patched($0.valueOffset(tokens), UInt32(99))
        }
        add("nested array", .nestedArray(key: tokens)) {
            $0.patched($0.valueOffset(tokens), UInt32(9))
        }
        add(
            "absurd array count",
            .countTooLarge(field: "element count of '\(tokens)'", count: UInt64.max, limit: 0)
        ) {
            $0.patched($0.valueOffset(tokens) + 4, UInt64.max)
        }
        add(
            "absurd length of an array string",
            .stringTooLong(field: "element 2 of '\(tokens)'", length: 1 << 50, available: 0)
        ) {
            // elements: "a", "b", "c": 9 bytes each
            $0.patched($0.valueOffset(tokens) + 12 + 18, UInt64(1) << 50)
        }
        add(
            "truncated in an array",
            .stringTooLong(field: "element 3 of '\(tokens)'", length: 1, available: 0)
        ) {
            $0.truncated($0.valueOffset(tokens) + 12 + 27 + 8)
        }
        add("zero alignment", .badAlignment(found: 0)) {
            $0.patched($0.valueOffset("general.alignment"), UInt32(0))
        }
        add("alignment not a power of two", .badAlignment(found: 48)) {
            $0.patched($0.valueOffset("general.alignment"), UInt32(48))
        }
        add(
            "alignment of the wrong type",
            .wrongType(key: "general.alignment", expected: "UINT32", found: "FLOAT32")
        ) {
            $0.patched($0.typeOffset("general.alignment"), UInt32(6))
        }

        // tensor infos
        let embd = "token_embd.weight"
        let norm1 = "blk.1.attn_norm.weight"
        let down0 = "blk.0.ffn_down_exps.weight"
        add(
            "truncated in a tensor name length",
            .truncated(field: "name of tensor 0 length", needed: 8, available: 1)
        ) {
            $0.truncated($0.tensorFields(embd).info + 1)
        }
        add(
            "absurd tensor name length",
            .stringTooLong(field: "name of tensor 0", length: UInt64.max, available: 0)
        ) {
            $0.patched($0.tensorFields(embd).info, UInt64.max)
        }
        add("duplicate tensor name", .duplicateTensor(name: "blk.0.attn_norm.weight")) {
            $0.patched($0.tensorFields(norm1).info + 8 + 4, UInt8(ascii: "0"))
        }
        add("no dimensions", .badDimensionCount(tensor: embd, found: 0, limit: 4)) {
            $0.patched($0.tensorFields(embd).dimensionCount, UInt32(0))
        }
        add("five dimensions", .badDimensionCount(tensor: embd, found: 5, limit: 4)) {
            $0.patched($0.tensorFields(embd).dimensionCount, UInt32(5))
        }
        add(
            "truncated in a dimension",
            .truncated(field: "ne[1] of tensor '\(embd)'", needed: 8, available: 4)
        ) {
            $0.truncated($0.tensorFields(embd).dimensions + 12)
        }
        add("zero dimension", .badDimension(tensor: embd, index: 1, found: 0)) {
            $0.patched($0.tensorFields(embd).dimensions + 8, UInt64(0))
        }
        add("dimension beyond Int64", .badDimension(tensor: embd, index: 0, found: 1 << 63)) {
            $0.patched($0.tensorFields(embd).dimensions, UInt64(1) << 63)
        }
        add("element count overflows", .sizeOverflow(tensor: embd, shape: [32, 1 << 62])) {
            $0.patched($0.tensorFields(embd).dimensions + 8, UInt64(1) << 62)
        }
        add("byte count overflows", .sizeOverflow(tensor: embd, shape: [32, 1 << 58])) {
            $0.patched($0.tensorFields(embd).dimensions + 8, UInt64(1) << 58)
        }
        add("retired tensor type", .unknownTensorType(tensor: embd, found: 4)) {
            $0.patched($0.tensorFields(embd).type, UInt32(4))
        }
        add("unknown tensor type", .unknownTensorType(tensor: embd, found: 1000)) {
            $0.patched($0.tensorFields(embd).type, UInt32(1000))
        }
        add(
            "row not whole blocks",
            .partialBlock(tensor: down0, type: .q8_0, rowLength: 16, blockSize: 32)
        ) {
            $0.patched($0.tensorFields(down0).dimensions, UInt64(16))
        }
        add(
            "truncated in a tensor offset",
            .truncated(field: "offset of tensor '\(embd)'", needed: 8, available: 1)
        ) {
            $0.truncated($0.tensorFields(embd).offset + 1)
        }
        add("misaligned tensor", .misalignedTensor(tensor: norm1, offset: 33, alignment: 32)) {
            $0.patched($0.tensorFields(norm1).offset, UInt64(33))
        }
        add(
            "tensor past the end",
            .tensorOutOfBounds(tensor: norm1, start: 0, size: 128, fileSize: 0)
        ) {
            $0.patched($0.tensorFields(norm1).offset, UInt64(1) << 40)
        }
        add(
            "tensor offset wrapping around",
            .tensorOutOfBounds(tensor: norm1, start: 0, size: 128, fileSize: 0)
        ) {
            $0.patched($0.tensorFields(norm1).offset, UInt64.max - 31)
        }
        add(
            "overlapping tensors",
            .overlappingTensors(first: embd, second: "blk.0.attn_norm.weight")
        ) {
            $0.patched($0.tensorFields("blk.0.attn_norm.weight").offset, UInt64(0))
        }
        add(
            "file cut inside the last tensor",
            .tensorOutOfBounds(tensor: "blk.1.ffn_down_exps.weight", start: 0, size: 0, fileSize: 0)
        ) {
            $0.truncated($0.bytes.count - 1)
        }
        add(
            "file cut before the tensor data",
            .truncated(field: "padding before the tensor data", needed: 0, available: 0)
        ) {
            $0.truncated($0.file.dataOffset - 1)
        }

        // metadata that contradicts itself or the tensors
        variant(
            "more experts used than exist",
            .invalidValue(
                key: "qwen3moe.expert_used_count", found: "5",
                expected: "1...4 (expert_count) in layer 0")
        ) {
            $0.expertUsedCount = .uint32(5)
        }
        variant(
            "zero experts used",
            .invalidValue(
                key: "qwen3moe.expert_used_count", found: "0",
                expected: "1...4 (expert_count) in layer 0")
        ) {
            $0.expertUsedCount = .uint32(0)
        }
        variant(
            "zero head count",
            .invalidValue(
                key: "qwen3moe.attention.head_count", found: "0", expected: "at least 1 (layer 0)")
        ) {
            $0.headCount = .uint32(0)
        }
        variant(
            "kv heads not dividing heads",
            .invalidValue(
                key: "qwen3moe.attention.head_count_kv", found: "3",
                expected: "a divisor of attention.head_count 4 (layer 0)")
        ) {
            $0.headCountKV = 3
        }
        variant(
            "per-layer array of the wrong length",
            .invalidValue(
                key: "qwen3moe.attention.head_count", found: "an array of 3 entries",
                expected: "one entry per layer (2, from block_count)")
        ) {
            $0.headCount = .array(GGUFArray(uint32: [4, 4, 4]))
        }
        variant("layer count with no tensors behind it", .missingLayer(layer: 2, blockCount: 3)) {
            $0.blockCount = .uint32(3)
        }
        variant(
            "tensors beyond the layer count",
            .tensorOutsideLayers(tensor: "blk.1.attn_norm.weight", blockCount: 1)
        ) {
            $0.blockCount = .uint32(1)
        }
        variant(
            "zero layers",
            .invalidValue(key: "qwen3moe.block_count", found: "0", expected: "at least 1")
        ) {
            $0.blockCount = .uint32(0)
        }
        variant(
            "block_count of the wrong type",
            .wrongType(key: "qwen3moe.block_count", expected: "an integer", found: "STRING")
        ) {
            $0.blockCount = .string("2")
        }
        variant("missing block_count", .missingKey(key: "qwen3moe.block_count")) {
            $0.omitKey = "qwen3moe.block_count"
        }
        variant("missing architecture", .missingKey(key: "general.architecture")) {
            $0.omitKey = "general.architecture"
        }
        variant(
            "router with the wrong expert count",
            .tensorShapeMismatch(
                tensor: "blk.0.ffn_gate_inp.weight", found: [32, 8],
                expected: "[32, 4] (embedding_length, expert_count)")
        ) {
            $0.routerExperts = 8
        }
        variant(
            "expert tensors disagreeing with expert_count",
            .tensorShapeMismatch(
                tensor: "blk.0.ffn_up_exps.weight", found: [32, 32, 3],
                expected: "a last dimension of 4 (expert_count)")
        ) {
            $0.expertTensorExperts = 3
        }
        variant(
            "embedding narrower than embedding_length",
            .tensorShapeMismatch(
                tensor: "token_embd.weight", found: [16, 4],
                expected: "ne[0] = 32 (embedding_length)")
        ) {
            $0.embeddingWidth = 16
        }
        variant(
            "embedding rows disagreeing with the vocabulary",
            .tensorShapeMismatch(
                tensor: "token_embd.weight", found: [32, 4],
                expected: "ne[1] = 5 (tokens in tokenizer.ggml.tokens)")
        ) {
            $0.tokens.append("e")
        }
        variant(
            "router without experts",
            .invalidValue(
                key: "qwen3moe.expert_count", found: "0",
                expected: "at least 1, because blk.0.ffn_gate_inp.weight exists")
        ) {
            $0.expertCount = 0
            $0.expertUsedCount = .uint32(0)
        }
        variant(
            "rope wider than the head",
            .invalidValue(
                key: "qwen3moe.rope.dimension_count", found: "16",
                expected: "an even number in 2...8 (the head dimension)")
        ) {
            $0.ropeDimensionCount = 16
        }
        variant(
            "tensor name longer than ggml allows",
            .badTensorName(name: String(repeating: "x", count: 64), length: 64, limit: 63)
        ) {
            $0.extraTensorName = String(repeating: "x", count: 64)
        }
        return cases
    }()

    @Test("the base file is valid")
    func baseIsValid() throws {
        let base = try BaseFile()
        let config = try ModelConfiguration(file: base.file)
        #expect(config.parameters.moeLayers == [0, 1])
        #expect(Self.cases.count >= 30)
    }

    @Test("each malformed file gives its own error", arguments: cases)
    func malformed(_ item: MalformedCase) throws {
        guard let error = openError(try item.bytes()) else {
            Issue.record("\(item.name): opened without error")
            return
        }
        #expect(error.path == "bad.gguf")
        #expect(
            Self.sameCase(error.reason, item.expected), "\(item.name): got \(error.reason.message)")
        #expect(error.description.hasPrefix("bad.gguf"))
        // reader errors say where; only a missing key or layer may have no single place
        switch error.reason {
        case .missingKey: break
        default: #expect(error.offset != nil, "\(item.name): no offset")
        }
    }

    /// Equal reasons, where the counts that depend on the exact file size (`available`,
    /// `limit`, `start`, `size`, `fileSize`, `needed` for padding) are not compared when the
    /// expectation leaves them 0.
    static func sameCase(_ found: GGUFError.Reason, _ expected: GGUFError.Reason) -> Bool {
        switch (found, expected) {
        case (.countTooLarge(let f1, let c1, _), .countTooLarge(let f2, let c2, 0)):
            return f1 == f2 && c1 == c2
        case (.tensorOutOfBounds(let t1, _, let s1, _), .tensorOutOfBounds(let t2, 0, let s2, 0)):
            return t1 == t2 && (s2 == 0 || s1 == s2)
        case (.truncated(let f1, _, _), .truncated(let f2, 0, 0)):
            return f1 == f2
        case (.stringTooLong(let f1, let l1, _), .stringTooLong(let f2, let l2, 0)):
            return f1 == f2 && l1 == l2
        default:
            return found == expected
        }
    }
}
