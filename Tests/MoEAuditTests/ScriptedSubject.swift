import Foundation
import MoERouting

@testable import MoEAudit

/// A model whose routing the test writes: a text is split into words (one token each), and a
/// router rule turns (word, layer) into logits over the experts. Softmax, then top-k, exactly
/// as a softmax-gated MoE router does.
struct ScriptedSubject: AuditSubject {
    enum Router {
        /// Logits from a hash of the word and layer: even routing over many words.
        case hashed
        /// Experts 0 and 1 win every token by a wide margin.
        case collapsed
        /// Every logit equal except a tiny hashed term (every decision fragile), plus a term
        /// that depends on the thread count (a different summation order).
        case fragile
        /// Hashed, but each call shifts the logits: state leaking between runs.
        case leaky
    }

    var router: Router
    var layers = 4
    var experts = 8
    var k = 2
    var contextLength = 64
    /// Per-word score: words listed here get this log-likelihood, others −1.
    var scores: [String: Double] = [:]
    private let calls = Counter()

    init(router: Router, layers: Int = 4, experts: Int = 8, k: Int = 2) {
        self.router = router
        self.layers = layers
        self.experts = experts
        self.k = k
    }

    var model: ModelDescription {
        ModelDescription(
            name: "scripted-\(router)", architecture: "test", fingerprint: "0123456789abcdef",
            layerCount: layers, moeLayers: Array(0..<layers), expertCount: experts,
            expertsPerToken: k, sharedExpertCount: 0, gating: .softmax, normalizesTopK: true,
            weightsScale: 1, totalParameters: 1000, activeParameters: 400,
            parametersPerExpert: 10, bytesPerExpert: 40, alwaysActiveBytes: 100)
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    func tokenCount(of text: String) throws -> Int { max(1, Self.words(text).count) }

    /// FNV-1a, so that routing is the same in every process.
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    func logits(word: String, layer: Int, threads: Int, call: Int) -> [Float] {
        (0..<experts).map { e in
            let u = Float(Self.hash("\(word)|\(layer)|\(e)") % 10_000) / 10_000
            switch router {
            case .hashed: return 4 * u
            case .collapsed: return (e < 2 ? 12 : 0) + u
            case .fragile: return 1e-4 * u + (threads == 1 ? 0 : 1e-4 * Float(e % 3))
            case .leaky: return 4 * u + Float(call) * Float(e)
            }
        }
    }

    func evaluate(prompt: String, reference: String?, threads: Int, scoring: Bool) throws
        -> PromptEvaluation
    {
        let call = calls.next()
        let promptWords = Self.words(prompt)
        let referenceWords = reference.map(Self.words) ?? []
        var steps: [TokenStep] = []
        for (position, word) in (promptWords + referenceWords).enumerated() {
            let records = (0..<layers).map { layer in
                let z = logits(word: word, layer: layer, threads: threads, call: call)
                let peak = z.max() ?? 0
                let exps = z.map { exp($0 - peak) }
                let sum = exps.reduce(0, +)
                let p = exps.map { $0 / sum }
                let chosen = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
                    .prefix(k).map { Int32($0) }
                let weightSum = chosen.map { p[Int($0)] }.reduce(0, +)
                return RoutingRecord(
                    layer: layer, logits: z, probabilities: p, experts: chosen,
                    weights: chosen.map { p[Int($0)] / weightSum })
            }
            steps.append(
                TokenStep(
                    tokenID: Int32(truncatingIfNeeded: Self.hash(word) % 50_000), piece: word,
                    position: position, phase: .prefill, records: records))
        }
        let scored = referenceWords.isEmpty ? Array(promptWords.dropFirst()) : referenceWords
        return PromptEvaluation(
            steps: steps, promptTokenCount: promptWords.count, scoredTokenCount: scored.count,
            logLikelihood: scored.map { scores[$0] ?? -1 }.reduce(0, +))
    }
}

/// Counts calls across copies of a subject.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// The repository's SamplePrompts folder.
let samplePromptsURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "SamplePrompts")

/// A small prompt set: three domains of six prompts, two boundary prompts, one rewording pair.
func smallPromptSet() throws -> PromptSet {
    var prompts: [AuditPrompt] = []
    let vocabulary = [
        "alpha": ["contract", "clause", "party", "licence", "court", "tenant", "liability"],
        "beta": ["def", "return", "int", "while", "struct", "printf", "import"],
        "gamma": ["bonjour", "merci", "maison", "chat", "soleil", "livre", "pomme"],
    ]
    for (domain, words) in vocabulary.sorted(by: { $0.key < $1.key }) {
        for i in 0..<6 {
            let text = (0..<5).map { words[($0 + i) % words.count] }.joined(separator: " ")
            prompts.append(AuditPrompt(id: "\(domain)-\(i)", domain: domain, text: text))
        }
    }
    prompts.append(
        AuditPrompt(
            id: "b-0", domain: "boundary", text: "contract clause def return struct",
            parents: ["alpha", "beta"]))
    prompts.append(
        AuditPrompt(
            id: "b-1", domain: "boundary", text: "zzz yyy xxx www vvv uuu",
            parents: ["alpha", "gamma"]))
    prompts.append(
        AuditPrompt(id: "r-a", domain: "beta", text: "def int return", pair: "r-b"))
    prompts.append(
        AuditPrompt(id: "r-b", domain: "beta", text: "def return int", pair: "r-a"))
    return try PromptSet(prompts: prompts)
}
