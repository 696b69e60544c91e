import Foundation
import MoEGGUF
import Testing

@testable import MoEEngine

/// A stored weight matrix from Fixtures/kernels (written by Scripts/fixtures/kernel_blocks.py)
/// with gguf-py's reference values.
struct KernelFixture {
    let type: GGMLType
    let rows: Int
    let columns: Int
    /// Row-major blocks, as in a GGUF file.
    let raw: [UInt8]
    /// x [columns].
    let x: [Float]
    /// y = W x in float64 with gguf-py's dequantisation [rows].
    let y: [Double]
    /// Σ_c |W[r][c]·x[c]| [rows]: the scale errors are measured against.
    let magnitude: [Double]
    /// gguf-py's dequantisation of rows 0 and 1.
    let dequantized: [[Float]]

    /// The types the kernels support, by ggml name (every fixture).
    static let typeNames = [
        "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
        "Q5_K", "Q6_K",
    ]

    private struct Reference: Decodable {
        let rows: Int
        let columns: Int
        let x: [Float]
        let y: [Double]
        let magnitude: [Double]
        let dequantized: [[Float]]
    }

    init(_ name: String) throws {
        let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("kernels")
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
        type = try #require(GGMLType.allCases.first { $0.name == name })
        rows = reference.rows
        columns = reference.columns
        raw = Array(try Data(contentsOf: folder.appendingPathComponent("\(name).bin")))
        x = reference.x
        y = reference.y
        magnitude = reference.magnitude
        dequantized = reference.dequantized
        #expect(raw.count == rows * type.rowBytes(columns: columns)!)
    }

    /// The raw rows repeated `copies` times (a taller matrix, to split across threads).
    func tallRaw(copies: Int) -> [UInt8] {
        Array([[UInt8]](repeating: raw, count: copies).joined())
    }
}

/// Runs `body` with a WeightMatrix over `bytes` (rows × columns of `type`).
func withWeights<R>(
    _ bytes: [UInt8], _ type: GGMLType, rows: Int, columns: Int,
    _ body: (WeightMatrix) throws -> R
) rethrows -> R {
    try bytes.withUnsafeBytes { buffer in
        try body(
            WeightMatrix(type: type, rows: rows, columns: columns, base: buffer.baseAddress!))
    }
}

/// Every row of `w` dequantised with the kernels' decoder, in float64 [rows][columns].
func dequantizedRows(_ w: WeightMatrix) -> [[Double]] {
    var row = [Float](repeating: 0, count: w.columns)
    return (0..<w.rows).map { r in
        row.withUnsafeMutableBufferPointer { dequantizeRow(w, row: r, into: $0.baseAddress!) }
        return row.map(Double.init)
    }
}
