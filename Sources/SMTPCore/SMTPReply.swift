/// A server reply (RFC 5321 section 4.2): a three-digit code, an optional enhanced status code
/// (RFC 3463, RFC 2034) and one or more text lines.
///
/// Text is sanitized when the reply is made: every character outside printable US-ASCII
/// (CR, LF, other controls, non-ASCII) becomes `?`, so text that quotes the client can never
/// inject a line or a second reply, and each line is cut to fit 512 octets (RFC 5321 4.5.3.1.5).
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public let code: Int
    public let enhancedStatusCode: SMTPEnhancedStatusCode?
    /// The sanitized text lines; never empty.
    public let lines: [String]

    public init(code: Int, enhancedStatusCode: SMTPEnhancedStatusCode? = nil, lines: [String]) {
        precondition((200...599).contains(code), "RFC 5321 section 4.2: reply codes are 2yz to 5yz")
        if let enhancedStatusCode {
            precondition(enhancedStatusCode.statusClass == code / 100, "RFC 3463: class matches the reply code")
        }
        self.code = code
        self.enhancedStatusCode = enhancedStatusCode
        let prefix = 4 + (enhancedStatusCode.map { $0.description.utf8.count + 1 } ?? 0)
        let room = SMTPLimits.replyLineLength - prefix - 2
        let given = lines.isEmpty ? [""] : lines
        self.lines = given.map { Self.sanitize($0, maximumLength: room) }
    }

    /// A one-line reply: `SMTPReply(550, .init(5, 1, 1), "User unknown")`.
    public init(_ code: Int, _ enhancedStatusCode: SMTPEnhancedStatusCode? = nil, _ text: String) {
        self.init(code: code, enhancedStatusCode: enhancedStatusCode, lines: [text])
    }

    /// Printable US-ASCII only, at most `maximumLength` octets.
    static func sanitize(_ text: String, maximumLength: Int) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < maximumLength else { break }
            result.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
            count += 1
        }
        return result
    }

    /// 2yz.
    public var isPositive: Bool { code < 300 }
    /// 4yz.
    public var isTransientFailure: Bool { code >= 400 && code < 500 }
    /// 5yz.
    public var isPermanentFailure: Bool { code >= 500 }

    /// The reply on the wire: `250-first`, ..., `250 last`, each line ending in CRLF.
    public func encode(into buffer: inout [UInt8]) {
        for (index, text) in lines.enumerated() {
            buffer.append(contentsOf: String(code).utf8)
            buffer.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhancedStatusCode {
                buffer.append(contentsOf: enhancedStatusCode.description.utf8)
                if !text.isEmpty { buffer.append(UInt8(ascii: " ")) }
            }
            buffer.append(contentsOf: text.utf8)
            buffer.append(contentsOf: [13, 10])
        }
    }

    /// The encoded reply.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// The encoded reply as text, CRLFs included.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

// MARK: - The replies the buffer sends

extension SMTPReply {
    /// 220 greeting (RFC 5321 section 4.3.1); no enhanced code on the greeting (RFC 2034 section 3).
    public static func greeting(hostname: String, mode: SMTPSession.Mode = .smtp) -> SMTPReply {
        SMTPReply(220, nil, "\(hostname) \(mode == .lmtp ? "LMTP" : "ESMTP") MailFerry buffer ready")
    }

    /// 221 on QUIT.
    public static func closing(hostname: String) -> SMTPReply {
        SMTPReply(221, .init(2, 0, 0), "\(hostname) closing connection")
    }

    /// 250 for HELO: one line, no extensions, no enhanced code.
    public static func helo(hostname: String, clientDomain: SMTPDomain) -> SMTPReply {
        SMTPReply(250, nil, "\(hostname) greets \(clientDomain)")
    }

    /// 250 for EHLO and LHLO: the greeting line, then one line per capability
    /// (RFC 5321 section 4.1.1.1); no enhanced code here (RFC 2034 section 3).
    public static func ehlo(hostname: String, clientDomain: SMTPDomain, capabilities: [SMTPCapability]) -> SMTPReply {
        SMTPReply(code: 250, lines: ["\(hostname) greets \(clientDomain)"] + capabilities.map(\.keywordLine))
    }

    /// 250 2.0.0 for NOOP, RSET and similar.
    public static let ok = SMTPReply(250, .init(2, 0, 0), "OK")
    /// 250 2.0.0 after RSET.
    public static let resetOK = SMTPReply(250, .init(2, 0, 0), "Reset OK")
    /// 250 2.1.0 after MAIL FROM.
    public static let senderOK = SMTPReply(250, .init(2, 1, 0), "Sender OK")
    /// 250 2.1.5 after RCPT TO.
    public static let recipientOK = SMTPReply(250, .init(2, 1, 5), "Recipient OK")
    /// 250 2.0.0 after the message is durable (RFC 5321 section 6.1: it must not be lost after this).
    public static func messageAccepted(id: String? = nil) -> SMTPReply {
        SMTPReply(250, .init(2, 0, 0), id.map { "OK: stored as \($0)" } ?? "OK: message stored")
    }
    /// 252 2.5.0 for VRFY: the server does not verify but will accept (RFC 5321 section 3.5.3).
    public static let cannotVerify = SMTPReply(252, .init(2, 5, 0), "Cannot VRFY user, but will accept message")
    /// 214 2.0.0 for HELP.
    public static let help = SMTPReply(
        214, .init(2, 0, 0), "Commands: EHLO HELO LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS")

