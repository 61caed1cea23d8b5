/// What the server knows of a message besides its bytes.
public struct Envelope: Hashable, Codable, Sendable {
    /// The reverse-path (MAIL FROM) without angle brackets; "" for the null sender.
    public var sender: String
    /// In RCPT TO order; at least one, at most `SpoolLimits.recipientsPerMessage`.
    public var recipients: [Recipient]
    /// The message's own Message-ID (for loop avoidance: the server also adds a trace header); nil if none.
    public var messageID: String?

    public init(sender: String, recipients: [Recipient], messageID: String? = nil) {
        self.sender = sender
        self.recipients = recipients
        self.messageID = messageID
    }

    /// The distinct users, in first-recipient order.
    public var users: [String] {
        var seen = Set<String>()
        return recipients.map(\.user).filter { seen.insert($0).inserted }
    }

    package func validate() throws {
        if recipients.isEmpty { throw SpoolError.invalidEnvelope(reason: "no recipients") }
        if recipients.count > SpoolLimits.recipientsPerMessage {
            throw SpoolError.invalidEnvelope(
                reason: "\(recipients.count) recipients, more than \(SpoolLimits.recipientsPerMessage)")
        }
        if recipients.contains(where: { $0.user.isEmpty }) {
            throw SpoolError.invalidEnvelope(reason: "a recipient maps to an empty user name")
        }
    }
}
