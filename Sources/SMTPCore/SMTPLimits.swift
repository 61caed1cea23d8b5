/// Limits of the SMTP and LMTP grammar, each with the RFC that sets it.
public enum SMTPLimits {
    /// RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets including CRLF.
    public static let commandLineLength = 512
}
