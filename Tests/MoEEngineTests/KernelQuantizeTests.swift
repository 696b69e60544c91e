import Foundation
import MoEGGUF
import Testing

@testable import MoEEngine

@Suite("Kernel K-quant quantisers")
struct KernelQuantizeTests {
    /// Root-mean-square reconstruction error over RMS(x) for smooth random rows: a 4-bit code
    /// with a per-32 scale and minimum (Q4_K) errs by about step/√12 ≈ 0.07 of σ for uniform
    /// values; a 6-bit signed code (Q6_K) by about a quarter of that. A row with one large
    /// outlier widens its sub-block's step, hence the margin.
    static let tolerances: [String: Double] = ["Q4_K": 0.1, "Q6_K": 0.03]

    /// Rows of 512 values: uniform, heavy-tailed, all of one sign, small, with an outlier.
    /// (Much smaller values underflow the f16 block scale, in ggml too.)
    static func rows() -> [[Float]] {
        let n = 512
        // a fixed hash of the index, in (−1, 1)
        let uniform = (0..<n).map {
            Float((sin(Double($0) * 12.9898) * 43758.5453).truncatingRemainder(dividingBy: 1))
        }
        let heavy = uniform.map { $0 * $0 * $0 * 3 }
        let positive = uniform.map { abs($0) + 0.5 }
        let small = uniform.map { $0 * 1e-2 }
        var outlier = uniform
        outlier[17] = 25
        return [uniform, heavy, positive, small, outlier]
    }

    @Test("quantise then decode stays within the stated error", arguments: ["Q4_K", "Q6_K"])
    func roundTrip(name: String) throws {
        let type = try #require(GGMLType.allCases.first { $0.name == name })
        let tolerance = Self.tolerances[name]!
        for (index, row) in Self.rows().enumerated() {
            let n = row.count
            var stored = [UInt8](repeating: 0, count: type.rowBytes(columns: n)!)
            row.withUnsafeBufferPointer { x in
                stored.withUnsafeMutableBytes { out in
                    quantizeRowKQuant(type, x.baseAddress!, out.baseAddress!, count: n)
                }
            }
            let decoded = withWeights(stored, type, rows: 1, columns: n, dequantizedRows)[0]
            var squaredError = 0.0
            var squared = 0.0
            for c in 0..<n {
                squaredError += (decoded[c] - Double(row[c])) * (decoded[c] - Double(row[c]))
                squared += Double(row[c]) * Double(row[c])
            }
            let relative = (squaredError / squared).squareRoot()
            print("\(name) row \(index): relative RMS error \(relative)")
            #expect(relative <= tolerance, "row \(index)")
        }
    }

    @Test("a zero row decodes to zeros", arguments: ["Q4_K", "Q6_K"])
    func zeroRow(name: String) throws {
        let type = try #require(GGMLType.allCases.first { $0.name == name })
        let row = [Float](repeating: 0, count: 256)
        var stored = [UInt8](repeating: 0xFF, count: type.blockBytes)
        row.withUnsafeBufferPointer { x in
            stored.withUnsafeMutableBytes { out in
                quantizeRowKQuant(type, x.baseAddress!, out.baseAddress!, count: 256)
            }
        }
        let decoded = withWeights(stored, type, rows: 1, columns: 256, dequantizedRows)[0]
        #expect(decoded.allSatisfy { $0 == 0 })
    }
}
