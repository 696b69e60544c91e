import Foundation
import MoEGGUF
import Testing

@testable import MoEEngine

@Suite("Kernel matVec")
struct KernelMatVecTests {
    /// Relative error of float weights dotted in float32, against Σ|W·x|.
    static let floatTolerance = 1e-5
    /// Relative error from quantising x to int8 per 32 elements (|x − d·q| ≤ d/2 with
    /// d = max|x|/127), against Σ|W·x|. The bound is max|x|/(254·mean|x|) per group; with these
    /// activations it stays under 1e-2.
    static let int8ActivationTolerance = 1e-2

    @Test("dequantizeRow matches gguf-py", arguments: KernelFixture.typeNames)
    func dequantizeMatchesGGUFPy(name: String) throws {
        let fixture = try KernelFixture(name)
        let rows = withWeights(
            fixture.raw, fixture.type, rows: fixture.rows, columns: fixture.columns,
            dequantizedRows)
        var largest: Float = 0
        for r in 0..<2 {
            for c in 0..<fixture.columns {
                let expected = fixture.dequantized[r][c]
                let difference = abs(Float(rows[r][c]) - expected)
                largest = max(largest, difference / max(1, abs(expected)))
            }
        }
        print("\(name): dequantizeRow largest relative difference \(largest)")
        #expect(largest <= 1e-6)
    }

