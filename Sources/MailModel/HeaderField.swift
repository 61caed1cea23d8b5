/// One header field as it stands in a message: the name as written and the value bytes after the colon,
/// unfolded (RFC 5322 section 2.2.3) but otherwise untouched, so the caller decides how to decode them.
public struct HeaderField: Hashable, Sendable {
    /// The field name as written, without the colon (compare case-insensitively).
    public var name: String
    /// The bytes after the colon, with every line break that precedes white space removed.
    public var rawValue: [UInt8]

    public init(name: String, rawValue: [UInt8]) {
        self.name = name
        self.rawValue = rawValue
    }

    /// The value as text: UTF-8 when the bytes are valid UTF-8, otherwise ISO-8859-1 (every byte is a
    /// character there), with surrounding white space trimmed. Encoded words are left as written.
    public var text: String { RFC5322.text(rawValue).trimmingWhiteSpace() }
}

extension String {
    /// Drops leading and trailing spaces, tabs, CR and LF (no Foundation needed).
    func trimmingWhiteSpace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
