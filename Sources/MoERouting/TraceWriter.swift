import Foundation

/// Records a session as a trace file (format v1, docs/trace-format.md).
///
/// ```swift
/// let writer = try TraceWriter(path: "run.jsonl.gz", header: TraceHeader(model: model))
/// try writer.write(prompt: "def parse(line):")
/// for step in steps { try writer.write(step: step) }
/// try writer.close()
/// ```
///
/// - A path ending in `.gz` is gzip-compressed; anything else is plain JSON Lines.
/// - The file is created (or truncated) when the writer opens, and the header is written then.
/// - Every `write` ends with a flush to the operating system (for gzip, a zlib sync flush), so a
///   process killed at any moment leaves a file that reads back up to its last whole event.
///   Nothing is fsynced: a power cut can still lose the end.
/// - Steps are checked against the header's model: one record per MoE layer, in block order, k
///   distinct experts in 0..<E, k weights. Probabilities (and logits) are written when every
///   record of the step carries all E of them and the options ask for them.
/// - Safe to call from any thread; calls are serialised by a lock.
public final class TraceWriter: @unchecked Sendable {
    /// What goes into each token line beyond the top-k ids and weights.
    public struct Options: Sendable, Equatable {
        /// Write each layer's full probability vector (E floats). Default on.
        public var probabilities: Bool
        /// Write each layer's raw router logits (E floats). Default off.
        public var logits: Bool

        public init(probabilities: Bool = true, logits: Bool = false) {
            self.probabilities = probabilities
            self.logits = logits
        }
    }

    public let path: String
    public let header: TraceHeader
    public let options: Options
    /// Token lines written so far.
    public var tokensWritten: Int { lock.withLock { tokens } }

    private let sink: TraceSink
    private let lock = NSLock()
    private var tokens = 0
    private var line: [UInt8] = []
    private var closed = false
    private let slotOfLayer: [Int: Int]

    /// Creates the file and writes the header line.
    public init(path: String, header: TraceHeader, options: Options = Options()) throws {
        try header.model.checkShape(path: path)
        self.path = path
        self.header = header
        self.options = options
        var slots: [Int: Int] = [:]
        for (slot, layer) in header.model.moeLayers.enumerated() { slots[layer] = slot }
        self.slotOfLayer = slots
        sink = try TraceSink(path: path, gzip: path.hasSuffix(".gz"))
        var headerLine = try header.encodedLine()
        headerLine.append(ASCII.newline)
        try sink.write(headerLine)
    }

    /// Records a prompt: the text the user typed, before its tokens.
    public func write(prompt: String) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw TraceError.closed(path: path) }
        line.removeAll(keepingCapacity: true)
        line.appendASCII("{\"event\":\"prompt\",\"text\":")
        line.appendJSON(prompt)
        line.appendASCII("}\n")
        try sink.write(line)
    }

    /// Records one token with its routing, then flushes.
    public func write(step: TokenStep) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw TraceError.closed(path: path) }
        let ordered = try order(step)
        encode(step, records: ordered)
        try sink.write(line)
        tokens += 1
    }

    /// Ends the file (for gzip, the stream's end marker) and closes it. Later writes throw.
    public func close() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        try sink.finish()
    }

    /// The step's records in slot order, checked against the model. Empty when capture was off.
    private func order(_ step: TokenStep) throws(TraceError) -> [RoutingRecord] {
        let model = header.model
        guard !step.records.isEmpty else { return [] }
        guard step.records.count == model.moeLayers.count else {
            throw .stepMismatch(
                path: path,
                reason:
                    "token at position \(step.position) has \(step.records.count) routing records, the model has \(model.moeLayers.count) MoE layers"
            )
        }
        var ordered = step.records
        for record in step.records {
            guard let slot = slotOfLayer[record.layer] else {
                throw .stepMismatch(
                    path: path,
                    reason:
                        "record for block \(record.layer), which is not an MoE layer of the model"
                )
            }
            let k = model.expertsPerToken
            guard record.experts.count == k, record.weights.count == k else {
                throw .stepMismatch(
                    path: path,
                    reason:
                        "block \(record.layer) has \(record.experts.count) experts and \(record.weights.count) weights, expected \(k) each"
                )
            }
            for (index, expert) in record.experts.enumerated() {
                guard expert >= 0, Int(expert) < model.expertCount,
                    !record.experts[..<index].contains(expert)
                else {
                    throw .stepMismatch(
                        path: path,
                        reason:
                            "block \(record.layer) chose expert \(expert): not a distinct id in 0..<\(model.expertCount)"
                    )
                }
            }
            ordered[slot] = record
        }
        return ordered
    }

    /// One token line into `line`. Key order matches docs/trace-format.md.
    private func encode(_ step: TokenStep, records: [RoutingRecord]) {
        let e = header.model.expertCount
        line.removeAll(keepingCapacity: true)
        line.appendASCII("{\"event\":\"token\",\"position\":")
        line.appendJSON(step.position)
        line.appendASCII(",\"phase\":")
        line.appendJSON(step.phase.rawValue)
        line.appendASCII(",\"id\":")
        line.appendJSON(Int(step.tokenID))
        line.appendASCII(",\"piece\":")
        line.appendJSON(step.piece)
        line.appendASCII(",\"forward_s\":")
        line.appendJSON(step.timing.forward)
        line.appendASCII(",\"sampling_s\":")
        line.appendJSON(step.timing.sampling)

        line.appendASCII(",\"experts\":[")
        for (slot, record) in records.enumerated() {
            if slot > 0 { line.append(ASCII.comma) }
            line.appendJSONArray(record.experts)
        }
        line.appendASCII("],\"weights\":[")
        for (slot, record) in records.enumerated() {
            if slot > 0 { line.append(ASCII.comma) }
            line.appendJSONArray(record.weights)
        }
        line.append(ASCII.closeBracket)

        let hasProbabilities = records.allSatisfy { $0.probabilities.count == e }
        if options.probabilities, !records.isEmpty, hasProbabilities {
            line.appendASCII(",\"probs\":[")
            for (slot, record) in records.enumerated() {
                if slot > 0 { line.append(ASCII.comma) }
                line.appendJSONArray(record.probabilities)
            }
            line.append(ASCII.closeBracket)
        }
        let hasLogits = records.allSatisfy { $0.logits.count == e }
        if options.logits, !records.isEmpty, hasLogits {
            line.appendASCII(",\"logits\":[")
            for (slot, record) in records.enumerated() {
                if slot > 0 { line.append(ASCII.comma) }
                line.appendJSONArray(record.logits)
            }
            line.append(ASCII.closeBracket)
        }
        line.appendASCII("}\n")
    }
}
