import SMTPCore

/// Why the buffer refused a recipient or a message, as the `reason` label of `mailferry_buffer_refused_total`.
/// Read off the reply the client gets, so every refusal path counts without each one reporting itself.
enum RefusalReason: String, CaseIterable, Sendable {
    /// 550 5.1.1: the recipient is not a held user (or is postmaster).
    case unknownRecipient = "unknown_recipient"
    /// 452 4.5.3: past the recipients a message may have.
    case tooManyRecipients = "too_many_recipients"
    /// 552 5.3.4: larger than `[limits] message_size` (at MAIL SIZE= or at the end of DATA).
    case messageTooBig = "message_too_big"
    /// 554 5.6.0: bare line ends or over-long lines.
    case contentRejected = "content_rejected"
    /// 554 5.4.6: the message already passed through this buffer.
    case routingLoop = "routing_loop"
    /// 452 4.3.1: the spool's disk is full.
    case spoolFull = "spool_full"
    /// 530 5.7.0: MAIL before STARTTLS where TLS is required.
    case tlsRequired = "tls_required"
    /// 451 4.3.0: the spool failed, or a user was taken out of the set between RCPT and DATA.
    case temporaryFailure = "temporary_failure"

    /// The reason for a refusing reply to MAIL, RCPT or the end of DATA; nil for any other reply (positive, a
    /// syntax or sequence error, 421 at shutdown or timeout), which refuses no mail.
    init?(reply: SMTPReply) {
        guard !reply.isPositive else { return nil }
        let enhanced = reply.enhancedStatusCode?.description
        switch (reply.code, enhanced) {
        case (550, _): self = .unknownRecipient
        case (452, "4.5.3"): self = .tooManyRecipients
        case (552, _): self = .messageTooBig
        case (554, "5.4.6"): self = .routingLoop
        case (554, _): self = .contentRejected
        case (452, "4.3.1"): self = .spoolFull
        case (530, _): self = .tlsRequired
        case (451, _): self = .temporaryFailure
        default: return nil
        }
    }
}
