#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How to read a trace.
public struct TraceReadOptions: Sendable, Equatable {
    /// Skip bad event lines and count them (in `TraceReport`) instead of failing on the first.
    public var lenient: Bool
    /// Keep the probability vectors (they are parsed and checked either way).
    public var probabilities: Bool
    /// Keep the logits (parsed and checked either way).
    public var logits: Bool
    /// Most issues kept in the report; the count of skipped lines is always exact.
    public var maxIssues: Int

    public init(
        lenient: Bool = false, probabilities: Bool = true, logits: Bool = true,
        maxIssues: Int = 1000
    ) {
        self.lenient = lenient
        self.probabilities = probabilities
        self.logits = logits
        self.maxIssues = maxIssues
    }
}

/// Reads trace files (format v1, docs/trace-format.md).
///
/// - The header must be whole and valid, and its version not newer than this build's, or
///   reading fails whatever the options.
/// - A last line that is incomplete (no newline, and not a whole event) is the mark of a
///   recording that was killed: it is dropped and reported in `TraceReport.tornLastLine`, not
///   treated as an error. The same goes for a gzip stream without its end marker.
/// - Any other bad line fails the read with its line number, or under `lenient` is skipped and
///   counted.
/// - Unknown keys are ignored and unknown event kinds skipped (counted in `ignoredEvents`), so
///   that later additions to version 1 do not break older readers.
public enum TraceReader {
    public static func read(path: String, options: TraceReadOptions = .init())
        throws(TraceError) -> Trace
    {
        if let trace = try readInParallel(path: path, options: options) { return trace }
        return try readInOrder(path: path, options: options)
    }

    /// Reads the file front to back on this thread, decompressing as it goes.
    static func readInOrder(path: String, options: TraceReadOptions) throws(TraceError) -> Trace {
        let source = try TraceSource(path: path)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(TraceSource.chunkSize * 2)
        var consumed = 0
        var lineNumber = 0
        var builder: TraceBuilder?

        // one complete line (without its newline)
        func handle(_ line: UnsafeBufferPointer<UInt8>, isLast: Bool) throws(TraceError) {
            lineNumber += 1
            guard var current = builder else {
                if isBlank(line) {
                    lineNumber -= 1
                    return
                }
                if isLast, !line.isEmpty, line[line.count - 1] != ASCII.closeBrace {
                    throw .badHeader(path: path, reason: "header line is incomplete")
                }
                builder = TraceBuilder(
                    trace: Trace(
                        path: path, header: try TraceHeader.decode(line: Array(line), path: path)),
                    options: options)
                return
            }
            builder = nil  // keep the builder uniquely referenced while it grows
            defer { builder = current }
            do {
                try current.consume(line, lineNumber: lineNumber, isLast: isLast)
            } catch {
                throw .badLine(path: path, line: error.line, reason: error.message)
            }
        }

        // read chunk by chunk, handing over complete lines
        while try source.read(into: &buffer) > 0 {
            var lineEnd = -1
            try buffer.withUnsafeBufferPointer { bytes throws(TraceError) in
                var lineStart = consumed
                var index = consumed
                let base = bytes.baseAddress!
                while index < bytes.count {
                    guard
                        let found = memchr(base + index, Int32(ASCII.newline), bytes.count - index)
                    else { break }
                    let newline =
                        UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self))
                        - base
                    try handle(
                        UnsafeBufferPointer(start: base + lineStart, count: newline - lineStart),
                        isLast: false)
                    lineStart = newline + 1
                    index = lineStart
                    lineEnd = lineStart
                }
            }
            if lineEnd >= 0 { consumed = lineEnd }
            // drop handled bytes once they are most of the buffer
            if consumed > 0, consumed >= buffer.count / 2 {
                buffer.removeSubrange(0..<consumed)
                consumed = 0
            }
        }
        if consumed < buffer.count {
            try buffer.withUnsafeBufferPointer { bytes throws(TraceError) in
                try handle(
                    UnsafeBufferPointer(rebasing: bytes[consumed...]), isLast: true)
            }
        }

        guard var trace = builder?.finish() else { throw .empty(path: path) }
        trace.report.lines = lineNumber
        trace.report.truncatedCompression = source.truncatedCompression
        trace.report.fileBytes = source.fileBytesRead
        return trace
    }
}

func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    line.allSatisfy { $0 == ASCII.space || $0 == ASCII.tab || $0 == ASCII.carriageReturn }
}

/// Appends event lines to a trace's columns, rolling a line back when it turns out bad.
struct TraceBuilder {
    var trace: Trace
    let options: TraceReadOptions
    private let layers: Int
    private let k: Int
    private let e: Int

    init(trace: Trace, options: TraceReadOptions) {
        self.trace = trace
        self.options = options
        layers = trace.header.model.moeLayers.count
        k = trace.header.model.expertsPerToken
        e = trace.header.model.expertCount
    }

    func finish() -> Trace { trace }

