/// One ESMTP parameter of MAIL or RCPT (RFC 5321 section 4.1.2):
/// `esmtp-keyword ["=" esmtp-value]`.
public struct SMTPParameter: Hashable, Sendable, CustomStringConvertible {
    /// The keyword in upper case (keywords are case-insensitive).
    public var keyword: String
    /// The value exactly as given, if any.
    public var value: String?

    public init(keyword: String, value: String? = nil) {
        self.keyword = keyword.uppercased()
        self.value = value
    }

    public var description: String {
        if let value { return keyword + "=" + value }
        return keyword
    }
}
