import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Large plain traces are parsed on every core: the file is memory-mapped, the event lines are
// cut into one chunk per thread at line boundaries, each chunk fills its own columns, and the
// columns are joined in file order. Line numbers are local to a chunk while parsing and are
// rebased once every chunk's line count is known, so errors name the same lines as the
// one-thread reader. Gzip files, small files and files without a whole header line take the
// one-thread path.

/// Plain files from this size up are read in parallel; below it a thread costs more than it
/// saves.
let parallelReadThreshold = 16 << 20
/// Most threads a read uses.
let parallelReadMaximumThreads = 16

/// What one chunk of lines produced.
private struct ChunkResult: Sendable {
    var trace: Trace
    /// Lines in the chunk, blank ones included.
    var lines: Int
    /// The first bad line when not lenient, with its chunk-local line number.
    var failure: (line: Int, message: String)?
}

/// Raw memory shared read-only by the chunk threads, and the slots they write their results
/// to (each thread writes only its own index).
private struct SharedChunks: @unchecked Sendable {
    let base: UnsafePointer<UInt8>
    let results: UnsafeMutableBufferPointer<ChunkResult?>
}

extension TraceReader {
    /// Reads a large plain trace on several threads; nil when the file should take the
    /// one-thread path (compressed, small, one core, or no whole header line).
    static func readInParallel(
        path: String, options: TraceReadOptions, minimumSize: Int = parallelReadThreshold
    ) throws(TraceError) -> Trace? {
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, parallelReadMaximumThreads)
        guard threads > 1 else { return nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .io(path: path, operation: "open", reason: errnoText())
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
            Int(status.st_size) >= minimumSize, status.st_size >= 2
        else { return nil }
        let size = Int(status.st_size)
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
            mapping != MAP_FAILED
        else { return nil }
        defer { munmap(mapping, size) }
        _ = madvise(mapping, size, MADV_SEQUENTIAL)
        let base = UnsafePointer<UInt8>(mapping.assumingMemoryBound(to: UInt8.self))

        // the header: a whole, non-blank first line, not gzip
        guard base[0] != 0x1f || base[1] != 0x8b,
            let newline = memchr(base, Int32(ASCII.newline), size)
        else { return nil }
        let headerEnd = UnsafePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self)) - base
        let headerLine = UnsafeBufferPointer(start: base, count: headerEnd)
        guard !isBlank(headerLine) else { return nil }
        let header = try TraceHeader.decode(line: Array(headerLine), path: path)

        // chunks of about equal size, each ending just after a newline (the last at the end)
        var bounds = [headerEnd + 1]
        for index in 1..<threads {
            let target = max(
                bounds[bounds.count - 1], headerEnd + 1 + (size - headerEnd - 1) * index / threads)
            guard target < size,
                let found = memchr(base + target, Int32(ASCII.newline), size - target)
            else { break }
            let end = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base + 1
            if end > bounds[bounds.count - 1] { bounds.append(end) }
        }
        if bounds[bounds.count - 1] < size { bounds.append(size) }
        let chunkCount = bounds.count - 1
        guard chunkCount > 0 else { return nil }

        // parse the chunks
        let results = UnsafeMutableBufferPointer<ChunkResult?>.allocate(capacity: chunkCount)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let shared = SharedChunks(base: base, results: results)
        let starts = bounds
        DispatchQueue.concurrentPerform(iterations: chunkCount) { index in
            shared.results[index] = parseChunk(
                shared.base + starts[index], count: starts[index + 1] - starts[index],
                isFinal: index == chunkCount - 1, trace: Trace(path: path, header: header),
                options: options)
        }

        // rebase line numbers, then join in file order
        var lineBase = 1
        var joined = Trace(path: path, header: header)
        for index in 0..<chunkCount {
            guard var chunk = results[index] else { continue }
            if let failure = chunk.failure {
                throw .badLine(path: path, line: lineBase + failure.line, reason: failure.message)
            }
            for issue in chunk.trace.report.issues.indices {
                chunk.trace.report.issues[issue].line += lineBase
            }
            if let torn = chunk.trace.report.tornLastLine {
                chunk.trace.report.tornLastLine = torn + lineBase
            }
            joined.append(chunk.trace, maxIssues: options.maxIssues)
            lineBase += chunk.lines
        }
        joined.report.lines = lineBase
        joined.report.fileBytes = size
        return joined
    }
}

/// Parses `count` bytes of event lines; the final chunk's last line may lack its newline.
private func parseChunk(
    _ start: UnsafePointer<UInt8>, count: Int, isFinal: Bool, trace: Trace,
    options: TraceReadOptions
) -> ChunkResult {
    var builder = TraceBuilder(trace: trace, options: options)
    var lines = 0
    var offset = 0
    while offset < count {
        let found = memchr(start + offset, Int32(ASCII.newline), count - offset)
        let end =
            found.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - start }
            ?? count
        lines += 1
        do {
            try builder.consume(
                UnsafeBufferPointer(start: start + offset, count: end - offset),
                lineNumber: lines, isLast: isFinal && found == nil)
        } catch {
            return ChunkResult(
                trace: builder.finish(), lines: lines, failure: (error.line, error.message))
        }
        offset = end + 1
    }
    return ChunkResult(trace: builder.finish(), lines: lines, failure: nil)
}

extension Trace {
    /// Appends the events of `other` (read from a later part of the same file).
    mutating func append(_ other: Trace, maxIssues: Int) {
        let rowSize = layerCount * expertCount
        let probabilityRows = Int32(probabilityColumn.count / max(1, rowSize))
        let logitRows = Int32(logitColumn.count / max(1, rowSize))
        prompts += other.prompts.map {
            TracePrompt(text: $0.text, tokenIndex: $0.tokenIndex + count)
        }
        tokenIDs += other.tokenIDs
        positions += other.positions
        phases += other.phases
        pieces += other.pieces
        forwardSeconds += other.forwardSeconds
        samplingSeconds += other.samplingSeconds
        hasRouting += other.hasRouting
        expertColumn += other.expertColumn
        weightColumn += other.weightColumn
        probabilityRow += other.probabilityRow.map { $0 < 0 ? $0 : $0 + probabilityRows }
        probabilityColumn += other.probabilityColumn
        logitRow += other.logitRow.map { $0 < 0 ? $0 : $0 + logitRows }
        logitColumn += other.logitColumn
        report.skippedLines += other.report.skippedLines
        report.ignoredEvents += other.report.ignoredEvents
        report.issues += other.report.issues.prefix(max(0, maxIssues - report.issues.count))
        if let torn = other.report.tornLastLine { report.tornLastLine = torn }
    }
}
