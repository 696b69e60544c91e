/// Which tokens a count covers.
public enum CountScope: String, Sendable, CaseIterable {
    /// The last `windowSize` tokens added.
    case window
    /// Every token since the counter was made or reset.
    case session
}

/// Counts expert activations per MoE layer, over a sliding window of the last N tokens and over
/// the whole session, from the `TokenStep`s a generator or a trace yields.
///
/// Layers are addressed by their slot: the index into `moeLayers` (slot 0 is the first MoE
/// layer, whatever its block index). For every slot and scope the counts sum to
/// tokens·k when every record has k experts. Records of a block that is not in `moeLayers`,
/// and expert ids outside 0..<E, are not counted but tallied in `skippedRecords` and
/// `skippedExperts`, so bad input never traps.
public struct ActivationCounter: Sendable {
    /// Block indices of the MoE layers, in slot order.
    public let moeLayers: [Int]
    /// Routed experts per layer (E).
    public let expertCount: Int
    /// Tokens in the sliding window (N).
    public let windowSize: Int
    /// Phases counted; steps of other phases are ignored.
    public let phases: Set<Phase>

    /// Tokens counted since the start or the last reset.
    public private(set) var sessionTokens = 0
    /// Records whose block was not a known MoE layer.
    public private(set) var skippedRecords = 0
    /// Expert ids outside 0..<E.
    public private(set) var skippedExperts = 0

    /// `[slot, expert]`, row-major.
    private var session: [Int]
    private var window: [Int]
    /// Σ of each expert's router probability over the session. `[slot, expert]`.
    private var mass: [Double]
    /// Tokens in `mass` per slot (tokens whose record carried probabilities).
    private var massTokens: [Int]
    /// The chosen experts of the last `windowSize` tokens, as (slot, expert) cells, oldest
    /// first from `ringStart`.
    private var ring: [[Int32]] = []
    private var ringStart = 0
    private var sequences: [SequenceCounts]?
    private let slotOfLayer: [Int: Int]

    /// A counter for `model`'s MoE layers. `tracksSequences` also keeps the repeat rate and
    /// co-activation per layer (E² counts per layer).
    public init(
        model: ModelDescription, windowSize: Int = 256, phases: Set<Phase> = Set(Phase.allCases),
        tracksSequences: Bool = false
    ) {
        self.init(
            moeLayers: model.moeLayers, expertCount: model.expertCount, windowSize: windowSize,
            phases: phases, tracksSequences: tracksSequences)
    }

    public init(
        moeLayers: [Int], expertCount: Int, windowSize: Int = 256,
        phases: Set<Phase> = Set(Phase.allCases), tracksSequences: Bool = false
    ) {
        precondition(expertCount >= 0 && windowSize >= 0, "negative expert count or window")
        self.moeLayers = moeLayers
        self.expertCount = expertCount
        self.windowSize = windowSize
        self.phases = phases
        let cells = moeLayers.count * expertCount
        self.session = Array(repeating: 0, count: cells)
        self.window = Array(repeating: 0, count: cells)
        self.mass = Array(repeating: 0, count: cells)
        self.massTokens = Array(repeating: 0, count: moeLayers.count)
        self.sequences =
            tracksSequences
            ? Array(repeating: SequenceCounts(expertCount: expertCount), count: moeLayers.count)
            : nil
        var slots: [Int: Int] = [:]
        for (slot, layer) in moeLayers.enumerated() { slots[layer] = slot }
        self.slotOfLayer = slots
    }

    /// Tokens in the window now: min(sessionTokens, windowSize).
    public var windowTokens: Int { ring.count }

    /// Counts one token. Steps of a phase not in `phases` are ignored.
    public mutating func add(_ step: TokenStep) {
        guard phases.contains(step.phase) else { return }
        let e = expertCount
        var cells: [Int32] = []
        cells.reserveCapacity(step.records.count * (step.records.first?.experts.count ?? 0))

        // session counts, probability mass, sequence metrics
        for record in step.records {
            guard let slot = slotOfLayer[record.layer] else {
                skippedRecords += 1
                continue
            }
            for expert in record.experts {
                guard expert >= 0, Int(expert) < e else {
                    skippedExperts += 1
                    continue
                }
                let cell = slot * e + Int(expert)
                session[cell] += 1
                cells.append(Int32(cell))
            }
            if record.probabilities.count == e {
                for (expert, p) in record.probabilities.enumerated() {
                    mass[slot * e + expert] += Double(p)
                }
                massTokens[slot] += 1
            }
            sequences?[slot].add(record.experts)
        }
        sessionTokens += 1

        // window: add the new token, evict the oldest
        guard windowSize > 0 else { return }
        for cell in cells { window[Int(cell)] += 1 }
        if ring.count < windowSize {
            ring.append(cells)
        } else {
            for cell in ring[ringStart] { window[Int(cell)] -= 1 }
            ring[ringStart] = cells
            ringStart = (ringStart + 1) % windowSize
        }
    }

    /// Starts a new sequence for the repeat rate (a new prompt): counts are kept.
    public mutating func breakSequence() {
        guard sequences != nil else { return }
        for slot in moeLayers.indices { sequences?[slot].breakSequence() }
    }

    /// Forgets everything counted.
    public mutating func reset() {
        self = ActivationCounter(
            moeLayers: moeLayers, expertCount: expertCount, windowSize: windowSize,
            phases: phases, tracksSequences: sequences != nil)
    }

    /// Tokens a scope covers.
    public func tokens(_ scope: CountScope) -> Int {
        scope == .window ? windowTokens : sessionTokens
    }

    /// Activation counts c_i of the layer in `slot`. `[expertCount]`.
    public func counts(_ scope: CountScope, slot: Int) -> [Int] {
        let range = slot * expertCount..<(slot + 1) * expertCount
        return Array(scope == .window ? window[range] : session[range])
    }

    /// Every layer's counts. `[slot][expertCount]`.
    public func allCounts(_ scope: CountScope) -> [[Int]] {
        moeLayers.indices.map { counts(scope, slot: $0) }
    }

    /// Balance metrics of one layer's counts; nil while nothing is counted.
    public func balance(
        _ scope: CountScope, slot: Int, thresholds: ExpertThresholds = .init()
    ) -> LoadBalance? {
        LoadBalance(counts: counts(scope, slot: slot), thresholds: thresholds)
    }

    /// Mean router probability of each expert over the session's tokens whose records carried
    /// probabilities; nil when none did. `[expertCount]`.
    public func meanProbability(slot: Int) -> [Double]? {
        guard massTokens[slot] > 0 else { return nil }
        let range = slot * expertCount..<(slot + 1) * expertCount
        return mass[range].map { $0 / Double(massTokens[slot]) }
    }

    /// Repeat rate and co-activation of one layer; nil unless `tracksSequences` was set.
    public func sequence(slot: Int) -> SequenceCounts? {
        sequences?[slot]
    }

    /// Share of all (layer, expert) slots chosen at least once in a scope; nil with no layers.
    public func coverage(_ scope: CountScope) -> Double? {
        let cells = scope == .window ? window : session
        guard !cells.isEmpty else { return nil }
        return Double(cells.count(where: { $0 > 0 })) / Double(cells.count)
    }
}
