import Foundation
import MoEGGUF
import Testing

/// A small seeded generator, so a failing iteration can be replayed (`MOETOP_FUZZ_SEED`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A seeded mutation campaign over valid files: bit flips, interesting integers written over
/// header fields, truncations, splices between files, insertions and deletions. Bounded by
/// time (`MOETOP_FUZZ_SECONDS`, default 15) and by iterations (`MOETOP_FUZZ_ITERATIONS`,
/// default 1 000 000), seeded by `MOETOP_FUZZ_SEED`; with `MOETOP_FUZZ_LAST_INPUT=FILE` each
/// input is written to FILE before it is parsed, so a crash leaves it behind. A crash fails the run; every rejection is a typed GGUFError (the
/// reader's `throws(GGUFError)` makes that a compile-time fact); every accepted mutant must
/// satisfy the reader's invariants and survive the configuration check and dequantisation of
/// a row of every tensor.
@Suite struct FuzzTests {
    static let interesting: [UInt64] = [
        0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 0x7F, 0x80, 0xFFFF,
        0x1_0000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 62, 1 << 63,
        UInt64.max - 31, UInt64.max - 1, UInt64.max,
    ]

    static func seeds() throws -> [[UInt8]] {
        [
            try BaseFile().bytes,
            try Fixtures.bytes("metadata/all_types.gguf"),
            try Fixtures.bytes("moe/tiny_qwen2moe.gguf"),
            try Fixtures.bytes("quants/dequant_Q4_K.gguf"),
            try Fixtures.bytes("quants/dequant_Q8_0.gguf"),
        ]
    }

    /// Where mutations mostly land: the header (metadata and tensor infos), where the parsing is.
    static func headerLength(_ bytes: [UInt8]) -> Int {
        (try? GGUFFile(bytes: bytes).dataOffset) ?? bytes.count
    }

    static func mutate(_ input: [UInt8], header: Int, seeds: [[UInt8]], rng: inout SplitMix64)
        -> [UInt8]
    {
        var bytes = input
        let header = max(1, min(header, bytes.count))
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let inHeader = Int.random(in: 0..<10, using: &rng) < 8
            let position = Int.random(
                in: 0..<(inHeader ? min(header, bytes.count) : bytes.count), using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0, 1:  // flip a bit
                bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 2:  // an interesting byte
                bytes[position] = UInt8(truncatingIfNeeded: interesting.randomElement(using: &rng)!)
            case 3, 4:  // an interesting 32- or 64-bit integer
                let width = Bool.random(using: &rng) ? 4 : 8
                let value = interesting.randomElement(using: &rng)!
                for i in 0..<width where position + i < bytes.count {
                    bytes[position + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))
                }
            case 5:  // truncate
                bytes.removeSubrange(position...)
            case 6:  // splice a run from another file over this one
                let other = seeds.randomElement(using: &rng)!
                let start = Int.random(in: 0..<other.count, using: &rng)
                let length = min(
                    Int.random(in: 1...64, using: &rng), other.count - start, bytes.count - position
                )
                bytes.replaceSubrange(
                    position..<position + length, with: other[start..<start + length])
            default:  // insert or delete a few bytes
                if Bool.random(using: &rng) {
                    let count = Int.random(in: 1...16, using: &rng)
                    bytes.insert(
                        contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) },
                        at: position)
                } else {
                    bytes.removeSubrange(
                        position..<min(bytes.count, position + Int.random(in: 1...16, using: &rng)))
                }
            }
        }
        return bytes
    }

    /// Everything a consumer would do with an accepted file; returns a broken invariant.
    static func exercise(_ file: GGUFFile) -> String? {
        for key in file.metadata.keys {
            if case .array(let array) = file.metadata[key]! {
                _ = array.strings()
                _ = array.integers()
                _ = array.floats()
            }
        }
        var scratch = [Float](repeating: 0, count: 1 << 16)
        for tensor in file.tensors {
            guard tensor.fileRange.upperBound <= file.fileSize,
                tensor.fileOffset >= file.dataOffset,
                tensor.fileOffset % file.alignment == 0, tensor.byteCount > 0
            else { return "tensor \(tensor.name) breaks the reader's invariants" }
            guard tensor.type.isSupportedForCompute, tensor.rowLength <= scratch.count else {
                continue
            }
            scratch.withUnsafeMutableBufferPointer {
                dequantizeRow(
                    tensor.type, from: file.data(of: tensor), to: $0.baseAddress!,
                    count: tensor.rowLength)
            }
        }
        _ = try? ModelConfiguration(file: file)
        return nil
    }

    @Test("mutated files never crash the reader")
    func mutationCampaign() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["MOETOP_FUZZ_SECONDS"] ?? "") ?? 15
        let maximumIterations = Int(environment["MOETOP_FUZZ_ITERATIONS"] ?? "") ?? 1_000_000
        let seed = UInt64(environment["MOETOP_FUZZ_SEED"] ?? "") ?? 20_261_203
        let lastInputPath = environment["MOETOP_FUZZ_LAST_INPUT"]
        var rng = SplitMix64(state: seed)
        let seeds = try Self.seeds()
        let headers = seeds.map(Self.headerLength)
        for seedFile in seeds { #expect(throws: Never.self) { try GGUFFile(bytes: seedFile) } }

        let deadline = Date().addingTimeInterval(seconds)
        var iterations = 0
        var accepted = 0
        var reasons: [String: Int] = [:]
        while iterations < maximumIterations, iterations % 64 != 0 || Date() < deadline {
            let pick = Int.random(in: 0..<seeds.count, using: &rng)
            let mutant = Self.mutate(seeds[pick], header: headers[pick], seeds: seeds, rng: &rng)
            iterations += 1
            if let lastInputPath {
                // so that a crash leaves its input behind for replaying
                _ = FileManager.default.createFile(atPath: lastInputPath, contents: Data(mutant))
            }
            do {
                let file = try GGUFFile(bytes: mutant, path: "fuzz.gguf")
                accepted += 1
                if let broken = Self.exercise(file) {
                    Issue.record("iteration \(iterations) (seed \(seed)): \(broken)")
                }
            } catch {
                let kind = "\(error.reason)".prefix { $0 != "(" }
                reasons[String(kind), default: 0] += 1
            }
        }
        let summary = reasons.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", ")
        print(
            "fuzz: \(iterations) iterations in \(seconds) s budget (seed \(seed)), \(accepted) accepted; rejected: \(summary)"
        )
        #expect(iterations > 0)
        #expect(reasons.count >= 10, "the mutations reach at least ten kinds of error")
    }
}