    /// A bad line that fails the read (not lenient).
    struct BadLine: Error {
        var line: Int
        var message: String
    }

    /// Adds one line (without its newline). Blank lines are skipped; a bad last line is a torn
    /// tail; any other bad line is recorded under lenient options and thrown otherwise.
    mutating func consume(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, isLast: Bool)
        throws(BadLine)
    {
        if isBlank(line) { return }
        do {
            try add(line)
        } catch {
            let message = "column \(error.column): \(error.message)"
            if isLast {
                trace.report.tornLastLine = lineNumber
                return
            }
            guard options.lenient else { throw BadLine(line: lineNumber, message: message) }
            trace.report.skippedLines += 1
            if trace.report.issues.count < options.maxIssues {
                trace.report.issues.append(TraceIssue(line: lineNumber, message: message))
            }
        }
    }

    /// Parses one event line into the columns. On failure nothing is left behind.
    mutating func add(_ line: UnsafeBufferPointer<UInt8>) throws(LineError) {
        let marks = (
            experts: trace.expertColumn.count, weights: trace.weightColumn.count,
            probabilities: trace.probabilityColumn.count, logits: trace.logitColumn.count
        )
        do {
            try parse(line, marks: marks)
        } catch {
            trace.expertColumn.removeSubrange(marks.experts...)
            trace.weightColumn.removeSubrange(marks.weights...)
            trace.probabilityColumn.removeSubrange(marks.probabilities...)
            trace.logitColumn.removeSubrange(marks.logits...)
            throw error
        }
    }

    private mutating func parse(
        _ line: UnsafeBufferPointer<UInt8>,
        marks: (experts: Int, weights: Int, probabilities: Int, logits: Int)
    ) throws(LineError) {
        var parser = JSONLineParser(line)
        var event: String?
        var text: String?
        var position: Int?
        var phase: Phase?
        var id: Int?
        var piece: String?
        var forward = 0.0
        var sampling = 0.0
        var expertLayers: Int?
        var weightLayers: Int?
        var probabilityLayers: Int?
        var logitLayers: Int?
        var seen = Set<String>()
        var column = 0
        let (e, k) = (self.e, self.k)

        try parser.forEachKey { (parser, key) throws(LineError) in
            column = parser.column
            guard seen.insert(key).inserted else { throw parser.fail("key \"\(key)\" repeated") }
            switch key {
            case "event": event = try parser.parseString()
            case "text": text = try parser.parseString()
            case "position": position = try parser.parseInt(in: 0...Int(Int32.max), "position")
            case "phase":
                let name = try parser.parseString()
                guard let value = Phase(rawValue: name) else {
                    throw LineError(
                        column: column,
                        message: "phase \"\(name)\" is neither \"prefill\" nor \"decode\"")
                }
                phase = value
            case "id": id = try parser.parseInt(in: 0...Int(Int32.max), "id")
            case "piece": piece = try parser.parseString()
            case "forward_s": forward = try parser.parseDouble("forward_s")
            case "sampling_s": sampling = try parser.parseDouble("sampling_s")
            case "experts":
                expertLayers = try parser.parseExpertRows(
                    into: &trace.expertColumn, width: k, expertCount: e)
            case "weights":
                weightLayers = try parser.parseFloatRows(
                    into: &trace.weightColumn, width: k, name: "weights")
            case "probs":
                probabilityLayers = try parser.parseFloatRows(
                    into: &trace.probabilityColumn, width: e, name: "probs")
            case "logits":
                logitLayers = try parser.parseFloatRows(
                    into: &trace.logitColumn, width: e, name: "logits")
            default:
                try parser.skipValue()
            }
        }
        guard parser.atEnd() else { throw parser.fail("text after the closing '}'") }

        func missing(_ key: String) -> LineError {
            LineError(column: 1, message: "\(event ?? "event") line without \"\(key)\"")
        }
        switch event {
        case "prompt":
            guard let text else { throw missing("text") }
            guard expertLayers == nil, weightLayers == nil, probabilityLayers == nil,
                logitLayers == nil
            else { throw LineError(column: 1, message: "prompt line carries routing") }
            trace.prompts.append(TracePrompt(text: text, tokenIndex: trace.count))
        case "token":
            guard let position else { throw missing("position") }
            guard let phase else { throw missing("phase") }
            guard let id else { throw missing("id") }
            guard let piece else { throw missing("piece") }
            guard let expertLayers else { throw missing("experts") }
            // weights may be left out by importers that only know the ids: stored as NaN
            if weightLayers == nil {
                trace.weightColumn.append(contentsOf: repeatElement(.nan, count: expertLayers * k))
            }
            let weightLayers = weightLayers ?? expertLayers
            for (name, count) in [
                ("experts", expertLayers), ("weights", weightLayers),
                ("probs", probabilityLayers ?? layers), ("logits", logitLayers ?? layers),
            ] where count != layers && !(count == 0 && expertLayers == 0) {
                throw LineError(
                    column: 1,
                    message:
                        "\"\(name)\" has \(count) layers, the header's model has \(layers) MoE layers"
                )
            }
            guard weightLayers == expertLayers else {
                throw LineError(
                    column: 1,
                    message: "\"weights\" has \(weightLayers) layers, \"experts\" \(expertLayers)")
            }
            let routed = expertLayers > 0
            if !routed {
                trace.expertColumn.append(contentsOf: repeatElement(-1, count: layers * k))
                trace.weightColumn.append(contentsOf: repeatElement(0, count: layers * k))
            }
            trace.tokenIDs.append(Int32(id))
            trace.positions.append(position)
            trace.phases.append(phase)
            trace.pieces.append(piece)
            trace.forwardSeconds.append(forward)
            trace.samplingSeconds.append(sampling)
            trace.hasRouting.append(routed)
            keepRows(
                present: (probabilityLayers ?? 0) > 0, keep: options.probabilities,
                mark: marks.probabilities, column: \.probabilityColumn, rows: \.probabilityRow)
            keepRows(
                present: (logitLayers ?? 0) > 0, keep: options.logits, mark: marks.logits,
                column: \.logitColumn, rows: \.logitRow)
        case nil:
            throw LineError(column: 1, message: "line without \"event\"")
        default:
            trace.report.ignoredEvents += 1
            trace.expertColumn.removeSubrange(marks.experts...)
            trace.weightColumn.removeSubrange(marks.weights...)
            trace.probabilityColumn.removeSubrange(marks.probabilities...)
            trace.logitColumn.removeSubrange(marks.logits...)
        }
    }

