/// One mail transaction as the session has accepted it so far.
public struct SMTPEnvelope: Hashable, Sendable {
    /// The HELO, EHLO or LHLO argument.
    public var clientDomain: SMTPDomain
    /// MAIL FROM; nil is the null reverse-path `<>` (bounces).
    public var reversePath: SMTPPath?
    public var mailParameters: SMTPMailParameters
    /// Accepted recipients in RCPT order; LMTP answers DATA once per entry, in this order.
    public var recipients: [SMTPForwardPath]
    /// The parameters of each accepted RCPT, parallel to `recipients`.
    public var recipientParameters: [[SMTPParameter]]
    public var mode: SMTPSession.Mode
    /// Whether the transaction ran inside TLS (STARTTLS completed).
    public var overTLS: Bool

    public init(
        clientDomain: SMTPDomain, reversePath: SMTPPath?, mailParameters: SMTPMailParameters = .init(),
        recipients: [SMTPForwardPath] = [], recipientParameters: [[SMTPParameter]] = [],
        mode: SMTPSession.Mode = .smtp, overTLS: Bool = false
    ) {
        self.clientDomain = clientDomain
        self.reversePath = reversePath
        self.mailParameters = mailParameters
        self.recipients = recipients
        self.recipientParameters = recipientParameters
        self.mode = mode
        self.overTLS = overTLS
    }
}
