import MoEEngine
import Testing

/// The what-if calculator against published totals, from each model's published configuration.
@Suite("Parameter calculator")
struct ParameterEstimateTests {
    /// One published model: its configuration and the figures its authors give.
    struct Published: CustomStringConvertible, Sendable {
        var name: String
        var vocabulary: Double
        var hidden: Double
        var layers: Int
        var queryWidth: Double
        var keyValueWidth: Double
        var qkNormWidth: Double  // per layer, q and k norms together
        var experts: Int
        var expertWidth: Double
        var topK: Int
        var tiedEmbeddings: Bool
        var publishedTotal: Double  // in billions, as published
        var publishedActive: Double

        var description: String { name }

        /// One SwiGLU expert in one layer: gate, up and down.
        var expertParameters: Double { 3 * hidden * expertWidth }

        /// Everything else: embeddings (and output head), attention, norms, routers.
        var denseParameters: Double {
            let embeddings = vocabulary * hidden * (tiedEmbeddings ? 1 : 2)
            let attention = 2 * hidden * queryWidth + 2 * hidden * keyValueWidth
            let norms = 2 * hidden + qkNormWidth
            let router = Double(experts) * hidden
            return embeddings + Double(layers) * (attention + norms + router) + hidden
        }
    }

    static let models = [
        // Mixtral 8x7B: "46.7B total parameters but only uses 12.9B parameters per token"
        Published(
            name: "Mixtral-8x7B", vocabulary: 32000, hidden: 4096, layers: 32, queryWidth: 4096,
            keyValueWidth: 1024, qkNormWidth: 0, experts: 8, expertWidth: 14336, topK: 2,
            tiedEmbeddings: false, publishedTotal: 46.7, publishedActive: 12.9),
        // Qwen3-30B-A3B: "30.5B in total and 3.3B activated"
        Published(
            name: "Qwen3-30B-A3B", vocabulary: 151936, hidden: 2048, layers: 48, queryWidth: 4096,
            keyValueWidth: 512, qkNormWidth: 256, experts: 128, expertWidth: 768, topK: 8,
            tiedEmbeddings: false, publishedTotal: 30.5, publishedActive: 3.3),
        // OLMoE-1B-7B: "6.9B total parameters, 1.3B active"
        Published(
            name: "OLMoE-1B-7B", vocabulary: 50304, hidden: 2048, layers: 16, queryWidth: 2048,
            keyValueWidth: 2048, qkNormWidth: 4096, experts: 64, expertWidth: 1024, topK: 8,
            tiedEmbeddings: false, publishedTotal: 6.9, publishedActive: 1.3),
    ]

    @Test("reproduces published totals and active counts", arguments: models)
    func published(model: Published) throws {
        let estimate = try ParameterEstimate(
            experts: model.experts, expertParameters: model.expertParameters, topK: model.topK,
            denseParameters: model.denseParameters, layers: model.layers)
        // published figures are given to 0.1 B, some rounded (Mixtral 12.88 -> 12.9), some cut
        // (Qwen3 3.35 -> 3.3): the calculation must lie within 0.1 B of them
        let total = estimate.totalParameters / 1e9
        let active = estimate.activeParameters / 1e9
        print(
            "\(model.name): \(total) B total (published \(model.publishedTotal)), \(active) B active "
                + "(published \(model.publishedActive))")
        #expect(abs(total - model.publishedTotal) < 0.1)
        #expect(abs(active - model.publishedActive) < 0.1)
    }

    @Test("per-layer and all-layer expert sizes give the same figures; shared counts as active")
    func layersAndShared() throws {
        let perLayer = try ParameterEstimate(
            experts: 10, expertParameters: 5e9, topK: 2, sharedParameters: 1e9,
            denseParameters: 2e9, layers: 100)
        let whole = try ParameterEstimate(
            experts: 10, expertParameters: 5e11, topK: 2, sharedParameters: 1e9,
            denseParameters: 2e9)
        #expect(perLayer.totalParameters == whole.totalParameters)
        #expect(perLayer.totalParameters == 5.003e12)
        #expect(perLayer.activeParameters == 1.003e12)
    }

    @Test(
        "counts with suffixes",
        arguments: [
            ("512", 512.0), ("14k", 14e3), ("176.2M", 176.2e6), ("7B", 7e9), ("7G", 7e9),
            ("0.5T", 0.5e12), (" 3 ", 3.0),
        ])
    func parse(text: String, value: Double) {
        #expect(ParameterCount.parse(text) == value)
    }

    @Test(
        "malformed counts are refused",
        arguments: ["", "B", "-3M", "1.5X", "abc", "inf", "nan", "1e400"])
    func malformed(text: String) {
        #expect(ParameterCount.parse(text) == nil)
    }

    @Test("formatting keeps three significant digits")
    func format() {
        #expect(ParameterCount.format(46_702_792_704) == "46.7 B")
        #expect(ParameterCount.format(914_000_000) == "914 M")
        #expect(ParameterCount.format(5e12) == "5 T")
        #expect(ParameterCount.format(1_282_017_280) == "1.28 B")
        #expect(ParameterCount.format(12) == "12")
    }

    @Test("impossible configurations are refused")
    func invalid() {
        #expect(throws: EngineError.self) {
            try ParameterEstimate(experts: 4, expertParameters: 1, topK: 5)
        }
        #expect(throws: EngineError.self) {
            try ParameterEstimate(experts: 0, expertParameters: 1, topK: 1)
        }
        #expect(throws: EngineError.self) {
            try ParameterEstimate(experts: 4, expertParameters: -1, topK: 1)
        }
    }
}
