/// A heap buffer of floats owned by the forward pass, zero-initialised. Shapes are noted where
/// each buffer is declared.
final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    /// A buffer holding `values`.
    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        pointer.update(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    subscript(offset: Int) -> UnsafeMutablePointer<Float> { pointer + offset }
}

/// The KV cache of one sequence: per layer, the rotated keys and the values of every position
/// so far. Grows by doubling up to the session's context length.
struct KVCache {
    /// [layers][capacity, keyWidth]
    private(set) var keys: [FloatBuffer]
    /// [layers][capacity, valueWidth]
    private(set) var values: [FloatBuffer]
    private(set) var capacity: Int
    let keyWidth: Int
    let valueWidth: Int
    let maximum: Int

    init(layers: Int, keyWidth: Int, valueWidth: Int, maximum: Int) {
        self.keyWidth = keyWidth
        self.valueWidth = valueWidth
        self.maximum = maximum
        let initial = min(256, maximum)
        capacity = initial
        keys = (0..<layers).map { _ in FloatBuffer(count: initial * keyWidth) }
        values = (0..<layers).map { _ in FloatBuffer(count: initial * valueWidth) }
    }

    /// Makes room for positions 0..<positions (which must not exceed `maximum`), keeping what
    /// is stored.
    mutating func reserve(_ positions: Int) {
        precondition(positions <= maximum)
        guard positions > capacity else { return }
        var newCapacity = capacity
        while newCapacity < positions { newCapacity = min(newCapacity * 2, maximum) }
        for layer in keys.indices {
            let newKeys = FloatBuffer(count: newCapacity * keyWidth)
            newKeys.pointer.update(from: keys[layer].pointer, count: capacity * keyWidth)
            keys[layer] = newKeys
            let newValues = FloatBuffer(count: newCapacity * valueWidth)
            newValues.pointer.update(from: values[layer].pointer, count: capacity * valueWidth)
            values[layer] = newValues
        }
        capacity = newCapacity
    }

    /// Key row of `position` in `layer`. [keyWidth]
    func key(_ layer: Int, _ position: Int) -> UnsafeMutablePointer<Float> {
        keys[layer][position * keyWidth]
    }

    /// Value row of `position` in `layer`. [valueWidth]
    func value(_ layer: Int, _ position: Int) -> UnsafeMutablePointer<Float> {
        values[layer][position * valueWidth]
    }
}
