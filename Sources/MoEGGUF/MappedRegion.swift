import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a GGUF file: a read-only memory mapping of the whole file (pages are read
/// from disk only when touched), or an owned in-memory copy (for tests and fuzzing).
/// Immutable after init; unmapped or freed when the last reference goes.
final class MappedRegion: @unchecked Sendable {
    /// The file's bytes; empty for an empty file.
    let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps the file at `path` read-only.
    init(path: String) throws(GGUFError) {
        func failure(_ what: String) -> GGUFError {
            let message = String(cString: strerror(errno))
            return GGUFError(
                path: path, offset: nil, reason: .cannotOpen(message: "\(what): \(message)"))
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure("open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("fstat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(
                path: path, offset: nil, reason: .cannotOpen(message: "not a regular file"))
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != MAP_FAILED
        else { throw failure("mmap") }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
        isMapped = true
    }

    /// Copies `data` into an owned buffer.
    init(copying data: [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { source in
            if let base = source.baseAddress {
                buffer.baseAddress!.copyMemory(from: base, byteCount: data.count)
            }
        }
        bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: data.count)
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
