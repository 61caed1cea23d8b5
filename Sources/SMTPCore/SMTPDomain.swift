/// The domain part of a mailbox or the argument of HELO, EHLO and LHLO:
/// a domain name or an address literal (RFC 5321 section 4.1.2 and 4.1.3).
public enum SMTPDomain: Hashable, Sendable, CustomStringConvertible {
    /// A domain name, case kept as given (`Example.COM`).
    case name(String)
    /// An address literal, given without the brackets: `127.0.0.1`, `IPv6:::1`, `tag:content`.
    case addressLiteral(String)

    /// The wire form: the name, or the literal in brackets.
    public var description: String {
        switch self {
        case .name(let name): return name
        case .addressLiteral(let literal): return "[" + literal + "]"
        }
    }
}
