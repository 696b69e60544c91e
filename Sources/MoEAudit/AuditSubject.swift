import MoERouting

/// What one run of a text through the model gives the audit.
public struct PromptEvaluation: Sendable {
    /// One step per token of the prompt, then of the reference when one was given, with the
    /// routing of every MoE layer. A beginning-of-sequence token the model adds is not included:
    /// it is the same in every prompt and would weigh on the same experts each time.
    public var steps: [TokenStep]
    /// The first `promptTokenCount` steps are the prompt's; the rest the reference's.
    public var promptTokenCount: Int
    /// Tokens whose log-likelihood is summed in `logLikelihood`: the reference's tokens when
    /// there is a reference, otherwise every prompt token after the first.
    public var scoredTokenCount: Int
    /// Σ ln p(token | everything before it) over the scored tokens, in nats.
    public var logLikelihood: Double

    public init(
        steps: [TokenStep], promptTokenCount: Int, scoredTokenCount: Int, logLikelihood: Double
    ) {
        self.steps = steps
        self.promptTokenCount = promptTokenCount
        self.scoredTokenCount = scoredTokenCount
        self.logLikelihood = logLikelihood
    }
}

/// The model under audit, as the audit sees it: a description, and a way to run a text and get
/// its routing and log-likelihood back. `EngineSubject` adapts a loaded MoEEngine model; tests
/// use subjects whose routing they construct.
public protocol AuditSubject {
    /// Layers, experts, top-k and the other facts the report prints.
    var model: ModelDescription { get }
    /// The most tokens one evaluation may hold (prompt and reference together).
    var contextLength: Int { get }
    /// Tokens `text` becomes, without a beginning-of-sequence token.
    func tokenCount(of text: String) throws -> Int
    /// Runs `prompt` (followed by `reference` when given, scored given the prompt) from an empty
    /// context on `threads` threads. With `scoring` false the log-likelihood may be left at zero
    /// (the run is only for its routing).
    func evaluate(prompt: String, reference: String?, threads: Int, scoring: Bool) throws
        -> PromptEvaluation
}

/// The routing decisions of one run, token by token, for comparing runs of the same text.
public struct RoutingSequence: Sendable, Equatable {
    /// MoE layers per token (L).
    public var layerCount: Int
    /// Chosen experts in rank order. `[tokens][L]`, each `[k]`.
    public var choices: [[[Int32]]]
    /// Probability gap between the k-th chosen and the best unchosen expert. `[tokens][L]`.
    public var margins: [[Float]]
    /// Gating probabilities. `[tokens][L]`, each `[E]`.
    public var probabilities: [[[Float]]]
    /// Token ids, to tell a routing change from a tokenization change.
    public var tokenIDs: [Int32]

    public init(steps: ArraySlice<TokenStep>) {
        layerCount = steps.first?.records.count ?? 0
        choices = steps.map { $0.records.map(\.experts) }
        margins = steps.map { $0.records.map(\.margin) }
        probabilities = steps.map { $0.records.map(\.probabilities) }
        tokenIDs = steps.map(\.tokenID)
    }

    public var tokenCount: Int { choices.count }
}

/// Routing counts of some tokens: how often each expert was chosen, per MoE layer.
public struct RoutingCounts: Sendable, Equatable, Codable {
    /// Tokens counted.
    public var tokens: Int
    /// `[layer slot][expert]`.
    public var counts: [[Int]]

    public init(tokens: Int, counts: [[Int]]) {
        self.tokens = tokens
        self.counts = counts
    }

    /// No tokens, for `layers` layers of `experts` experts.
    public init(layers: Int, experts: Int) {
        self.init(
            tokens: 0, counts: Array(repeating: Array(repeating: 0, count: experts), count: layers))
    }

    /// Counts the routing of `steps` with MoERouting's activation counter.
    public init(steps: ArraySlice<TokenStep>, model: ModelDescription) {
        var counter = ActivationCounter(model: model, windowSize: 0)
        for step in steps { counter.add(step) }
        self.init(tokens: counter.sessionTokens, counts: counter.allCounts(.session))
    }

    /// Adds another set of counts of the same shape.
    public mutating func add(_ other: RoutingCounts) {
        tokens += other.tokens
        for slot in counts.indices {
            for expert in counts[slot].indices {
                counts[slot][expert] += other.counts[slot][expert]
            }
        }
    }

    /// Removes counts previously added.
    public func subtracting(_ other: RoutingCounts) -> RoutingCounts {
        var result = self
        result.tokens -= other.tokens
        for slot in counts.indices {
            for expert in counts[slot].indices {
                result.counts[slot][expert] -= other.counts[slot][expert]
            }
        }
        return result
    }

    /// One layer's load as doubles, for MoERouting's metrics.
    public func load(_ slot: Int) -> [Double] { counts[slot].map(Double.init) }

    /// Sum of several counts; nil for an empty list.
    public static func sum(_ list: [RoutingCounts]) -> RoutingCounts? {
        guard var total = list.first else { return nil }
        for other in list.dropFirst() { total.add(other) }
        return total
    }
}
