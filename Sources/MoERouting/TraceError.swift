/// Why a trace could not be read, written or attached to a model. Every case names the file,
/// and where it can, the line.
public enum TraceError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, read, created or written.
    case io(path: String, operation: String, reason: String)
    /// The file holds no header line at all.
    case empty(path: String)
    /// The first line is not a moetop trace header.
    case notATrace(path: String, found: String)
    /// The header names a version newer than this build reads.
    case newerVersion(path: String, found: Int, supported: Int)
    /// The header is a moetop header but malformed.
    case badHeader(path: String, reason: String)
    /// An event line (line 1 is the header) is malformed.
    case badLine(path: String, line: Int, reason: String)
    /// The gzip stream is corrupt (not merely cut short).
    case corruptCompression(path: String, reason: String)
    /// The trace was recorded from another model than the one it is being attached to.
    case modelMismatch(path: String, reason: String)
    /// A step handed to the writer does not fit the header's model.
    case stepMismatch(path: String, reason: String)
    /// The writer was used after `close()`.
    case closed(path: String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let reason):
            return "\(path): cannot \(operation): \(reason)"
        case .empty(let path):
            return "\(path): empty file, expected a moetop trace header on line 1"
        case .notATrace(let path, let found):
            return
                "\(path):1: not a moetop trace: \"format\" is \(found), expected \"\(TraceHeader.formatName)\""
        case .newerVersion(let path, let found, let supported):
            return
                "\(path):1: trace format version \(found) is newer than this moetop reads (\(supported)); upgrade moetop"
        case .badHeader(let path, let reason):
            return "\(path):1: bad trace header: \(reason)"
        case .badLine(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .corruptCompression(let path, let reason):
            return "\(path): corrupt gzip data: \(reason)"
        case .modelMismatch(let path, let reason):
            return "\(path): trace does not belong to this model: \(reason)"
        case .stepMismatch(let path, let reason):
            return "\(path): cannot record step: \(reason)"
        case .closed(let path):
            return "\(path): trace writer already closed"
        }
    }
}