    @Test("matVec matches W·x in float64", arguments: KernelFixture.typeNames)
    func matVecMatchesReference(name: String) throws {
        let fixture = try KernelFixture(name)
        let pool = ThreadPool(threadCount: 2)
        var y = [Float](repeating: .nan, count: fixture.rows)
        withWeights(fixture.raw, fixture.type, rows: fixture.rows, columns: fixture.columns) {
            w in
            fixture.x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { out in
                    matVec(w, x.baseAddress!, out.baseAddress!, pool: pool)
                }
            }
        }
        let tolerance =
            fixture.type.activationForm == .int8Groups
            ? Self.int8ActivationTolerance : Self.floatTolerance
        var largest = 0.0
        for r in 0..<fixture.rows {
            largest = max(largest, abs(Double(y[r]) - fixture.y[r]) / fixture.magnitude[r])
        }
        print("\(name): matVec largest error / Σ|W·x| = \(largest) (tolerance \(tolerance))")
        #expect(largest <= tolerance)
    }

    @Test(
        "integer kernels are exact up to float rounding on the quantised x",
        arguments: KernelFixture.typeNames)
    func integerKernelsMatchQuantisedProduct(name: String) throws {
        let fixture = try KernelFixture(name)
        let form = fixture.type.activationForm
        guard form == .int8Groups else { return }
        let n = fixture.columns

        // x as the kernels see it: d·q per group, back in element order
        var xHat = [Double](repeating: 0, count: n)
        var scratch = [UInt8](repeating: 0, count: activationScratchBytes(columns: n, form: form))
        fixture.x.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBytes { raw in
                let a = prepareActivation(
                    x.baseAddress!, columns: n, form: form, scratch: raw.baseAddress!)
                for g in 0..<(n / 32) {
                    for i in 0..<16 {
                        xHat[32 * g + 2 * i] = Double(a.d![g]) * Double(a.q![32 * g + i])
                        xHat[32 * g + 2 * i + 1] = Double(a.d![g]) * Double(a.q![32 * g + 16 + i])
                    }
                }
            }
        }

        let pool = ThreadPool(threadCount: 1)
        var largest = 0.0
        withWeights(fixture.raw, fixture.type, rows: fixture.rows, columns: n) { w in
            let rows = dequantizedRows(w)
            var y = [Float](repeating: .nan, count: fixture.rows)
            fixture.x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { out in
                    matVec(w, x.baseAddress!, out.baseAddress!, pool: pool)
                }
            }
            for r in 0..<fixture.rows {
                var expected = 0.0
                for c in 0..<n { expected += rows[r][c] * xHat[c] }
                // the min terms of Q4_K/Q5_K use the exact float sum of x, not of d·q
                if fixture.type == .q4_K || fixture.type == .q5_K {
                    expected = 0
                    withWeights(
                        Array(fixture.raw[(r * w.rowBytes)..<((r + 1) * w.rowBytes)]),
                        fixture.type, rows: 1, columns: n
                    ) { single in
                        expected = kQuantReference(single, xHat: xHat, x: fixture.x)
                    }
                }
                largest = max(largest, abs(Double(y[r]) - expected) / fixture.magnitude[r])
            }
        }
        print("\(name): integer kernel vs float64 on quantised x: \(largest)")
        #expect(largest <= Self.floatTolerance)
    }

    @Test("matVec is bit-identical for 1, 2 and 3 threads", arguments: KernelFixture.typeNames)
    func matVecDeterministicAcrossThreads(name: String) throws {
        let fixture = try KernelFixture(name)
        let copies = 64
        let rows = fixture.rows * copies
        let raw = fixture.tallRaw(copies: copies)
        var results: [[Float]] = []
        for threads in 1...3 {
            let pool = ThreadPool(threadCount: threads)
            var y = [Float](repeating: .nan, count: rows)
            withWeights(raw, fixture.type, rows: rows, columns: fixture.columns) { w in
                fixture.x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { out in
                        matVec(w, x.baseAddress!, out.baseAddress!, pool: pool)
                    }
                }
            }
            results.append(y)
        }
        #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
        #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
        #expect(!results[0].contains { $0.isNaN })
    }

    @Test("batched matVec equals separate products")
    func batchedEqualsSeparate() throws {
        let names = ["Q8_0", "Q4_K", "Q6_K", "F16", "Q3_K"]
        let fixtures = try names.map { try KernelFixture($0) }
        let pool = ThreadPool(threadCount: 3)
        let copies = 8
        let raws = fixtures.map { $0.tallRaw(copies: copies) }
        let x = fixtures[0].x
        var batched = fixtures.map { [Float](repeating: .nan, count: $0.rows * copies) }
        var separate = batched

        // every product reads the same x (shared preparation per form)
        func withMatrices<R>(_ body: ([WeightMatrix]) -> R) -> R {
            var matrices: [WeightMatrix] = []
            func nest(_ i: Int) -> R {
                if i == raws.count { return body(matrices) }
                return raws[i].withUnsafeBytes { buffer in
                    matrices.append(
                        WeightMatrix(
                            type: fixtures[i].type, rows: fixtures[i].rows * copies,
                            columns: fixtures[i].columns, base: buffer.baseAddress!))
                    return nest(i + 1)
                }
            }
            return nest(0)
        }
        withMatrices { matrices in
            x.withUnsafeBufferPointer { xp in
                let outputs = (0..<matrices.count).map { i in
                    UnsafeMutablePointer<Float>.allocate(capacity: matrices[i].rows)
                }
                defer { outputs.forEach { $0.deallocate() } }
                let products = (0..<matrices.count).map {
                    MatVecProduct(matrices[$0], xp.baseAddress!, outputs[$0])
                }
                matVec(products, pool: pool)
                for i in 0..<matrices.count {
                    batched[i] = Array(
                        UnsafeBufferPointer(start: outputs[i], count: matrices[i].rows))
                    matVec(matrices[i], xp.baseAddress!, outputs[i], pool: pool)
                    separate[i] = Array(
                        UnsafeBufferPointer(start: outputs[i], count: matrices[i].rows))
                }
            }
        }
        for i in 0..<names.count {
            #expect(batched[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(names[i])")
        }
    }
}

/// Q4_K/Q5_K row · x in float64 the way the kernel defines it: the scaled part on the quantised
/// x (d·q), the minimum part on the exact float sums of x per 32 elements.
func kQuantReference(_ w: WeightMatrix, xHat: [Double], x: [Float]) -> Double {
    var total = 0.0
    for k in 0..<(w.columns / 256) {
        let b = w.row(0) + k * w.type.blockBytes
        let dmin = Double(
            Float(Float16(bitPattern: b.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
        var decoded = [Float](repeating: 0, count: 256)
        decoded.withUnsafeMutableBufferPointer { decodeBlock(w.type, b, $0.baseAddress!) }
        for sub in 0..<8 {
            // decoded = d·scale·q − dmin·min; add the minimum back to get the scaled part
            let minimum = dmin * Double(kQuantScaleMin(b + 4, sub).min)
            var scaled = 0.0
            var sum = 0.0
            for e in (32 * sub)..<(32 * sub + 32) {
                scaled += (Double(decoded[e]) + minimum) * xHat[256 * k + e]
                sum += Double(x[256 * k + e])
            }
            total += scaled - minimum * sum
        }
    }
    return total
}
