import BufferSpool
import Logging
import SMTPCore

/// One SMTP or LMTP transaction from DATA to its final reply: what its log line and counters say. Holds the
/// envelope's addresses and counts, never the content.
struct TransactionRecord {
    let mode: SMTPSession.Mode
    let clientAddress: String?
    let sender: String
    /// The accepted recipients, as the client gave them.
    let recipients: [String]
    let started = ContinuousClock.now
    /// Content octets received (after dot-unstuffing); the framer's count once DATA ended.
    var size = 0
    /// The spool's record once the message is durable.
    var stored: HeldMessage?
    private(set) var replies: [SMTPReply] = []

    init(mode: SMTPSession.Mode, clientAddress: String?, sender: String, recipients: [String]) {
        self.mode = mode
        self.clientAddress = clientAddress
        self.sender = sender
        self.recipients = recipients
    }

    /// The hash prefix logged: enough to find the message in `buffer status --json` or a release report, short
    /// enough to read.
    static let hashPrefixLength = 12

    /// Takes one reply sent after DATA; true once the transaction is answered: one reply in SMTP, one per
    /// recipient in LMTP (RFC 2033 section 4.2), or a 421 that ends the session.
    mutating func answered(with reply: SMTPReply) -> Bool {
        replies.append(reply)
        return reply.code == 421 || replies.count >= (mode == .lmtp ? recipients.count : 1)
    }

    /// Writes the transaction's log line and counts it as accepted when stored (and not answered negatively).
    func finish(_ telemetry: BufferTelemetry) {
        let elapsed = ContinuousClock.now - started
        let codes = replies.map { String($0.code) }
        var metadata: Logger.Metadata = [
            "protocol": .string(mode == .lmtp ? "lmtp" : "smtp"),
            "from": .string(sender.isEmpty ? "<>" : sender),
            "recipients": .array(recipients.map { .string($0) }),
            "size": .stringConvertible(size),
            // LMTP answers each recipient; they are the same here unless the session ended midway.
            "code": .string(Set(codes).count <= 1 ? (codes.first ?? "none") : codes.joined(separator: ",")),
            "duration_ms": .stringConvertible(Double(BufferMetrics.nanoseconds(elapsed) / 1000) / 1000),
        ]
        if let clientAddress { metadata["client"] = .string(clientAddress) }
        if let stored {
            metadata["queue_id"] = .string(stored.id.description)
            metadata["sha256"] = .string(String(stored.sha256.prefix(Self.hashPrefixLength)))
        }
        // Stored is accepted: also when the client left before its 250 (no reply), the message is in the spool.
        let accepted = stored != nil && (replies.isEmpty || replies.contains { $0.isPositive })
        if accepted { telemetry.metrics.accepted(bytes: size) }
        telemetry.logger.log(level: accepted ? .info : .notice, "transaction", metadata: metadata)
    }
}
