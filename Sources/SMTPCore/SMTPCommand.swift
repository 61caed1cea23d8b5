/// One SMTP or LMTP command, parsed from a command line (RFC 5321 section 4.1.1, RFC 2033).
public enum SMTPCommand: Hashable, Sendable {
    /// `HELO SP Domain` (address literals tolerated).
    case helo(SMTPDomain)
    /// `EHLO SP ( Domain / address-literal )`.
    case ehlo(SMTPDomain)
    /// `LHLO SP ( Domain / address-literal )` (RFC 2033 section 4.1).
    case lhlo(SMTPDomain)
    /// `MAIL FROM:<reverse-path> [SP Mail-parameters]`; a nil path is the null path `<>`.
    case mail(reversePath: SMTPPath?, parameters: SMTPMailParameters)
    /// `RCPT TO:<forward-path> [SP Rcpt-parameters]`.
    case rcpt(forwardPath: SMTPForwardPath, parameters: [SMTPParameter])
    case data
    case rset
    /// `NOOP [SP String]`.
    case noop(String?)
    case quit
    /// `VRFY SP String`.
    case vrfy(String)
    /// `HELP [SP String]`.
    case help(String?)
    /// `STARTTLS` (RFC 3207).
    case starttls

    /// The verb in upper case.
    public var verb: String {
        switch self {
        case .helo: return "HELO"
        case .ehlo: return "EHLO"
        case .lhlo: return "LHLO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .vrfy: return "VRFY"
        case .help: return "HELP"
        case .starttls: return "STARTTLS"
        }
    }

    /// The command line in canonical form, without CRLF (for clients, and for round-trip tests).
    public var line: String {
        switch self {
        case .helo(let domain), .ehlo(let domain), .lhlo(let domain):
            return verb + " " + domain.description
        case .mail(let path, let parameters):
            let pathText = path?.description ?? "<>"
            return (["MAIL FROM:" + pathText] + parameters.all.map(\.description)).joined(separator: " ")
        case .rcpt(let path, let parameters):
            return (["RCPT TO:" + path.description] + parameters.map(\.description)).joined(separator: " ")
        case .noop(let text), .help(let text):
            return text.map { verb + " " + $0 } ?? verb
        case .vrfy(let text):
            return verb + " " + text
        case .data, .rset, .quit, .starttls:
            return verb
        }
    }

    /// The command line as bytes, without CRLF.
    public var lineBytes: [UInt8] { Array(line.utf8) }
}
