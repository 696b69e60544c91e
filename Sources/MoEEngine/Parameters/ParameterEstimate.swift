import Foundation

/// The what-if calculator behind `moetop params`: total and active parameters of a
/// mixture-of-experts configuration.
///
/// total  = dense + shared + experts × expertParameters × layers
/// active = dense + shared + topK    × expertParameters × layers
///
/// `expertParameters` is one expert's parameters in one MoE layer when `layers` is given, or one
/// expert's parameters summed over all layers when it is 1 (the default). `dense` is everything
/// that runs for every token apart from shared experts (embeddings, attention, norms, routers,
/// output head), as published "active" figures count it.
public struct ParameterEstimate: Sendable, Equatable, Codable {
    public var experts: Int
    public var expertParameters: Double
    public var topK: Int
    public var sharedParameters: Double
    public var denseParameters: Double
    public var layers: Int

    public init(
        experts: Int, expertParameters: Double, topK: Int, sharedParameters: Double = 0,
        denseParameters: Double = 0, layers: Int = 1
    ) throws {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ expected: String) throws {
            if !ok {
                throw EngineError.invalidSetting(name: name, value: "\(value)", expected: expected)
            }
        }
        try check(experts >= 1, "experts", experts, "at least 1")
        try check(topK >= 1 && topK <= experts, "top-k", topK, "1...\(experts) (the expert count)")
        try check(layers >= 1, "layers", layers, "at least 1")
        for (name, value) in [
            ("expert parameters", expertParameters), ("shared parameters", sharedParameters),
            ("dense parameters", denseParameters),
        ] {
            try check(value >= 0 && value.isFinite, name, value, "a finite count, 0 or more")
        }
        self.experts = experts
        self.expertParameters = expertParameters
        self.topK = topK
        self.sharedParameters = sharedParameters
        self.denseParameters = denseParameters
        self.layers = layers
    }

    /// Parameters of all routed experts.
    public var routedParameters: Double { Double(experts) * expertParameters * Double(layers) }
    /// Every parameter.
    public var totalParameters: Double { denseParameters + sharedParameters + routedParameters }
    /// Parameters one token runs through: dense, shared and k experts per layer.
    public var activeParameters: Double {
        denseParameters + sharedParameters + Double(topK) * expertParameters * Double(layers)
    }
    /// active / total.
    public var activeFraction: Double {
        totalParameters > 0 ? activeParameters / totalParameters : 0
    }
}

/// Parameter counts as people write them: `512`, `0.5T`, `7B`, `176.2M`, `14k`.
public enum ParameterCount {
    private static let suffixes: [(Character, Double)] = [
        ("K", 1e3), ("M", 1e6), ("B", 1e9), ("G", 1e9), ("T", 1e12),
    ]

    /// The count `text` writes, or nil when it is not a non-negative finite number with an
    /// optional K/M/B/G/T suffix (either case).
    public static func parse(_ text: String) -> Double? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var multiplier = 1.0
        if let last = body.last?.uppercased().first,
            let factor = suffixes.first(where: { $0.0 == last })?.1
        {
            multiplier = factor
            body = body.dropLast()
        }
        guard !body.isEmpty, let value = Double(body), value.isFinite, value >= 0 else {
            return nil
        }
        return value * multiplier
    }

    /// `count` with three significant digits and a suffix: `46.7 B`, `12.9 B`, `914 M`.
    public static func format(_ count: Double) -> String {
        for (suffix, factor) in suffixes.reversed() where suffix != "G" && count >= factor {
            return "\(significant(count / factor)) \(suffix)"
        }
        return significant(count)
    }

    private static func significant(_ value: Double) -> String {
        if value >= 100 || value == value.rounded() && value < 1000 {
            return String(Int(value.rounded()))
        }
        let decimals = value >= 10 ? 1 : 2
        var text = String(format: "%.\(decimals)f", value)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) {
            text.removeLast()
        }
        return text
    }
}
