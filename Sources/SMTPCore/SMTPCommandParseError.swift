/// Why a command line could not be parsed, and the reply the server gives for it.
///
/// The message never contains more than a short, sanitized piece of the client's bytes.
public struct SMTPCommandParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The verb is not an SMTP command (500 5.5.1).
        case unrecognizedCommand
        /// A known SMTP command this server does not implement, such as EXPN or TURN (502 5.5.1).
        case notImplemented
        /// The arguments do not follow the grammar (501 5.5.4).
        case syntax
        /// The reverse-path of MAIL FROM is malformed (501 5.1.7).
        case badSenderAddress
        /// The forward-path of RCPT TO is malformed (501 5.1.3).
        case badRecipientAddress
    }

    public var kind: Kind
    /// What was wrong, for the reply text and logs.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The reply the server sends for this error.
    public var reply: SMTPReply {
        switch kind {
        case .unrecognizedCommand: return SMTPReply(500, .init(5, 5, 1), message)
        case .notImplemented: return SMTPReply(502, .init(5, 5, 1), message)
        case .syntax: return SMTPReply(501, .init(5, 5, 4), message)
        case .badSenderAddress: return SMTPReply(501, .init(5, 1, 7), message)
        case .badRecipientAddress: return SMTPReply(501, .init(5, 1, 3), message)
        }
    }
}
