import MoERouting

/// The tokens a screen shows and the routing statistics over them.
///
/// It holds every token known, as steps (a live session's so far) or as a trace file's compact
/// columns (a replay: a whole `TokenStep` per token would take gigabytes for long traces of big
/// models); the screen shows tokens `0..<visibleCount` (a replay moves `visibleCount`, a live
/// session keeps it at the end). Panes read single fields through the accessors below.
/// Counts and balance metrics come from MoERouting's `ActivationCounter` over the visible
/// tokens. Moving backwards restarts the counter from the nearest checkpoint, so stepping back
/// through a long trace does not recount it from the start.
public struct RoutingHistory: Sendable {
    public let model: ModelDescription
    /// Live tokens (empty when backed by a trace).
    public private(set) var steps: [TokenStep] = []
    /// The trace a replay reads, if any.
    public let trace: Trace?
    public private(set) var visibleCount = 0
    /// Counts over `steps[0..<visibleCount]`: the session, and the last `windowSize` tokens.
    public private(set) var counter: ActivationCounter
    /// The session's load shares when the user saved a baseline (`b`). `[moeLayer][expert]`.
    public private(set) var baseline: [[Double]]?
    /// Counters at every multiple of `checkpointInterval` tokens, for seeking backwards.
    private var checkpoints: [Int: ActivationCounter] = [:]
    static let checkpointInterval = 1024

    public init(model: ModelDescription, windowSize: Int = 64) {
        self.model = model
        self.trace = nil
        self.counter = ActivationCounter(model: model, windowSize: windowSize)
    }

    /// A history over a trace's tokens, none of them visible yet.
    public init(trace: Trace, windowSize: Int = 64) {
        self.model = trace.header.model
        self.trace = trace
        self.counter = ActivationCounter(model: trace.header.model, windowSize: windowSize)
    }

    /// Every token known, visible or not.
    public var count: Int { trace?.count ?? steps.count }

    /// The text of token `index`.
    public func piece(_ index: Int) -> String { trace?.pieces[index] ?? steps[index].piece }

    /// Whether token `index` was a prompt token.
    public func phase(_ index: Int) -> Phase { trace?.phases[index] ?? steps[index].phase }

    /// How long token `index` took when it was generated, in seconds.
    public func seconds(_ index: Int) -> Double {
        if let trace { return trace.forwardSeconds[index] + trace.samplingSeconds[index] }
        return steps[index].timing.forward + steps[index].timing.sampling
    }

    /// Token `index` with what the counter needs: its chosen experts per layer (no
    /// probability vectors, which a trace would have to copy out).
    func countingStep(_ index: Int) -> TokenStep {
        guard let trace else { return steps[index] }
        var records: [RoutingRecord] = []
        if trace.hasRouting[index] {
            records.reserveCapacity(model.moeLayers.count)
            for (slot, layer) in model.moeLayers.enumerated() {
                records.append(
                    RoutingRecord(
                        layer: layer, logits: [], probabilities: [],
                        experts: trace.experts(token: index, slot: slot).map(Int32.init),
                        weights: []))
            }
        }
        return TokenStep(
            tokenID: trace.tokenIDs[index], piece: "", position: trace.positions[index],
            phase: trace.phases[index], records: records)
    }

    /// Tokens in the window of the heatmap's window mode.
    public var windowSize: Int { counter.windowSize }

    /// Adds a token at the end; it becomes visible when `visibleCount` was at the end before.
    public mutating func append(_ step: TokenStep) {
        precondition(trace == nil, "a trace-backed history does not grow")
        let following = visibleCount == steps.count
        steps.append(step)
        if following { show(upTo: steps.count) }
    }

    /// Adds many tokens; used to open a trace.
    public mutating func append(contentsOf newSteps: [TokenStep]) {
        precondition(trace == nil, "a trace-backed history does not grow")
        let following = visibleCount == steps.count
        steps.append(contentsOf: newSteps)
        if following { show(upTo: steps.count) }
    }

    /// Shows the first `count` tokens (clamped to what exists), updating the statistics.
    public mutating func show(upTo count: Int) {
        let target = min(max(0, count), self.count)
        if target < visibleCount {
            // back to the nearest checkpoint at or before the target, then forward
            let base = (target / Self.checkpointInterval) * Self.checkpointInterval
            if let saved = checkpoints[base] {
                counter = saved
                visibleCount = base
            } else {
                counter.reset()
                visibleCount = 0
            }
        }
        while visibleCount < target {
            if visibleCount % Self.checkpointInterval == 0, checkpoints[visibleCount] == nil {
                checkpoints[visibleCount] = counter
            }
            counter.add(countingStep(visibleCount))
            visibleCount += 1
        }
    }

    /// Saves the session's load shares now as the baseline of the heatmap's diff mode.
    public mutating func saveBaseline() {
        baseline = counter.allCounts(.session).map { counts in
            LoadMetrics.shares(counts.map(Double.init))
                ?? Array(repeating: 0, count: counts.count)
        }
    }

    /// Number of MoE layers.
    public var moeLayerCount: Int { model.moeLayers.count }

    /// The routing record of a visible token at an MoE layer (its slot), if it has one.
    public func record(token: Int, moeLayer: Int) -> RoutingRecord? {
        guard token >= 0, token < visibleCount, moeLayer >= 0, moeLayer < model.moeLayers.count
        else { return nil }
        if let trace {
            guard trace.hasRouting[token] else { return nil }
            let experts = trace.experts(token: token, slot: moeLayer)
            return RoutingRecord(
                layer: model.moeLayers[moeLayer], logits: [],
                probabilities: trace.probabilities(token: token, slot: moeLayer).map(Array.init)
                    ?? [],
                experts: experts.filter { $0 >= 0 }.map(Int32.init),
                weights: Array(trace.weights(token: token, slot: moeLayer)))
        }
        let records = steps[token].records
        if moeLayer < records.count, records[moeLayer].layer == model.moeLayers[moeLayer] {
            return records[moeLayer]
        }
        return records.first { $0.layer == model.moeLayers[moeLayer] }
    }
}
