/// greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
public struct IMAPGreeting: Sendable, Hashable {
    /// `.ok`, `.preauth` or `.bye`.
    public var status: IMAPStatus
    public var text: IMAPResponseText
    public init(status: IMAPStatus, text: IMAPResponseText) {
        self.status = status
        self.text = text
    }
}
