/// The bounds the client puts on what a server may send. Exceeding one is an `IMAPCoreError` of kind
/// `.limitExceeded`, never unbounded buffering.
public struct IMAPLimits: Sendable, Hashable {
    /// Longest physical response line, literals excluded. RFC 9051 section 4 sets no line limit; RFC 7162
    /// section 4 asks clients to accept lines of at least 8192 octets. A UID SEARCH answer for a large mailbox
    /// without ESEARCH is one line of numbers (about 100,000 UIDs fit in 1 MiB), so the default is 1 MiB.
    public var maxLineLength: Int
    /// Largest literal kept in memory when it is not a message body (a mailbox name, a header field value in a
    /// LIST, ACL or FETCH response). RFC 9051 section 4.3 lets any string be a literal; such strings are short.
    public var maxCollectedLiteral: Int
    /// Largest total size of one response outside its streamed body literals (all its lines and collected
    /// literals together), so a response made of many small literals cannot grow without bound.
    public var maxResponseSize: Int
    /// Largest message literal (BODY[], BINARY[], RFC822) the client accepts; it is streamed, never held.
    /// RFC 9051 sets no limit; 2 GiB is beyond any mail server's message size limit in practice.
    public var maxMessageLiteral: Int64
    /// Most digits in a literal announcement `{N}`: enough for `maxMessageLiteral`, and a stop for
    /// `{99999999999999999999}` before it overflows.
    public var maxLiteralDigits: Int

    public init(
        maxLineLength: Int = 1 << 20, maxCollectedLiteral: Int = 64 << 10, maxResponseSize: Int = 4 << 20,
        maxMessageLiteral: Int64 = 2 << 30, maxLiteralDigits: Int = 12
    ) {
        self.maxLineLength = maxLineLength
        self.maxCollectedLiteral = maxCollectedLiteral
        self.maxResponseSize = maxResponseSize
        self.maxMessageLiteral = maxMessageLiteral
        self.maxLiteralDigits = maxLiteralDigits
    }

    public static let `default` = IMAPLimits()
}
