import Foundation
import MoERouting

@testable import MoETUI

/// Shared test data: a hand-made 2-layer x 4-expert top-2 model and steps whose routing is
/// written out, so each test can say exactly what the screen must show.
enum Fixture {
    /// Locale with UTF-8 so wcwidth measures non-ASCII characters.
    static let locale: Void = {
        setlocale(LC_ALL, "C.UTF-8")
    }()

    static let model = ModelDescription(
        name: "tiny-test", architecture: "qwen3moe", fingerprint: "abc", layerCount: 3,
        moeLayers: [1, 2], expertCount: 4, expertsPerToken: 2, sharedExpertCount: 0,
        gating: .softmax, normalizesTopK: true, weightsScale: 1, totalParameters: 10_000,
        activeParameters: 6_000, parametersPerExpert: 1_000, bytesPerExpert: 2_000,
        alwaysActiveBytes: 4_000)

    /// A record with probabilities `p`; the top-2 are chosen, renormalised.
    static func record(layer: Int, _ p: [Float]) -> RoutingRecord {
        let order = p.indices.sorted { p[$0] > p[$1] }.prefix(2)
        let sum = order.reduce(Float(0)) { $0 + p[$1] }
        return RoutingRecord(
            layer: layer, logits: [], probabilities: p, experts: order.map { Int32($0) },
            weights: order.map { p[$0] / sum })
    }

    /// Token i: layer 1 prefers experts 0 and 1, layer 2 experts 2 and 3 (token 2 differs).
    static let steps: [TokenStep] = [
        TokenStep(
            tokenID: 10, piece: "Hello", position: 0, phase: .prefill,
            records: [
                record(layer: 1, [0.5, 0.3, 0.1, 0.1]), record(layer: 2, [0.1, 0.1, 0.2, 0.6]),
            ]),
        TokenStep(
            tokenID: 11, piece: " world", position: 1, phase: .decode,
            records: [
                record(layer: 1, [0.4, 0.4, 0.1, 0.1]), record(layer: 2, [0.1, 0.2, 0.3, 0.4]),
            ]),
        TokenStep(
            tokenID: 12, piece: "!", position: 2, phase: .decode,
            records: [
                record(layer: 1, [0.1, 0.1, 0.2, 0.6]), record(layer: 2, [0.7, 0.1, 0.1, 0.1]),
            ]),
    ]

    static func history(_ steps: [TokenStep] = steps) -> RoutingHistory {
        var history = RoutingHistory(model: model, windowSize: 64)
        history.append(contentsOf: steps)
        return history
    }

    /// A synthetic history of a big model.
    static func synthetic(layers: Int, experts: Int, topK: Int, tokens: Int) -> RoutingHistory {
        let model = SyntheticRouting.model(layers: layers, experts: experts, topK: topK, seed: 3)
        var generator = SyntheticRouting(model: model, seed: 3)
        var history = RoutingHistory(model: model)
        history.append(contentsOf: (0..<tokens).map { _ in generator.next(prefillTokens: 4) })
        return history
    }

    static func frame(_ context: ScreenContext, _ width: Int = 100, _ height: Int = 30) -> Frame {
        _ = locale
        return FrameBuilder.build(context, width: width, height: height).0
    }
}

extension Frame {
    /// The lines of the frame that contain `text`.
    func lines(containing text: String) -> [String] { lines.filter { $0.contains(text) } }

    /// The first position of `text`, as (x, y) in cells.
    func find(_ text: String) -> (x: Int, y: Int)? {
        for (y, line) in lines.enumerated() {
            if let range = line.range(of: text) {
                return (DisplayWidth.of(String(line[..<range.lowerBound])), y)
            }
        }
        return nil
    }
}
