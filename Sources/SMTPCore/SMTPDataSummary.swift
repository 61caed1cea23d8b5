/// What the framer saw in one message's DATA, reported with `.endOfData`.
public struct SMTPDataSummary: Hashable, Sendable {
    /// Why the message must be refused, under the framer's options.
    public enum Rejection: Hashable, Sendable {
        /// More content than the maximum size (RFC 1870): answer 552 5.3.4.
        case tooLarge
        /// Bare LF or bare CR line ends under `BareLineFeedPolicy.reject`.
        case bareLineEnding
        /// Lines longer than 1000 octets under `LongLinePolicy.reject` (RFC 5321 4.5.3.1.6).
        case lineTooLong
    }

    /// Octets of content after dot-unstuffing and line-end normalization, counted to the end
    /// even past the maximum.
    public var size: Int = 0
    /// The maximum size this message was read against.
    public var maximumSize: Int
    /// Line ends that were a bare LF (normalized to CRLF under the default policy).
    public var bareLineFeeds: Int = 0
    /// CRs not followed by LF (passed through unchanged; never read as a line end).
    public var bareCarriageReturns: Int = 0
    /// Lines longer than the text line limit.
    public var longLines: Int = 0
    /// Set by the framer at the end of DATA from the counts and its options.
    public var rejection: Rejection?

    public init(
        size: Int = 0, maximumSize: Int, bareLineFeeds: Int = 0, bareCarriageReturns: Int = 0, longLines: Int = 0,
        rejection: Rejection? = nil
    ) {
        self.size = size
        self.maximumSize = maximumSize
        self.bareLineFeeds = bareLineFeeds
        self.bareCarriageReturns = bareCarriageReturns
        self.longLines = longLines
        self.rejection = rejection
    }

    /// Content went past the maximum size; content events stopped at the limit.
    public var tooLarge: Bool { size > maximumSize }

    /// Any deviation from RFC 5321 line ends.
    public var hasLineEndingDeviations: Bool { bareLineFeeds > 0 || bareCarriageReturns > 0 }
}
