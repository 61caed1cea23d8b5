/// The argument of RCPT TO (RFC 5321 section 4.1.1.3):
/// `"<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path`.
public enum SMTPForwardPath: Hashable, Sendable, CustomStringConvertible {
    /// `<Postmaster>` with no domain (any case): the postmaster of this server.
    case postmaster
    /// A mailbox; `<postmaster@domain>` is an ordinary mailbox here.
    case mailbox(SMTPPath)

    public var description: String {
        switch self {
        case .postmaster: return "<Postmaster>"
        case .mailbox(let path): return path.description
        }
    }
}
