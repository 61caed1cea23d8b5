/// Why a ManageSieve operation failed: what kind of failure, with which server, during which command. The kinds are
/// IMAP's (`IMAPError.Kind`), since the transport, TLS and the rules for servers are shared. The description never
/// holds a password or a script; server text is included with the password taken out.
public struct ManageSieveError: Error, Sendable, CustomStringConvertible {
    public var kind: IMAPError.Kind
    /// `host:port`
    public var server: String
    /// The command's name (`PUTSCRIPT`), never its arguments.
    public var command: String?
    public var detail: String
    /// What the server said with NO or BYE.
    public var serverText: String?
    /// The response code's name (`QUOTA/MAXSIZE`, `NONEXISTENT`), uppercased.
    public var responseCode: String?

    public init(
        _ kind: IMAPError.Kind, server: String, command: String? = nil, detail: String, serverText: String? = nil,
        responseCode: String? = nil
    ) {
        self.kind = kind
        self.server = server
        self.command = command
        self.detail = detail
        self.serverText = serverText
        self.responseCode = responseCode
    }

    public var description: String {
        var text = "ManageSieve \(server)"
        if let command { text += " \(command)" }
        text += ": \(detail)"
        if let responseCode { text += " [\(responseCode)]" }
        if let serverText, !serverText.isEmpty { text += " \"\(serverText)\"" }
        return text
    }
}
