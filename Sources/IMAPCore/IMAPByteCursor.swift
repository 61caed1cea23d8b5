/// A position in one complete response (its text with collected literals inline as `{N}\r\n` and N bytes).
/// Every rule either advances past what it parsed or throws and leaves the position where it was.
struct IMAPByteCursor {
    let bytes: [UInt8]
    var index: Int

    init(_ bytes: [UInt8], index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func error(_ message: String) -> IMAPCoreError {
        IMAPCoreError(
            atEnd ? .incomplete : .badInput, message, offset: index, excerptOf: bytes[max(0, index - 20)...])
    }

    /// Runs `rule`; on failure the position is restored.
    mutating func attempt<T>(_ rule: (inout IMAPByteCursor) throws(IMAPCoreError) -> T) throws(IMAPCoreError) -> T {
        let saved = index
        do {
            return try rule(&self)
        } catch {
            index = saved
            throw error
        }
    }

    /// `rule`'s result, or nil (position restored) if it fails.
    mutating func optional<T>(_ rule: (inout IMAPByteCursor) throws(IMAPCoreError) -> T) -> T? {
        try? attempt(rule)
    }

    mutating func expect(_ byte: UInt8) throws(IMAPCoreError) {
        guard peek == byte else { throw error("expected \"\(Character(Unicode.Scalar(byte)))\"") }
        index += 1
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func expectSpace() throws(IMAPCoreError) { try expect(0x20) }

    /// Case-insensitive keyword, not followed by more atom characters.
    mutating func expectKeyword(_ word: String) throws(IMAPCoreError) {
        guard skipKeyword(word) else { throw error("expected \(word)") }
    }

    /// `expectKeyword` without the error: true and past the keyword, or false and where it was.
    mutating func skipKeyword(_ word: String) -> Bool {
        let saved = index
        for expected in word.utf8 {
            guard let byte = peek, Self.upper(byte) == expected else {
                index = saved
                return false
            }
            index += 1
        }
        if let next = peek, Self.isAtomChar(next) {
            index = saved
            return false
        }
        return true
    }

    static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte }

    /// ATOM-CHAR = <any CHAR except atom-specials>
    /// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
    static func isAtomChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x00...0x20, 0x7f...0xff: false
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
            UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            false
        default: true
        }
    }

    /// ASTRING-CHAR = ATOM-CHAR / resp-specials
    static func isAstringChar(_ byte: UInt8) -> Bool { isAtomChar(byte) || byte == UInt8(ascii: "]") }

    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while let byte = peek, predicate(byte) { index += 1 }
        return bytes[start..<index]
    }

    func string(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }

    /// The rest of the response as text.
    mutating func rest() -> String {
        let text = string(bytes[min(index, bytes.count)...])
        index = bytes.count
        return text
    }
}
