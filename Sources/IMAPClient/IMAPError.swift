import IMAPCore

/// Why an IMAP operation failed: what kind of failure, with which server, during which command. The description
/// never holds a password or message content; server text is included as the server sent it.
public struct IMAPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// TCP connection could not be made.
        case connect
        /// TLS handshake or certificate verification failed, or STARTTLS was refused.
        case tls
        /// The server's bytes did not follow the protocol.
        case protocolViolation
        /// The server answered the command with NO or BAD.
        case commandFailed(IMAPStatus)
        /// The server sent more than an `IMAPLimits` bound allows.
        case limitExceeded
        /// A wait passed the endpoint's timeout.
        case timeout
        /// The server closed the connection or said BYE.
        case closed
        /// A password would have gone over a connection without TLS.
        case plaintextRefused
        /// The connection was unusable already, or the call does not fit the connection's state.
        case unusable
        /// An argument cannot be sent as given (a flag that is not an atom); nothing was sent.
        case invalidArgument
    }

    public var kind: Kind
    /// `host:port`
    public var server: String
    /// The command's name (`LOGIN`, `UID FETCH`), never its arguments.
    public var command: String?
    /// What the server said with NO, BAD or BYE.
    public var serverText: String?
    public var responseCode: IMAPResponseCode?
    /// What happened, in words.
    public var detail: String

    public init(
        _ kind: Kind, server: String, command: String? = nil, detail: String, serverText: String? = nil,
        responseCode: IMAPResponseCode? = nil
    ) {
        self.kind = kind
        self.server = server
        self.command = command
        self.detail = detail
        self.serverText = serverText
        self.responseCode = responseCode
    }

    public var description: String {
        var text = "IMAP \(server)"
        if let command { text += " \(command)" }
        text += ": \(detail)"
        if let responseCode { text += " [\(responseCode.name)]" }
        if let serverText, !serverText.isEmpty { text += " \"\(serverText)\"" }
        return text
    }
}
