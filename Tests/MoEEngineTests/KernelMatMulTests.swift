import Foundation
import MoEGGUF
import Testing

@testable import MoEEngine

@Suite("Kernel matMul, thread pool, element-wise")
struct KernelMatMulTests {
    /// Relative error of sgemm in float32 on dequantised weights, against Σ|W·x|.
    static let tolerance = 1e-5

    /// X [n, columns]: deterministic, varied values.
    static func inputs(count n: Int, columns: Int) -> [Float] {
        (0..<(n * columns)).map { i in Float(sin(Double(i) * 0.37) * 2 + cos(Double(i) * 0.011)) }
    }

    @Test("matMul matches X·Wᵀ in float64", arguments: KernelFixture.typeNames)
    func matMulMatchesReference(name: String) throws {
        let fixture = try KernelFixture(name)
        let n = 5
        let copies = 4
        let rows = fixture.rows * copies
        let columns = fixture.columns
        let x = Self.inputs(count: n, columns: columns)
        var y = [Float](repeating: .nan, count: n * rows)
        let pool = ThreadPool(threadCount: 2)
        var largest = 0.0
        withWeights(fixture.tallRaw(copies: copies), fixture.type, rows: rows, columns: columns) {
            w in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    matMul(w, xp.baseAddress!, count: n, yp.baseAddress!, pool: pool)
                }
            }
            let weights = dequantizedRows(w)
            for t in 0..<n {
                for r in 0..<rows {
                    var expected = 0.0
                    var magnitude = 0.0
                    for c in 0..<columns {
                        let term = weights[r][c] * Double(x[t * columns + c])
                        expected += term
                        magnitude += abs(term)
                    }
                    largest = max(largest, abs(Double(y[t * rows + r]) - expected) / magnitude)
                }
            }
        }
        print("\(name): matMul largest error / Σ|W·x| = \(largest)")
        #expect(largest <= Self.tolerance)
    }

    @Test("matMul is bit-identical for 1, 2 and 3 threads", arguments: ["F32", "Q8_0", "Q4_K"])
    func matMulDeterministicAcrossThreads(name: String) throws {
        let fixture = try KernelFixture(name)
        let n = 7
        let copies = 11  // 209 rows: four tiles, the last one partial
        let rows = fixture.rows * copies
        let x = Self.inputs(count: n, columns: fixture.columns)
        var results: [[UInt32]] = []
        for threads in 1...3 {
            let pool = ThreadPool(threadCount: threads)
            var y = [Float](repeating: .nan, count: n * rows)
            withWeights(
                fixture.tallRaw(copies: copies), fixture.type, rows: rows,
                columns: fixture.columns
            ) { w in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        matMul(w, xp.baseAddress!, count: n, yp.baseAddress!, pool: pool)
                    }
                }
            }
            results.append(y.map(\.bitPattern))
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }

    @Test("thread pool runs every chunk once", arguments: [1, 2, 3, 5])
    func poolRunsEveryChunkOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for chunks in [0, 1, 2, 7, 100, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(chunks, 1))
            hits.initialize(repeating: 0, count: max(chunks, 1))
            defer { hits.deallocate() }
            for _ in 0..<3 {
                pool.parallelFor(chunks: chunks) { chunk, thread in
                    precondition(thread >= 0 && thread < threads)
                    hits[chunk] += 1
                }
            }
            #expect((0..<chunks).allSatisfy { hits[$0] == 3 }, "chunks \(chunks)")
        }
    }

    @Test("chunk ranges tile the work in order")
    func rangesTile() {
        for (count, chunks, granule) in [(0, 3, 1), (7, 3, 1), (100, 8, 16), (1000, 7, 16)] {
            var next = 0
            for chunk in 0..<chunks {
                let range = ThreadPool.range(
                    of: chunk, chunks: chunks, count: count, granule: granule)
                #expect(range.lowerBound == next)
                #expect(range.lowerBound % granule == 0)
                next = range.upperBound
            }
            #expect(next == count)
        }
    }

    @Test("rmsNorm, softmax, siluMul, add, scale, accumulate match float64")
    func elementwiseMatchReference() {
        let n = 300
        let x = (0..<n).map { Float(sin(Double($0) * 0.7) * 3) }
        let b = (0..<n).map { Float(cos(Double($0) * 0.3)) }
        var out = [Float](repeating: .nan, count: n)

        // rmsNorm
        rmsNorm(x, weight: b, epsilon: 1e-6, into: &out, count: n)
        let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        let norm = (0..<n).map { Double(x[$0]) / (meanSquare + 1e-6).squareRoot() * Double(b[$0]) }
        #expect(largestRelative(out, norm) <= 1e-6)

        // softmax
        var probabilities = x
        softmax(&probabilities, count: n)
        let maximum = Double(x.max()!)
        let exps = x.map { exp(Double($0) - maximum) }
        let total = exps.reduce(0, +)
        #expect(largestRelative(probabilities, exps.map { $0 / total }) <= 1e-5)

        // siluMul
        siluMul(x, b, into: &out, count: n)
        let silu = (0..<n).map { Double(x[$0]) / (1 + exp(-Double(x[$0]))) * Double(b[$0]) }
        #expect(largestRelative(out, silu) <= 1e-6)

        // add, scale, accumulate
        add(x, b, into: &out, count: n)
        #expect(largestRelative(out, (0..<n).map { Double(x[$0]) + Double(b[$0]) }) <= 1e-7)
        out = x
        scale(&out, by: 0.5, count: n)
        #expect(out == x.map { $0 * 0.5 })
        out = b
        accumulate(x, scaledBy: 0.25, into: &out, count: n)
        #expect(largestRelative(out, (0..<n).map { Double(b[$0]) + 0.25 * Double(x[$0]) }) <= 1e-7)
    }

    @Test("F16 conversion is exact for every bit pattern")
    func halfConversionExact() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let scalar = halfToFloat(bits)
            let vector = halfToFloat(lowHalves: SIMD8<UInt32>(repeating: UInt32(bits)))[3]
            if expected.isNaN {
                #expect(scalar.isNaN && vector.isNaN)
            } else {
                #expect(scalar.bitPattern == expected.bitPattern, "bits \(bits)")
                #expect(vector.bitPattern == expected.bitPattern, "bits \(bits)")
            }
            if scalar.bitPattern != expected.bitPattern && !expected.isNaN { break }
        }
    }
}

