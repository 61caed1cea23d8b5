/// A command line the framer could not cut. Framing goes on after it: the offending line has
/// been discarded up to and including its LF, so the server answers and reads the next command.
public enum SMTPFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The line passed the command line limit (RFC 5321 section 4.5.3.1.4); it was discarded
    /// without being buffered.
    case lineTooLong(limit: Int)
    /// A CR not followed by LF inside a command line (RFC 5321 section 2.3.8).
    case bareCarriageReturn

    public var description: String {
        switch self {
        case .lineTooLong(let limit): return "Command line longer than \(limit) octets"
        case .bareCarriageReturn: return "Bare CR in command line"
        }
    }

    /// The reply for this error: 500 5.5.2.
    public var reply: SMTPReply { .badCommandLine(description) }
}
