/// What a person browsing an archive wants to see of a message: subject, sender, Message-ID and date,
/// read from the header section. Never used to match messages; the bytes are what count.
public struct HeaderSummary: Sendable, Hashable {
    /// Decoded for display (RFC 2047 encoded words, folding collapsed).
    public var subject: String?
    /// Decoded for display, the whole `From:` value (name and address).
    public var from: String?
    /// As written, trimmed, angle brackets kept.
    public var messageID: String?
    /// As written, trimmed; see `RFC5322.date(_:)` to read it.
    public var date: String?

    /// Reads the header section at the start of `header`. The bytes may be the header alone, the whole
    /// message, or a prefix cut anywhere; reading stops at the first empty line. The first occurrence
    /// of each field wins, names compared case-insensitively.
    public init(header: some Collection<UInt8>) {
        // One copy into an array first: the parsing below then runs on a concrete type, not through
        // generic witness calls per byte (this is called once per exported message).
        let bytes = Array(header)
        var found: [String: [UInt8]] = [:]
        for field in RFC5322.headerFields(in: bytes) {
            let key = field.name.lowercased()
            if found[key] == nil { found[key] = field.rawValue }
        }
        subject = found["subject"].map { EncodedWord.decodeHeaderValue($0) }
        from = found["from"].map { EncodedWord.decodeHeaderValue($0) }
        messageID = found["message-id"].map { RFC5322.text($0).trimmingWhiteSpace() }
        date = found["date"].map { RFC5322.text($0).trimmingWhiteSpace() }
    }
}
