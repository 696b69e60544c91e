import CZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Byte-level file access for traces: a sink that appends (plain, or gzip through zlib) and
// a source that reads in chunks (plain, or gunzip). POSIX file descriptors, so that a write is
// one system call and lands in the kernel's cache before the call returns: a process killed
// right after keeps everything written.

/// zlib's window bits for a gzip wrapper (15 + 16), and for reading gzip or zlib (15 + 32).
private let gzipWindowBits: Int32 = 15 + 16
private let autoDetectWindowBits: Int32 = 15 + 32
/// zlib's fastest level. Recording compresses once per token while the model decodes; on a
/// 48-layer x 128-expert trace with probabilities, level 1 took about a quarter of level 6's
/// time for a file about 12 % larger (0.43 vs 0.38 of the plain size).
let recordingCompressionLevel: Int32 = 1
/// zlib's default memory level.
private let zlibMemoryLevel: Int32 = 8

#if canImport(Glibc)
    private let systemWrite = Glibc.write
    private let systemRead = Glibc.read
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
    private let systemRead = Darwin.read
#endif

/// The text of `errno`.
func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Where trace bytes go: a file, compressed or not.
final class TraceSink {
    let path: String
    private var descriptor: Int32
    /// The deflate stream when compressing; it lives at a fixed address, as zlib requires.
    private var deflater: UnsafeMutablePointer<z_stream>?
    private var compressed: [UInt8] = []

    /// Creates (or truncates) `path`; compresses when `gzip` is set.
    init(path: String, gzip: Bool, level: Int32 = recordingCompressionLevel) throws(TraceError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .io(path: path, operation: "create", reason: errnoText())
        }
        guard gzip else { return }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(
            stream, level, Z_DEFLATED, gzipWindowBits, zlibMemoryLevel, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            close(descriptor)
            throw .io(path: path, operation: "start gzip", reason: "deflateInit2 status \(status)")
        }
        deflater = stream
        compressed = [UInt8](repeating: 0, count: 1 << 16)
    }

    deinit {
        try? finish()
    }

    /// Appends `bytes`. With gzip they are compressed and sync-flushed, so that everything
    /// written so far can be decompressed from the file even if the process dies next.
    func write(_ bytes: [UInt8]) throws(TraceError) {
        guard descriptor >= 0 else { throw .closed(path: path) }
        guard let stream = deflater else {
            try writeAll(bytes)
            return
        }
        try deflate(bytes, stream: stream, flush: Z_SYNC_FLUSH)
    }

    /// Ends the gzip stream and closes the file. Safe to call twice.
    func finish() throws(TraceError) {
        guard descriptor >= 0 else { return }
        defer {
            close(descriptor)
            descriptor = -1
            if let stream = deflater {
                deflateEnd(stream)
                stream.deallocate()
                deflater = nil
            }
        }
        if let stream = deflater {
            try deflate([], stream: stream, flush: Z_FINISH)
        }
    }

    private func deflate(_ bytes: [UInt8], stream: UnsafeMutablePointer<z_stream>, flush: Int32)
        throws(TraceError)
    {
        var input = bytes
        let capacity = compressed.count
        var failure: TraceError?
        input.withUnsafeMutableBufferPointer { inputBuffer in
            compressed.withUnsafeMutableBufferPointer { outputBuffer in
                stream.pointee.next_in = inputBuffer.baseAddress
                stream.pointee.avail_in = UInt32(inputBuffer.count)
                repeat {
                    stream.pointee.next_out = outputBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(capacity)
                    let status = CZlib.deflate(stream, flush)
                    guard status == Z_OK || status == Z_BUF_ERROR || status == Z_STREAM_END else {
                        failure = .io(
                            path: path, operation: "compress", reason: "deflate status \(status)")
                        return
                    }
                    let produced = capacity - Int(stream.pointee.avail_out)
                    do throws(TraceError) {
                        try writeAll(UnsafeBufferPointer(rebasing: outputBuffer[0..<produced]))
                    } catch {
                        failure = error
                        return
                    }
                } while stream.pointee.avail_out == 0
            }
        }
        if let failure { throw failure }
    }

    private func writeAll(_ bytes: [UInt8]) throws(TraceError) {
        try bytes.withUnsafeBufferPointer { buffer throws(TraceError) in try writeAll(buffer) }
    }

    private func writeAll(_ buffer: UnsafeBufferPointer<UInt8>) throws(TraceError) {
        var offset = 0
        while offset < buffer.count {
            let written = systemWrite(
                descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", reason: errnoText())
            }
            offset += written
        }
    }
}

