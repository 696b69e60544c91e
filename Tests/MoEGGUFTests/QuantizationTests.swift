import Foundation
import MoEGGUF
import Testing

/// Dequantisation and quantisation against gguf-py (`gguf.quants`), bit for bit. Fixtures are
/// made by Scripts/fixtures/gguf_quants.py.
@Suite struct QuantizationTests {
    static let dequantisedTypes: [GGMLType] = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
        .q8_K,
    ]

    @Test("dequantised bits equal gguf-py's", arguments: dequantisedTypes)
    func dequantiseMatchesReference(type: GGMLType) throws {
        try expectDequantisation(of: "quants/dequant_\(type.name)", type: type)
    }

    /// Blocks written by llama.cpp's own quantizer (`llama_model_quantize`, from an F32 model
    /// that moetop's writer made): Scripts/fixtures/llamacpp_quants.py.
    @Test(
        "llama.cpp-quantised blocks dequantise as gguf-py does",
        arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func llamaCppQuantisedBlocks(type: GGMLType) throws {
        try expectDequantisation(of: "quants/llamacpp_\(type.name)", type: type)
    }

    /// `stem.gguf` holds one tensor `t` of `type`; `stem.f32`, its reference values' bits.
    func expectDequantisation(of stem: String, type: GGMLType) throws {
        let file = try GGUFFile(path: Fixtures.path("\(stem).gguf"))
        let tensor = try #require(file.tensor(named: "t"))
        #expect(tensor.type == type)
        let expected = try Fixtures.words("\(stem).f32")
        #expect(expected.count == tensor.elementCount)

        // row by row, as the engine does
        var found = [Float](repeating: 0, count: tensor.elementCount)
        found.withUnsafeMutableBufferPointer { out in
            for row in 0..<tensor.rowCount {
                dequantizeRow(
                    type, from: file.data(of: tensor) + row * tensor.rowBytes,
                    to: out.baseAddress! + row * tensor.rowLength, count: tensor.rowLength)
            }
        }
        let mismatches = zip(found, expected).enumerated().filter {
            $0.element.0.bitPattern != $0.element.1
        }
        if let first = mismatches.first {
            let (index, (value, reference)) = first
            let message =
                "\(type.name): \(mismatches.count) of \(expected.count) values differ; first at \(index): "
                + "0x\(String(value.bitPattern, radix: 16)) (\(value)) vs reference "
                + "0x\(String(reference, radix: 16)) (\(Float(bitPattern: reference)))"
            Issue.record(Comment(rawValue: message))
        }
        #expect(try file.floats(of: tensor).map(\.bitPattern) == expected)
    }

    @Test("quantised bytes equal gguf-py's", arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0])
    func quantiseMatchesReference(type: GGMLType) throws {
        let input = try Fixtures.words("quants/quant_\(type.name).input.f32").map(
            Float.init(bitPattern:))
        let expected = try Fixtures.bytes("quants/quant_\(type.name).bytes")
        let found = quantize(input, to: type)
        #expect(found.count == expected.count)
        let blockBytes = type.blockBytes
        let differing = stride(from: 0, to: min(found.count, expected.count), by: blockBytes).filter
        {
            found[$0..<$0 + blockBytes] != expected[$0..<$0 + blockBytes]
        }
        if let first = differing.first {
            let block = first / blockBytes
            let elements = Array(input[block * type.blockSize..<(block + 1) * type.blockSize])
            let message =
                "\(type.name): \(differing.count) blocks differ; block \(block) input "
                + "\(elements.prefix(4).map { String($0.bitPattern, radix: 16) }): "
                + "\(Array(found[first..<first + blockBytes])) vs \(Array(expected[first..<first + blockBytes]))"
            Issue.record(Comment(rawValue: message))
        }
    }

    @Test("F16 and BF16 survive a round trip for every finite value")
    func halfRoundTrip() {
        for bits in 0...UInt16.max {
            let half = floatFromHalfBits(bits)
            if !half.isNaN { #expect(halfBitsFromFloat(half) == bits) }
            let brain = floatFromBFloat16Bits(bits)
            if !brain.isNaN { #expect(bfloat16BitsFromFloat(brain) == bits) }
        }
    }
}
