/// Values that repeat across many entries (a folder name, a flag list), each stored once and named by a small
/// number, so that an index of hundreds of thousands of entries holds 4 bytes per entry instead of a copy.
public struct InternedValues<Value: Hashable> {
    private var values: [Value] = []
    private var numbers: [Value: UInt32] = [:]

    public init() {}

    /// The number of `value`, given it now if it had none.
    public mutating func number(for value: Value) -> UInt32 {
        if let known = numbers[value] { return known }
        let number = UInt32(values.count)
        values.append(value)
        numbers[value] = number
        return number
    }

    public subscript(number: UInt32) -> Value { values[Int(number)] }
}

/// A text's 64-bit hash for this process's life (Swift's `Hasher`, randomly seeded per process): what the compact
/// indexes (`IMAPPlacementIndex`, a delta export's previous items) key their rows by instead of the text, checking
/// the text itself on a hit.
public enum ProcessHash {
    public static func of(_ text: String) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(text)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}
