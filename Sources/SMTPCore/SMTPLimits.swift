/// Limits of the SMTP and LMTP grammar, each with the RFC that sets it.
///
/// The RFC 5321 numbers are minimums a server must accept; the framer and parser
/// enforce them as maximums unless the configuration raises them.
public enum SMTPLimits {
    /// RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets including CRLF.
    public static let commandLineLength = 512

    /// RFC 5321 section 4.5.3.1.6: a line of message text is at most 1000 octets including CRLF.
    public static let textLineLength = 1000

    /// RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets including the code and CRLF.
    public static let replyLineLength = 512

    /// RFC 5321 section 4.5.3.1.1: a local part is at most 64 octets.
    public static let localPartLength = 64

    /// RFC 5321 section 4.5.3.1.2: a domain name or address literal is at most 255 octets.
    public static let domainLength = 255

    /// RFC 1035 section 2.3.4: one label of a domain name is at most 63 octets.
    public static let domainLabelLength = 63

    /// RFC 5321 section 4.5.3.1.3: a reverse-path or forward-path is at most 256 octets,
    /// including the angle brackets and separators.
    public static let pathLength = 256

    /// RFC 5321 section 4.5.3.1.8: a server must buffer at least 100 recipients per transaction.
    /// This is the default of `SMTPSession.Configuration.maximumRecipients`; a server may raise it.
    public static let minimumRecipients = 100

    /// Not an RFC limit: message size is configuration, advertised with SIZE (RFC 1870).
    /// This is only the default of `SMTPSession.Configuration.maximumMessageSize` (64 MiB).
    public static let defaultMaximumMessageSize = 64 * 1024 * 1024

    /// Not an RFC limit: after this many consecutive rejected commands the session answers 421
    /// and closes (RFC 5321 section 4.1.4 lets a server end a session that makes no progress).
    public static let defaultMaximumConsecutiveErrors = 20
}
