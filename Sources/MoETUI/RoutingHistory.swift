import MoERouting

/// The tokens a screen shows and the routing statistics over them.
///
/// `steps` holds every token known (a live session's so far, or a whole trace); the screen shows
/// `steps[0..<visibleCount]` (a replay moves `visibleCount`, a live session keeps it at the end).
/// Counts and balance metrics come from MoERouting's `ActivationCounter` over the visible
/// tokens. Moving backwards restarts the counter from the nearest checkpoint, so stepping back
/// through a long trace does not recount it from the start.
public struct RoutingHistory: Sendable {
    public let model: ModelDescription
    public private(set) var steps: [TokenStep] = []
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
        self.counter = ActivationCounter(model: model, windowSize: windowSize)
    }

    /// Tokens in the window of the heatmap's window mode.
    public var windowSize: Int { counter.windowSize }

    /// Adds a token at the end; it becomes visible when `visibleCount` was at the end before.
    public mutating func append(_ step: TokenStep) {
        let following = visibleCount == steps.count
        steps.append(step)
        if following { show(upTo: steps.count) }
    }

    /// Adds many tokens; used to open a trace.
    public mutating func append(contentsOf newSteps: [TokenStep]) {
        let following = visibleCount == steps.count
        steps.append(contentsOf: newSteps)
        if following { show(upTo: steps.count) }
    }

    /// Shows the first `count` tokens (clamped to what exists), updating the statistics.
    public mutating func show(upTo count: Int) {
        let target = min(max(0, count), steps.count)
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
            counter.add(steps[visibleCount])
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
        guard token >= 0, token < visibleCount else { return nil }
        let records = steps[token].records
        if moeLayer < records.count, records[moeLayer].layer == model.moeLayers[moeLayer] {
            return records[moeLayer]
        }
        return records.first { $0.layer == model.moeLayers[moeLayer] }
    }
}