    /// 220 2.0.0 before the TLS handshake (RFC 3207 section 4).
    public static let readyToStartTLS = SMTPReply(220, .init(2, 0, 0), "Ready to start TLS")
    /// 354 after DATA (no enhanced code on the intermediate reply).
    public static let startMailInput = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")

    /// 421 4.3.2: the server is shutting down (RFC 5321 section 3.8).
    public static func shuttingDown(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 3, 2), "\(hostname) service shutting down, closing connection")
    }
    /// 421 4.4.2: the client sent no complete command, or no DATA progress, within the server's timeout
    /// (RFC 5321 section 4.5.3.2).
    public static func timeout(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 4, 2), "\(hostname) timeout exceeded, closing connection")
    }
    /// 421 4.7.0: too many errors in this session.
    public static func tooManyErrors(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 7, 0), "\(hostname) too many errors, closing connection")
    }
    /// 450 4.2.1: mailbox temporarily unavailable.
    public static let mailboxBusy = SMTPReply(450, .init(4, 2, 1), "Mailbox temporarily unavailable, try again later")
    /// 451 4.3.0: local error in processing.
    public static let localError = SMTPReply(451, .init(4, 3, 0), "Local error in processing, try again later")
    /// 451 4.3.0: the spool's database did not take the message (a shared spool whose database is unreachable).
    public static let spoolUnavailable = SMTPReply(
        451, .init(4, 3, 0), "Spool database unavailable, message not stored; try again later")
    /// 421 4.3.0: at the greeting, while the spool's database does not answer.
    public static func spoolUnavailable(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 3, 0), "\(hostname) spool database unavailable, try again later")
    }
    /// 452 4.3.1: insufficient system storage.
    public static let insufficientStorage = SMTPReply(452, .init(4, 3, 1), "Insufficient system storage")
    /// 452 4.5.3: too many recipients (RFC 5321 section 4.5.3.1.10).
    public static let tooManyRecipients = SMTPReply(452, .init(4, 5, 3), "Too many recipients")

    /// 500 5.5.2: the line could not be read as a command (too long, bare CR).
    public static func badCommandLine(_ reason: String) -> SMTPReply { SMTPReply(500, .init(5, 5, 2), reason) }
    /// 500 5.5.1: command unrecognized (also a verb of the other mode, LHLO in SMTP or EHLO in LMTP).
    public static func unrecognized(_ verb: String) -> SMTPReply {
        SMTPReply(500, .init(5, 5, 1), "Command not recognized: \(verb)")
    }
    /// 501 5.5.4: syntax error in parameters or arguments.
    public static func syntaxError(_ reason: String) -> SMTPReply { SMTPReply(501, .init(5, 5, 4), reason) }
    /// 502 5.5.1: command not implemented.
    public static func notImplemented(_ verb: String) -> SMTPReply {
        SMTPReply(502, .init(5, 5, 1), "Command not implemented: \(verb)")
    }
    /// 503 5.5.1: bad sequence of commands.
    public static func badSequence(_ reason: String) -> SMTPReply { SMTPReply(503, .init(5, 5, 1), reason) }
    /// 530 5.7.0: this listener requires TLS and the client has not started it (RFC 3207 section 4).
    public static let tlsRequired = SMTPReply(530, .init(5, 7, 0), "Must issue a STARTTLS command first")
    /// 550 5.1.1: the recipient is not a user this buffer accepts mail for.
    public static let userUnknown = SMTPReply(550, .init(5, 1, 1), "User unknown")
    /// 552 5.3.4: the message exceeds the size limit (RFC 1870).
    public static func messageTooBig(limit: Int) -> SMTPReply {
        SMTPReply(552, .init(5, 3, 4), "Message size exceeds fixed maximum of \(limit) octets")
    }
    /// 554 5.5.1: DATA with no valid recipients (RFC 5321 section 3.3).
    public static let noValidRecipients = SMTPReply(554, .init(5, 5, 1), "No valid recipients")
    /// 554 5.6.0: message content refused (bare LF or over-long lines under a rejecting policy).
    public static func contentRejected(_ reason: String) -> SMTPReply { SMTPReply(554, .init(5, 6, 0), reason) }
    /// 555 5.5.4: MAIL or RCPT parameter not recognized (RFC 5321 section 4.1.1.11).
    public static func parameterNotRecognized(_ keyword: String) -> SMTPReply {
        SMTPReply(555, .init(5, 5, 4), "Parameter not recognized or not implemented: \(keyword)")
    }
}