    /// Records where this token's optional vectors went, or drops them.
    private mutating func keepRows(
        present: Bool, keep: Bool, mark: Int, column: WritableKeyPath<Trace, [Float]>,
        rows: WritableKeyPath<Trace, [Int32]>
    ) {
        if present, keep {
            trace[keyPath: rows].append(Int32(mark / (layers * e)))
        } else {
            trace[keyPath: column].removeSubrange(mark...)
            trace[keyPath: rows].append(-1)
        }
    }
}

extension JSONLineParser {
    /// Opens an array of rows; false when it is empty (`[]`).
    private mutating func openRows(_ name: StaticString) throws(LineError) -> Bool {
        try expect(ASCII.openBracket, "'[' to open \"\(name)\"")
        guard peek() == ASCII.closeBracket else { return true }
        try expect(ASCII.closeBracket, "']'")
        return false
    }

    /// Checks that a row held exactly `width` values.
    @inline(__always) private func checkWidth(
        _ count: Int, _ width: Int, row: Int, _ name: StaticString
    ) throws(LineError) {
        guard count == width else {
            throw fail("row \(row) of \"\(name)\" has \(count) values, expected \(width)")
        }
    }

    /// `"experts"`: rows of exactly `width` distinct ids in 0..<expertCount, appended to
    /// `column`. Returns the number of rows.
    mutating func parseExpertRows(into column: inout [Int16], width: Int, expertCount: Int)
        throws(LineError) -> Int
    {
        guard try openRows("experts") else { return 0 }
        var rows = 0
        repeat {
            try expect(ASCII.openBracket, "'[' to open row \(rows) of \"experts\"")
            let rowStart = column.count
            if peek() != ASCII.closeBracket {
                repeat {
                    guard column.count - rowStart < width else {
                        throw fail("row \(rows) of \"experts\" has more than \(width) values")
                    }
                    let expert = Int16(
                        try parseInt(in: 0...(expertCount - 1), "an expert id"))
                    for index in rowStart..<column.count where column[index] == expert {
                        throw fail("expert \(expert) chosen twice in one layer")
                    }
                    column.append(expert)
                } while try arrayContinues("row \(rows) of \"experts\"")
            } else {
                try expect(ASCII.closeBracket, "']'")
            }
            try checkWidth(column.count - rowStart, width, row: rows, "experts")
            rows += 1
        } while try arrayContinues("\"experts\"")
        return rows
    }

    /// Rows of exactly `width` floats, appended to `column`. Returns the number of rows.
    mutating func parseFloatRows(into column: inout [Float], width: Int, name: StaticString)
        throws(LineError) -> Int
    {
        guard try openRows(name) else { return 0 }
        var rows = 0
        repeat {
            try expect(ASCII.openBracket, "'[' to open row \(rows) of \"\(name)\"")
            let rowStart = column.count
            if peek() != ASCII.closeBracket {
                repeat {
                    guard column.count - rowStart < width else {
                        throw fail("row \(rows) of \"\(name)\" has more than \(width) values")
                    }
                    column.append(try parseFloat(name))
                } while try arrayContinues("row \(rows) of \"\(name)\"")
            } else {
                try expect(ASCII.closeBracket, "']'")
            }
            try checkWidth(column.count - rowStart, width, row: rows, name)
            rows += 1
        } while try arrayContinues("\"\(name)\"")
        return rows
    }
}
