import Foundation
import MoERouting

/// The router a synthetic model gets (`moetop synth --router`), for testing the collapse audit.
///
/// - `random`: the writer's own random router weights (no change).
/// - `collapsed`: every token embedding carries one shared direction u (a fixed random unit
///   vector, scaled to three times the norm of the random part), and the router rows of
///   experts 0 and 1 point along u, those of the other experts are small and random. The
///   residual stream keeps u through every block, so experts 0 and 1 win every token by a wide
///   margin: the collapse the audit must catch.
/// - `balanced`: every router row is a random direction of the same length and the embeddings
///   carry no shared direction, so no expert is favoured over many different tokens.
enum SynthRouter: String, CaseIterable {
    case random, collapsed, balanced

    init(option: String?) throws {
        guard let option else {
            self = .random
            return
        }
        guard let router = SynthRouter(rawValue: option) else {
            throw UsageError(
                "synth: --router expects one of "
                    + SynthRouter.allCases.map(\.rawValue).joined(separator: ", ")
                    + ", got '\(option)'")
        }
        self = router
    }

    /// Length of every router row of `balanced`, and of the favoured rows of `collapsed`.
    static let rowLength: Float = 4
    /// Length of the other rows of `collapsed`, as a share of `rowLength`.
    static let unfavouredShare: Float = 0.1
    /// The shared direction's length in `collapsed`, in units of the norm of a random embedding
    /// row (√hidden with unit-variance components).
    static let offsetScale: Float = 3

    /// The unit vector u shared by `collapsed`'s embeddings and favoured router rows. `[hidden]`
    static func sharedDirection(hidden: Int, seed: UInt64) -> [Float] {
        var random = SynthRouterRandom(seed: seed ^ 0x5EED_C011_A95E)
        return unit((0..<hidden).map { _ in random.normal() })
    }

    static func unit(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    /// A vector to add to every token embedding, or nil for none. `[hidden]`
    func embeddingOffset(hidden: Int, seed: UInt64) -> [Float]? {
        guard self == .collapsed else { return nil }
        let length = Self.offsetScale * Float(hidden).squareRoot()
        return Self.sharedDirection(hidden: hidden, seed: seed).map { $0 * length }
    }

    /// The router weights `ffn_gate_inp.weight` of one layer, row-major `[experts][hidden]`
    /// (one row per expert), or nil to keep the writer's random ones.
    func routerWeights(hidden: Int, experts: Int, layer: Int, seed: UInt64) -> [Float]? {
        guard self != .random else { return nil }
        var random = SynthRouterRandom(seed: seed &+ UInt64(layer) &* 0x9E37_79B9_7F4A_7C15)
        let u = Self.sharedDirection(hidden: hidden, seed: seed)
        var rows: [Float] = []
        rows.reserveCapacity(hidden * experts)
        for expert in 0..<experts {
            let direction = Self.unit((0..<hidden).map { _ in random.normal() })
            switch self {
            case .balanced:
                rows += direction.map { $0 * Self.rowLength }
            case .collapsed where expert < 2:
                // mostly u, a little of a random direction so the two are not tied
                let mixed = Self.unit(zip(u, direction).map { $0 + 0.2 * $1 })
                rows += mixed.map { $0 * Self.rowLength * (expert == 0 ? 1 : 0.95) }
            default:
                rows += direction.map { $0 * Self.rowLength * Self.unfavouredShare }
            }
        }
        return rows
    }
}

/// SplitMix64 with a Box-Muller normal: the same seed gives the same model on every machine.
struct SynthRouterRandom {
    private var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    /// Uniform in (0, 1).
    mutating func uniform() -> Float {
        (Float(next() >> 40) + 0.5) * 0x1p-24
    }

    /// Standard normal.
    mutating func normal() -> Float {
        let a = uniform()
        let b = uniform()
        return (-2 * log(a)).squareRoot() * cos(2 * Float.pi * b)
    }
}
