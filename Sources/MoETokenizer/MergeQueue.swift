// The priority queue both BPE variants merge with: a binary min-heap of candidate pairs.
// Merging through a queue keeps a word of n symbols at O(n log n), so a megabyte-long piece
// (one run of spaces or digits) cannot stall the tokenizer.

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

/// The symbols of one word being merged: a doubly linked list over positions. A symbol absorbs
/// its right neighbour, so position 0 always stays alive.
struct SymbolList {
    /// [count] token id of each symbol (-1: not a token)
    var ids: [Int32] = []
    /// [count] previous and next alive positions (-1 at the ends)
    var previous: [Int32] = []
    var next: [Int32] = []
    /// [count] byte offset and length of each symbol in the word
    var starts: [Int32] = []
    var lengths: [Int32] = []

    mutating func reset() {
        ids.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
    }

    mutating func append(id: Int32, start: Int, length: Int) {
        let index = Int32(ids.count)
        ids.append(id)
        previous.append(index - 1)
        next.append(index + 1)
        starts.append(Int32(start))
        lengths.append(Int32(length))
    }

    /// Marks the end of the list after the last append.
    mutating func close() {
        if !next.isEmpty { next[next.count - 1] = -1 }
    }

    /// Merges the symbol at `right` into `left`, which becomes `id`.
    mutating func merge(_ left: Int, _ right: Int, into id: Int32) {
        ids[left] = id
        lengths[left] += lengths[right]
        lengths[right] = 0
        let after = next[right]
        next[left] = after
        if after >= 0 { previous[Int(after)] = Int32(left) }
    }
}
