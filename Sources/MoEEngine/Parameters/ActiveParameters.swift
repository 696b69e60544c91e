import MoEGGUF
import MoERouting

/// Parameters a token runs through: as configured (the file's counts: always-on parts plus k
/// experts per MoE layer) and as observed from the routing records (the experts that actually
/// ran, layer by layer). Counts come from MoEGGUF's `ParameterCounts`; nothing is recounted.
public struct ActiveParameters: Sendable, Equatable {
    /// Parameters every token runs through: attention, norms, routers, shared experts,
    /// embeddings and output head.
    public let alwaysOn: Int
    /// Every parameter of the model.
    public let total: Int
    /// Configured active parameters per token.
    public let configured: Int
    /// Block indices of the MoE layers, ascending.
    public let moeLayers: [Int]
    /// Parameters of one routed expert, per entry of `moeLayers`.
    public let parametersPerExpert: [Int]
    /// Routed experts per MoE layer.
    public let expertCount: Int

    public init(counts: ParameterCounts) {
        alwaysOn = counts.alwaysOn
        total = counts.total
        configured = counts.active
        moeLayers = counts.moeLayers
        parametersPerExpert = counts.routedExpertParameters
        expertCount = counts.expertsPerLayer
    }

    /// The active parameters of a loaded model.
    public init(model: Model) {
        self.init(counts: model.configuration.parameters)
    }

    /// What one token's routing records say ran.
    public struct Observation: Sendable, Equatable {
        /// For each MoE layer (in `moeLayers` order): parameters of the distinct experts that ran.
        public var perLayer: [Int]
        /// Always-on parameters plus every layer's experts.
        public var total: Int
    }

    /// The parameters the experts in `records` (one per MoE layer) ran through. Nil when the
    /// step carries no records (capture off) or records of layers this model does not have.
    public func observed(_ records: [RoutingRecord]) -> Observation? {
        guard !records.isEmpty else { return nil }
        var perLayer = [Int](repeating: 0, count: moeLayers.count)
        for record in records {
            guard let slot = moeLayers.firstIndex(of: record.layer) else { return nil }
            perLayer[slot] = Set(record.experts).count * parametersPerExpert[slot]
        }
        return Observation(perLayer: perLayer, total: alwaysOn + perLayer.reduce(0, +))
    }
}

/// Which experts have run so far, per MoE layer: the share of all routed experts (and so of
/// all routed parameters) a session has touched.
public struct ExpertCoverage: Sendable, Equatable {
    /// `touched[slot][expert]` for each MoE layer in block order.
    public private(set) var touched: [[Bool]]
    private let slotOfLayer: [Int: Int]

    public init(moeLayers: [Int], expertCount: Int) {
        touched = Array(
            repeating: [Bool](repeating: false, count: expertCount), count: moeLayers.count)
        slotOfLayer = Dictionary(uniqueKeysWithValues: moeLayers.enumerated().map { ($1, $0) })
    }

    /// Marks the experts of one step's records.
    public mutating func add(_ records: [RoutingRecord]) {
        for record in records {
            guard let slot = slotOfLayer[record.layer] else { continue }
            for expert in record.experts where expert >= 0 && Int(expert) < touched[slot].count {
                touched[slot][Int(expert)] = true
            }
        }
    }

    /// Experts touched in each MoE layer.
    public var touchedPerLayer: [Int] { touched.map { $0.filter { $0 }.count } }

    /// Touched experts over all experts of all MoE layers (0 for a dense model).
    public var touchedShare: Double {
        let all = touched.reduce(0) { $0 + $1.count }
        return all == 0 ? 0 : Double(touchedPerLayer.reduce(0, +)) / Double(all)
    }
}