/// Reads a file in chunks, gunzipping when it starts with the gzip magic bytes.
final class TraceSource {
    let path: String
    private var descriptor: Int32
    private var inflater: UnsafeMutablePointer<z_stream>?
    private var compressed: [UInt8] = []
    private var compressedStart = 0
    /// Decompressed bytes of one `inflate` call.
    private lazy var inflated = [UInt8](repeating: 0, count: Self.chunkSize)
    private var compressedEnd = 0
    private var endOfFile = false
    /// Set when the gzip stream stopped before its end marker (a recording that was killed).
    private(set) var truncatedCompression = false
    /// Bytes of the file read so far.
    private(set) var fileBytesRead = 0

    static let chunkSize = 1 << 22

    init(path: String) throws(TraceError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .io(path: path, operation: "open", reason: errnoText())
        }
        var statBuffer = stat()
        if fstat(descriptor, &statBuffer) == 0, (statBuffer.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw .io(path: path, operation: "read", reason: "is a directory")
        }
        compressed = [UInt8](repeating: 0, count: Self.chunkSize)
        try fillCompressed()
        let isGzip =
            compressedEnd >= 2 && compressed[0] == 0x1f && compressed[1] == 0x8b
        guard isGzip else { return }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(
            stream, autoDetectWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw .io(
                path: path, operation: "start gunzip", reason: "inflateInit2 status \(status)")
        }
        inflater = stream
    }

    deinit {
        close(descriptor)
        if let stream = inflater {
            inflateEnd(stream)
            stream.deallocate()
        }
    }

    /// Whether the file is gzip-compressed.
    var isCompressed: Bool { inflater != nil }

    /// Appends up to about a chunk of decoded bytes to `buffer`; returns how many (0 at the end).
    func read(into buffer: inout [UInt8]) throws(TraceError) -> Int {
        guard let stream = inflater else {
            // plain: hand over what is buffered, then read straight from the file
            if compressedStart < compressedEnd {
                buffer.append(contentsOf: compressed[compressedStart..<compressedEnd])
                defer { compressedStart = compressedEnd }
                return compressedEnd - compressedStart
            }
            try fillCompressed()
            let count = compressedEnd - compressedStart
            buffer.append(contentsOf: compressed[compressedStart..<compressedEnd])
            compressedStart = compressedEnd
            return count
        }
        return try inflate(stream: stream, into: &buffer)
    }

    private func inflate(stream: UnsafeMutablePointer<z_stream>, into buffer: inout [UInt8])
        throws(TraceError) -> Int
    {
        let before = buffer.count
        let outputCapacity = Self.chunkSize
        while buffer.count == before {
            if compressedStart == compressedEnd {
                if endOfFile { return 0 }
                try fillCompressed()
                if compressedStart == compressedEnd {
                    // the file ended inside the stream: a killed writer; keep what decoded
                    if streamOpen { truncatedCompression = true }
                    return 0
                }
            }
            var status: Int32 = Z_OK
            var consumed = 0
            var produced = 0
            compressed.withUnsafeMutableBufferPointer { input in
                inflated.withUnsafeMutableBufferPointer { output in
                    stream.pointee.next_in = input.baseAddress! + compressedStart
                    stream.pointee.avail_in = UInt32(compressedEnd - compressedStart)
                    stream.pointee.next_out = output.baseAddress!
                    stream.pointee.avail_out = UInt32(outputCapacity)
                    status = CZlib.inflate(stream, Z_NO_FLUSH)
                    consumed = compressedEnd - compressedStart - Int(stream.pointee.avail_in)
                    produced = outputCapacity - Int(stream.pointee.avail_out)
                }
            }
            buffer.append(contentsOf: inflated[0..<produced])
            compressedStart += consumed
            switch status {
            case Z_OK, Z_BUF_ERROR:
                streamOpen = true
            case Z_STREAM_END:
                // another gzip member may follow (files appended to with gzip are concatenated)
                streamOpen = false
                inflateReset(stream)
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw .corruptCompression(
                    path: path,
                    reason:
                        "\(message) near compressed byte \(fileBytesRead - (compressedEnd - compressedStart))"
                )
            }
        }
        return buffer.count - before
    }

    private var streamOpen = false

    /// Refills the raw buffer from the file.
    private func fillCompressed() throws(TraceError) {
        compressedStart = 0
        compressedEnd = 0
        guard !endOfFile else { return }
        while true {
            let count = compressed.withUnsafeMutableBytes { raw in
                systemRead(descriptor, raw.baseAddress!, raw.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", reason: errnoText())
            }
            if count == 0 { endOfFile = true }
            compressedEnd = count
            fileBytesRead += count
            return
        }
    }
}
