/// A read position in a command line, for the hand-written parsers.
struct ByteCursor {
    let bytes: [UInt8]
    var index: Int = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }
    var peek: UInt8? { isAtEnd ? nil : bytes[index] }

    /// Consumes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `text` (ASCII) if it is next, ignoring case.
    mutating func takeCaseInsensitive(_ text: String) -> Bool {
        let wanted = Array(text.utf8)
        guard bytes.count - index >= wanted.count else { return false }
        for (offset, byte) in wanted.enumerated() where ASCII.lower(bytes[index + offset]) != ASCII.lower(byte) {
            return false
        }
        index += wanted.count
        return true
    }

    /// Consumes the longest run of bytes matching `predicate`.
    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while let byte = peek, predicate(byte) { index += 1 }
        return bytes[start..<index]
    }

    /// Consumes the rest of the line.
    mutating func takeRest() -> ArraySlice<UInt8> {
        defer { index = bytes.count }
        return bytes[min(index, bytes.count)...]
    }
}

/// Character classes of RFC 5234 and RFC 5321.
enum ASCII {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let dot = UInt8(ascii: ".")

    static func lower(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }
    static func isAlpha(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
    static func isLetDig(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) }

    /// atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "/" / "=" / "?" /
    ///         "^" / "_" / "`" / "{" / "|" / "}" / "~"          (RFC 5322 section 3.2.3)
    static func isAtext(_ byte: UInt8) -> Bool {
        isLetDig(byte) || Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
    }

    /// A short, printable rendering of client bytes for error messages.
    static func quote(_ bytes: some Collection<UInt8>, maximum: Int = 40) -> String {
        var text = String(
            decoding: bytes.prefix(maximum).map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") },
            as: UTF8.self)
        if bytes.count > maximum { text += "..." }
        return text
    }

    static func string(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
