/// A record type that can read its own journal lines without JSONDecoder (`JSONLinesFile` uses it when a type
/// offers it). `decodeLine` returns nil for anything it does not fully understand, and the line then goes to
/// JSONDecoder, so the fast path can only be faster, never differ.
public protocol JSONLineFastDecodable: Decodable {
    static func decodeLine(_ scanner: inout JSONLineScanner) -> Self?
}

/// Reads one JSON object line of a journal: members in any order, strings with every JSON escape, integers, nested
/// objects. Why: the import journal has a line per message, and a delta import and its reconcile read it whole;
/// JSONDecoder spent a fifth of a 20,000-message delta import doing that.
public struct JSONLineScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Calls `member` with each member's name, positioned at its value, which `member` must read (or return
    /// false to give up on the line). True when the object ended well. A name given twice gives up too (decoders
    /// differ on which one wins).
    public mutating func object(_ member: (String, inout JSONLineScanner) -> Bool) -> Bool {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return false }
        skipSpace()
        if take(UInt8(ascii: "}")) { return true }
        var names: [String] = []
        while true {
            skipSpace()
            guard let name = string(), !names.contains(name) else { return false }
            names.append(name)
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipSpace()
            guard member(name, &self) else { return false }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// True when only white space is left.
    public mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// A string with any JSON escape (`JSONStringReader`).
    public mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        return JSONStringReader.read(bytes, at: &index, escapes: .all)
    }

    /// A non-negative or negative integer without fraction or exponent.
    public mutating func int64() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        var value: Int64 = 0
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = plus
            index += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        // A fraction or an exponent is left to JSONDecoder.
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { return nil }
        return negative ? -value : value
    }

    public mutating func uint32() -> UInt32? { int64().flatMap(UInt32.init(exactly:)) }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }
}
