/// A prompt event of a trace.
public struct TracePrompt: Sendable, Equatable {
    /// The prompt's text.
    public var text: String
    /// Index of the first token event after it (the token count when it is the last event).
    public var tokenIndex: Int

    public init(text: String, tokenIndex: Int) {
        self.text = text
        self.tokenIndex = tokenIndex
    }
}

/// A bad line found while reading.
public struct TraceIssue: Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number in the (decompressed) file; line 1 is the header.
    public var line: Int
    /// What was wrong, with the column where it was found.
    public var message: String

    public var description: String { "line \(line): \(message)" }
}

/// What reading a trace found besides its events.
public struct TraceReport: Sendable, Equatable {
    /// Lines read, the header and any torn last line included.
    public var lines = 0
    /// Bad lines skipped under lenient reading.
    public var skippedLines = 0
    /// The bad lines, line-numbered (at most `TraceReadOptions.maxIssues` are kept).
    public var issues: [TraceIssue] = []
    /// Well-formed lines whose event kind this version does not know; skipped.
    public var ignoredEvents = 0
    /// The line number of an incomplete last line (a recording cut short), which was dropped.
    public var tornLastLine: Int?
    /// The gzip stream ended without its end marker (a recording cut short).
    public var truncatedCompression = false
    /// Bytes of the file read.
    public var fileBytes = 0

    public init() {}
}

/// A trace in memory, column by column: one entry per token event in file order. Routing is
/// stored flat with a fixed stride per token, L = `moeLayers.count` slots of k experts (and E
/// probabilities where present), so any token's routing is found without a search.
public struct Trace: Sendable {
    /// The file it was read from.
    public let path: String
    public let header: TraceHeader
    public internal(set) var prompts: [TracePrompt] = []
    public internal(set) var report = TraceReport()

    public internal(set) var tokenIDs: [Int32] = []
    public internal(set) var positions: [Int] = []
    public internal(set) var phases: [Phase] = []
    public internal(set) var pieces: [String] = []
    /// Forward-pass seconds per token.
    public internal(set) var forwardSeconds: [Double] = []
    /// Sampling seconds per token.
    public internal(set) var samplingSeconds: [Double] = []
    /// Whether each token carries routing (false when capture was off for it).
    public internal(set) var hasRouting: [Bool] = []
    /// Chosen experts, best first. `[tokens, layers, k]`; −1 for tokens without routing.
    var expertColumn: [Int16] = []
    /// Applied weights, same layout as `expertColumn`.
    var weightColumn: [Float] = []
    /// Row of each token in `probabilityColumn`, or −1. `[tokens]`
    var probabilityRow: [Int32] = []
    /// `[rows, layers, experts]`
    var probabilityColumn: [Float] = []
    /// Row of each token in `logitColumn`, or −1. `[tokens]`
    var logitRow: [Int32] = []
    /// `[rows, layers, experts]`
    var logitColumn: [Float] = []

    init(path: String, header: TraceHeader) {
        self.path = path
        self.header = header
    }

    /// Number of token events.
    public var count: Int { tokenIDs.count }
    /// MoE layers per token (L).
    public var layerCount: Int { header.model.moeLayers.count }
    /// Experts per layer (E).
    public var expertCount: Int { header.model.expertCount }
    /// Experts chosen per token and layer (k).
    public var expertsPerToken: Int { header.model.expertsPerToken }

    /// The chosen experts of token `token` at MoE layer `slot`, best first. `[k]`
    public func experts(token: Int, slot: Int) -> ArraySlice<Int16> {
        let k = expertsPerToken
        let start = (token * layerCount + slot) * k
        return expertColumn[start..<start + k]
    }

    /// The applied weights of token `token` at MoE layer `slot`. `[k]`. NaN where the trace
    /// did not record them (imports from engines that return only expert ids).
    public func weights(token: Int, slot: Int) -> ArraySlice<Float> {
        let k = expertsPerToken
        let start = (token * layerCount + slot) * k
        return weightColumn[start..<start + k]
    }

    /// The full probability vector of token `token` at MoE layer `slot`, when recorded. `[E]`
    public func probabilities(token: Int, slot: Int) -> ArraySlice<Float>? {
        let row = Int(probabilityRow[token])
        guard row >= 0 else { return nil }
        let start = (row * layerCount + slot) * expertCount
        return probabilityColumn[start..<start + expertCount]
    }

    /// The raw router logits of token `token` at MoE layer `slot`, when recorded. `[E]`
    public func logits(token: Int, slot: Int) -> ArraySlice<Float>? {
        let row = Int(logitRow[token])
        guard row >= 0 else { return nil }
        let start = (row * layerCount + slot) * expertCount
        return logitColumn[start..<start + expertCount]
    }

    /// Token `index` as the generator yielded it.
    public func step(at index: Int) -> TokenStep {
        var records: [RoutingRecord] = []
        if hasRouting[index] {
            records.reserveCapacity(layerCount)
            for (slot, layer) in header.model.moeLayers.enumerated() {
                records.append(
                    RoutingRecord(
                        layer: layer,
                        logits: logits(token: index, slot: slot).map(Array.init) ?? [],
                        probabilities: probabilities(token: index, slot: slot).map(Array.init)
                            ?? [],
                        experts: experts(token: index, slot: slot).map(Int32.init),
                        weights: Array(weights(token: index, slot: slot))))
            }
        }
        return TokenStep(
            tokenID: tokenIDs[index], piece: pieces[index], position: positions[index],
            phase: phases[index], records: records,
            timing: StepTiming(forward: forwardSeconds[index], sampling: samplingSeconds[index]))
    }

    /// Every token, in order.
    public var steps: [TokenStep] { (0..<count).map(step(at:)) }

    /// Refuses to attach this trace to `model` unless it was recorded from that model: same
    /// fingerprint, and (so that the reason is clear) the same MoE shape.
    public func check(against model: ModelDescription) throws(TraceError) {
        try header.model.checkCompatible(with: model, tracePath: path)
    }
}

extension ModelDescription {
    /// Throws `modelMismatch` with the first difference that matters to replay.
    func checkCompatible(with model: ModelDescription, tracePath: String) throws(TraceError) {
        var reasons: [String] = []
        if moeLayers != model.moeLayers {
            reasons.append("MoE layers \(moeLayers) in the trace, \(model.moeLayers) in the model")
        }
        if expertCount != model.expertCount {
            reasons.append("\(expertCount) experts in the trace, \(model.expertCount) in the model")
        }
        if expertsPerToken != model.expertsPerToken {
            reasons.append(
                "top-\(expertsPerToken) in the trace, top-\(model.expertsPerToken) in the model")
        }
        if fingerprint != model.fingerprint {
            reasons.insert(
                "fingerprint \(fingerprint) (\(name), \(architecture)) in the trace, \(model.fingerprint) (\(model.name), \(model.architecture)) in the model",
                at: 0)
        }
        guard reasons.isEmpty else {
            throw .modelMismatch(path: tracePath, reason: reasons.joined(separator: "; "))
        }
    }
}
