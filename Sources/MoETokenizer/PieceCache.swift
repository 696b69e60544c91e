// Token ids of pieces already encoded during one `encode` call. In long texts most words
// repeat, and a hash lookup is cheaper than merging again (the `tokenizers` library keeps a
// similar cache). Bounded: pieces up to 64 bytes, at most 65 536 entries per call.

/// Encoded pieces of one encode call, keyed by their bytes.
struct PieceCache {
    static let maximumPieceLength = 64
    static let maximumEntries = 1 << 16

    private struct Entry {
        var hash: UInt64
        var byteStart: Int32
        var byteCount: Int32
        var idStart: Int32
        var idCount: Int32
    }

    /// [capacity] index into `entries` (-1: empty); capacity is a power of two
    private var slots = [Int32](repeating: -1, count: 1024)
    private var entries: [Entry] = []
    private var bytes: [UInt8] = []
    private(set) var ids: [Int32] = []

    /// FNV-1a over the piece.
    @inline(__always)
    static func hash(_ piece: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in piece { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    /// The range in `ids` of a cached piece.
    func lookup(_ piece: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Range<Int>? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            let entry = entries[Int(index)]
            if entry.hash == hash && Int(entry.byteCount) == piece.count
                && equalBytes(Int(entry.byteStart), piece)
            {
                return Int(entry.idStart)..<Int(entry.idStart + entry.idCount)
            }
            slot = (slot + 1) & mask
        }
    }

    private func equalBytes(_ start: Int, _ piece: UnsafeBufferPointer<UInt8>) -> Bool {
        for k in 0..<piece.count where bytes[start + k] != piece[k] { return false }
        return true
    }

    /// Remembers the ids of a piece (ignored once the cache is full).
    mutating func insert(
        _ piece: UnsafeBufferPointer<UInt8>, hash: UInt64, ids pieceIDs: ArraySlice<Int32>
    ) {
        guard entries.count < Self.maximumEntries else { return }
        if (entries.count + 1) * 2 > slots.count { grow() }
        entries.append(
            Entry(
                hash: hash, byteStart: Int32(bytes.count), byteCount: Int32(piece.count),
                idStart: Int32(ids.count), idCount: Int32(pieceIDs.count)))
        bytes.append(contentsOf: piece)
        ids.append(contentsOf: pieceIDs)
        place(Int32(entries.count - 1), hash: hash)
    }

    private mutating func place(_ index: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = index
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for (index, entry) in entries.enumerated() { place(Int32(index), hash: entry.hash) }
    }
}

/// A fixed table from byte strings to ids, built once: lookups hash a buffer slice in place
/// (no `Array` per lookup), which the SentencePiece merge loop does for every candidate pair.
struct ByteStringTable: Sendable {
    private struct Entry: Sendable {
        var hash: UInt64
        var start: Int32
        var count: Int32
        var value: Int32
    }

    private var slots: [Int32]
    private var entries: [Entry] = []
    private var bytes: [UInt8] = []

    /// Entries in insertion order; a later duplicate key replaces the earlier value.
    init(_ pairs: [([UInt8], Int32)]) {
        var size = 16
        while size < pairs.count * 2 { size *= 2 }
        slots = [Int32](repeating: -1, count: size)
        for (key, value) in pairs {
            key.withUnsafeBufferPointer { insert($0, value) }
        }
    }

    private mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ value: Int32) {
        let hash = PieceCache.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 {
            let index = Int(slots[slot])
            if matches(entries[index], key, hash) {
                entries[index].value = value
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(entries.count)
        entries.append(
            Entry(hash: hash, start: Int32(bytes.count), count: Int32(key.count), value: value))
        bytes.append(contentsOf: key)
    }

    @inline(__always)
    private func matches(_ entry: Entry, _ key: UnsafeBufferPointer<UInt8>, _ hash: UInt64) -> Bool
    {
        guard entry.hash == hash, Int(entry.count) == key.count else { return false }
        let start = Int(entry.start)
        for k in 0..<key.count where bytes[start + k] != key[k] { return false }
        return true
    }

    /// The id of `key`, if present.
    func value(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = PieceCache.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            if matches(entries[Int(index)], key, hash) { return entries[Int(index)].value }
            slot = (slot + 1) & mask
        }
    }
}
