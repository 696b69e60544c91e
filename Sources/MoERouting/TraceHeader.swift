import Foundation

/// The first line of a trace file: what the file is, the model it was recorded from, and how
/// tokens were sampled. See docs/trace-format.md.
public struct TraceHeader: Sendable, Equatable, Codable {
    /// The value of `format` in every moetop trace.
    public static let formatName = "moetop-trace"
    /// The newest format version this build reads and the one it writes.
    public static let currentVersion = 1

    /// Always `moetop-trace`.
    public var format: String
    /// Format version; readers refuse versions newer than theirs.
    public var version: Int
    /// The model the routing came from. Its `fingerprint` ties the trace to that model.
    public var model: ModelDescription
    /// Sampling settings, when known.
    public var sampling: SamplingSettings?
    /// When recording started, ISO 8601 in UTC, e.g. `2026-12-03T18:51:00Z`.
    public var created: String?
    /// The program that wrote the trace, e.g. `moetop 0.1.0`.
    public var producer: String?

    public init(
        model: ModelDescription, sampling: SamplingSettings? = nil, created: String? = nil,
        producer: String? = nil
    ) {
        self.format = Self.formatName
        self.version = Self.currentVersion
        self.model = model
        self.sampling = sampling
        self.created = created
        self.producer = producer
    }

    /// The current time in the form `created` uses.
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    /// The header as one line of JSON, without the newline.
    func encodedLine() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Parses a header line. Checks the format name and the version before anything else, so
    /// that a newer trace is refused as newer rather than as malformed.
    static func decode(line: [UInt8], path: String) throws(TraceError) -> TraceHeader {
        struct Identity: Decodable {
            var format: String?
            var version: Int?
        }
        let data = Data(line)
        let decoder = JSONDecoder()
        let identity: Identity
        do {
            identity = try decoder.decode(Identity.self, from: data)
        } catch {
            throw .badHeader(path: path, reason: "not a JSON object (\(describe(error)))")
        }
        guard identity.format == formatName else {
            throw .notATrace(path: path, found: identity.format ?? "no \"format\" key")
        }
        guard let version = identity.version, version >= 1 else {
            throw .badHeader(path: path, reason: "\"version\" must be an integer of at least 1")
        }
        guard version <= currentVersion else {
            throw .newerVersion(path: path, found: version, supported: currentVersion)
        }
        let header: TraceHeader
        do {
            header = try decoder.decode(TraceHeader.self, from: data)
        } catch {
            throw .badHeader(path: path, reason: describe(error))
        }
        try header.model.checkShape(path: path)
        return header
    }
}

extension ModelDescription {
    /// Refuses shapes no trace can hold: no experts, k outside 1...E, unordered layers, or more
    /// experts than an expert id column holds.
    func checkShape(path: String) throws(TraceError) {
        let problem: String?
        if expertCount < 1 || expertCount > Int(Int16.max) {
            problem = "expertCount \(expertCount) is outside 1...\(Int16.max)"
        } else if expertsPerToken < 1 || expertsPerToken > expertCount {
            problem = "expertsPerToken \(expertsPerToken) is outside 1...\(expertCount)"
        } else if moeLayers.isEmpty {
            problem = "moeLayers is empty"
        } else if zip(moeLayers, moeLayers.dropFirst()).contains(where: { $0 >= $1 })
            || moeLayers[0] < 0
        {
            problem = "moeLayers \(moeLayers) is not strictly ascending from 0 or more"
        } else {
            problem = nil
        }
        if let problem { throw .badHeader(path: path, reason: "model: \(problem)") }
    }
}

/// A decoding error in a few words: which key, what was wrong.
private func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return "missing key \(path(context.codingPath + [key]))"
    case DecodingError.typeMismatch(let type, let context):
        return "\(path(context.codingPath)) is not a \(type)"
    case DecodingError.valueNotFound(let type, let context):
        return "\(path(context.codingPath)) is null, expected a \(type)"
    case DecodingError.dataCorrupted(let context):
        let underlying = (context.underlyingError as NSError?)?.localizedDescription
        return "\(path(context.codingPath)) \(underlying ?? context.debugDescription)"
    default:
        return "\(error)"
    }
}

private func path(_ keys: [any CodingKey]) -> String {
    keys.isEmpty ? "the line" : "\"" + keys.map(\.stringValue).joined(separator: ".") + "\""
}