/// The largest |a − b| / max(1, |b|).
func largestRelative(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
}

@Suite("Kernel tile decoders")
struct KernelTileDecodeTests {
    @Test(
        "quad-split decoding equals decodeBlock, permuted",
        arguments: ["Q8_0", "Q4_K", "Q5_K", "Q6_K"])
    func quadSplitMatchesDecodeBlock(name: String) throws {
        let fixture = try KernelFixture(name)
        let n = fixture.columns
        var mismatches = 0
        withWeights(fixture.raw, fixture.type, rows: fixture.rows, columns: n) { w in
            #expect(w.type.hasQuadSplitDecoder)
            var plain = [Float](repeating: 0, count: n)
            var split = [Float](repeating: .nan, count: n)
            for r in 0..<w.rows {
                plain.withUnsafeMutableBufferPointer {
                    dequantizeRow(w, row: r, into: $0.baseAddress!)
                }
                split.withUnsafeMutableBufferPointer {
                    decodeRowQuadSplit(w, row: r, into: $0.baseAddress!)
                }
                for c in 0..<n where plain[c].bitPattern != split[quadSplitPosition(c)].bitPattern {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("quad-split positions are a permutation of each 32-group")
    func positionsPermute() {
        let positions = (0..<64).map(quadSplitPosition)
        #expect(Set(positions) == Set(0..<64))
        #expect(positions[0..<32].allSatisfy { $0 < 32 })
        #expect(positions[1] == 8 && positions[4] == 1 && positions[31] == 31)
    }
}
