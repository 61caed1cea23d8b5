import SMTPCore

/// What can go wrong talking LMTP. Server refusals carry the server's reply text.
public enum LMTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Connecting, reading or writing failed (errno text).
    case connection(String)
    /// The server closed the connection or timed out.
    case closed(String)
    /// The server said no: which step, and its reply.
    case refused(step: String, reply: SMTPClientReply)
    /// The server sent something that is not LMTP.
    case protocolViolation(String)
    /// The server did not complete a reply, or take what was sent, in time.
    case stalled(String)

    public var description: String {
        switch self {
        case .connection(let text): return text.hasPrefix("cannot connect") ? text : "LMTP connection failed: \(text)"
        case .closed(let text): return "LMTP server closed the connection \(text)"
        case .refused(let step, let reply): return "LMTP server refused \(step): \(reply)"
        case .protocolViolation(let text): return "LMTP server sent something unexpected: \(text)"
        case .stalled(let text): return "LMTP server stalled: \(text)"
        }
    }

    /// A 5xx refusal: trying again will not help.
    public var isPermanent: Bool {
        if case .refused(_, let reply) = self { return reply.code >= 500 }
        return false
    }
}
