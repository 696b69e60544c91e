// Shared machinery of both BPE variants: the symbol list of the word being merged, the priority
// queue of candidate pairs, and an integer hash table for merge lookups.
// Merging through a queue keeps a word of n symbols at O(n log n), so a megabyte-long piece
// (one run of spaces or digits) cannot stall the tokenizer; short words use a plain scan.

/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

/// One symbol of a word being merged.
struct Symbol {
    /// Token id (-1: not a token).
    var id: Int32
    /// Previous and next alive positions (-1 at the ends).
    var previous: Int32
    var next: Int32
    /// Byte offset and length in the word; length 0 once merged into its left neighbour.
    var start: Int32
    var length: Int32
}

/// The symbols of one word: a doubly linked list over positions. A symbol absorbs its right
/// neighbour, so position 0 always stays alive.
struct SymbolList {
    var items: [Symbol] = []

    var count: Int { items.count }

    mutating func reset() { items.removeAll(keepingCapacity: true) }

    mutating func append(id: Int32, start: Int, length: Int) {
        let index = Int32(items.count)
        items.append(
            Symbol(
                id: id, previous: index - 1, next: index + 1, start: Int32(start),
                length: Int32(length)))
    }

    /// Marks the end of the list after the last append.
    mutating func close() {
        if !items.isEmpty { items[items.count - 1].next = -1 }
    }

    /// Merges the symbol at `right` into `left`, which becomes `id`.
    mutating func merge(_ left: Int, _ right: Int, into id: Int32) {
        items[left].id = id
        items[left].length += items[right].length
        items[right].length = 0
        let after = items[right].next
        items[left].next = after
        if after >= 0 { items[Int(after)].previous = Int32(left) }
    }
}

/// An open-addressing hash table from UInt64 keys to UInt64 values, built once. Much cheaper
/// per lookup than `Dictionary` (no SipHash), which matters in the merge loop.
struct IntegerTable: Sendable {
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Inserts `key` unless it is present (the first value wins). `key` must not be UInt64.max.
    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) {
        var index = slot(key)
        while keys[index] != Self.empty {
            if keys[index] == key { return }
            index = (index + 1) & mask
        }
        keys[index] = key
        values[index] = value
        count += 1
    }

    @inline(__always)
    func value(_ key: UInt64) -> UInt64? {
        var index = slot(key)
        while true {
            let found = keys[index]
            if found == key { return values[index] }
            if found == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }
}
