/// The server side of one SMTP or LMTP connection as a value-type state machine.
///
/// The host feeds `Event`s and carries out the returned `Action`s in order; the machine never
/// does I/O. Two questions go to the host and come back as events, so the machine stays
/// synchronous and testable while the host may answer asynchronously:
/// - `checkRecipient` is answered by `.recipientChecked(decision)`,
/// - `finishMessage` (make the message durable) is answered by `.messageStored(result)`.
/// While either is open (`isWaitingForHost`) the host must not feed further commands: it keeps
/// pipelined bytes in the framer, which keeps replies in command order (RFC 2920 section 3.1).
/// `SMTPServerConnection` does this bookkeeping for a host.
public struct SMTPSession: Sendable {
    public enum Mode: Hashable, Sendable {
        /// RFC 5321 with the ESMTP extensions listed in the EHLO reply.
        case smtp
        /// RFC 2033: LHLO instead of HELO/EHLO, one reply per recipient after DATA.
        case lmtp
    }

    public struct Configuration: Hashable, Sendable {
        public var mode: Mode
        /// The server's name in the greeting and replies.
        public var hostname: String
        /// Largest message in octets, advertised as SIZE (RFC 1870).
        public var maximumMessageSize: Int
        /// Recipients per transaction; RFC 5321 4.5.3.1.8 asks for at least 100.
        public var maximumRecipients: Int
        /// Whether STARTTLS is offered (the host has a certificate).
        public var offersStartTLS: Bool
        /// Whether MAIL is refused (530 5.7.0) until STARTTLS has completed (RFC 3207 section 4). Only
        /// meaningful with `offersStartTLS`.
        public var requiresTLS: Bool
        /// Consecutive rejected commands before 421 and close.
        public var maximumConsecutiveErrors: Int
        /// Line limits and the DATA policies of the framer.
        public var framing: SMTPFramer.Options

        public init(
            mode: Mode = .smtp,
            hostname: String,
            maximumMessageSize: Int = SMTPLimits.defaultMaximumMessageSize,
            maximumRecipients: Int = SMTPLimits.minimumRecipients,
            offersStartTLS: Bool = false,
            requiresTLS: Bool = false,
            maximumConsecutiveErrors: Int = SMTPLimits.defaultMaximumConsecutiveErrors,
            framing: SMTPFramer.Options = .init()
        ) {
            precondition(maximumMessageSize > 0 && maximumRecipients > 0 && maximumConsecutiveErrors > 0)
            self.mode = mode
            self.hostname = hostname
            self.maximumMessageSize = maximumMessageSize
            self.maximumRecipients = maximumRecipients
            self.offersStartTLS = offersStartTLS
            self.requiresTLS = requiresTLS
            self.maximumConsecutiveErrors = maximumConsecutiveErrors
            self.framing = framing
        }
    }

    /// The host's answer to `checkRecipient`.
    public enum RecipientDecision: Hashable, Sendable {
        case accept
        /// For example `.userUnknown` (550 5.1.1) for users outside the migration set.
        case reject(SMTPReply)
    }

    /// The host's answer to `finishMessage`, for one recipient.
    public enum RecipientOutcome: Hashable, Sendable {
        case stored
        case failed(SMTPReply)
    }

    /// The host's answer to `finishMessage`.
    public enum StorageResult: Hashable, Sendable {
        /// Durable for every recipient (file fsynced and renamed, or the database committed).
        case stored(id: String?)
        /// Not stored for anyone, for example `.insufficientStorage` (452 4.3.1).
        case failed(SMTPReply)
        /// One outcome per accepted recipient in RCPT order (LMTP). In SMTP one reply covers the
        /// whole message: 250 if all stored, else the first failure.
        case perRecipient([RecipientOutcome])
    }

    public enum Event: Hashable, Sendable {
        case connectionOpened
        case command(SMTPCommand)
        /// The command line did not parse.
        case commandError(SMTPCommandParseError)
        /// The command line could not be framed (too long, bare CR).
        case framingError(SMTPFramingError)
        case recipientChecked(RecipientDecision)
        case content([UInt8])
        case endOfData(SMTPDataSummary)
        case messageStored(StorageResult)
        case tlsStarted
        /// Graceful shutdown: the transaction under way may finish; anything else gets 421.
        case shutdownRequested
        /// The client let the host's command or DATA timeout pass (RFC 5321 section 4.5.3.2): 421 and close.
        case timedOut
        case connectionClosed
    }

    public enum Action: Hashable, Sendable {
        case send(SMTPReply)
        /// Start the TLS handshake now (the 220 is already sent); then feed `.tlsStarted`.
        /// Discard any bytes received before the handshake.
        case startTLS
        /// Ask whether to accept this recipient; answer with `.recipientChecked`.
        case checkRecipient(SMTPForwardPath, SMTPEnvelope)
        /// DATA accepted: open a new message (temporary file) for this envelope.
        case beginMessage(SMTPEnvelope)
        /// Write these content bytes to the open message.
        case appendContent([UInt8])
        /// The message is complete: make it durable, then answer with `.messageStored`.
        case finishMessage(SMTPEnvelope, SMTPDataSummary)
        /// Discard the open message; never store any of it.
        case abortMessage
        /// Close the connection after sending what came before.
        case close
    }

    enum Phase: Hashable, Sendable {
        case notStarted
        case awaitingHello
        case ready
        case awaitingRecipientCheck(SMTPForwardPath, [SMTPParameter])
        case receivingData
        case awaitingStorage
        case awaitingTLS
        case closed
    }

    public let configuration: Configuration
    var phase: Phase = .notStarted
    var clientDomain: SMTPDomain?
    var transaction: SMTPEnvelope?
    var consecutiveErrors = 0
    public private(set) var isShuttingDown = false
    public private(set) var isTLSActive = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// An answer from the host (recipient check, storage, TLS handshake) is outstanding.
    public var isWaitingForHost: Bool {
        switch phase {
        case .awaitingRecipientCheck, .awaitingStorage, .awaitingTLS: return true
        default: return false
        }
    }

    /// The machine reads DATA content now.
    public var isReceivingData: Bool { phase == .receivingData }

    public var isClosed: Bool { phase == .closed }

    /// The machine can take the next framer event (a command line, or content in DATA).
    public var isReadyForInput: Bool {
        switch phase {
        case .awaitingHello, .ready, .receivingData: return true
        default: return false
        }
    }

    var hostname: String { configuration.hostname }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connectionOpened:
            guard phase == .notStarted else { return [] }
            if isShuttingDown { return close(with: .shuttingDown(hostname: hostname)) }
            phase = .awaitingHello
            return [.send(.greeting(hostname: hostname, mode: configuration.mode))]
        case .command(let command):
            return handleCommand(command)
        case .commandError(let error):
            guard acceptsCommands else { return [] }
            if isShuttingDown, transaction == nil { return close(with: .shuttingDown(hostname: hostname)) }
            return reject(error.reply)
        case .framingError(let error):
            guard acceptsCommands else { return [] }
            return reject(error.reply)
        case .recipientChecked(let decision):
            return recipientChecked(decision)
        case .content(let bytes):
            guard phase == .receivingData else { return [] }
            return [.appendContent(bytes)]
        case .endOfData(let summary):
            return endOfData(summary)
        case .messageStored(let result):
            return messageStored(result)
        case .tlsStarted:
            guard phase == .awaitingTLS else { return [] }
            // RFC 3207 section 4.2: forget everything learned before the handshake.
            isTLSActive = true
            clientDomain = nil
            transaction = nil
            phase = .awaitingHello
            return []
        case .shutdownRequested:
            isShuttingDown = true
            if acceptsCommands, transaction == nil { return close(with: .shuttingDown(hostname: hostname)) }
            return []
        case .timedOut:
            guard phase != .closed else { return [] }
            // A message half received is dropped; one whose final dot was read is the host's (awaitingStorage),
            // and the host does not time the client out while it stores.
            let wasReceiving = phase == .receivingData
            return (wasReceiving ? [.abortMessage] : []) + close(with: .timeout(hostname: hostname))
        case .connectionClosed:
            let wasReceiving = phase == .receivingData
            phase = .closed
            transaction = nil
            // A message whose final dot was read stays with the host (awaitingStorage): finishing
            // it may duplicate it when the client retries, but never loses it.
            return wasReceiving ? [.abortMessage] : []
        }
    }

    var acceptsCommands: Bool { phase == .awaitingHello || phase == .ready }

    mutating func close(with reply: SMTPReply) -> [Action] {
        phase = .closed
        transaction = nil
        return [.send(reply), .close]
    }

    /// A rejected command; too many in a row end the session.
    mutating func reject(_ reply: SMTPReply) -> [Action] {
        consecutiveErrors += 1
        if consecutiveErrors >= configuration.maximumConsecutiveErrors {
            return [.send(reply)] + close(with: .tooManyErrors(hostname: hostname))
        }
        return [.send(reply)]
    }

    mutating func succeed(_ reply: SMTPReply) -> [Action] {
        consecutiveErrors = 0
        return [.send(reply)]
    }

    var capabilities: [SMTPCapability] {
        var list: [SMTPCapability] = [
            .pipelining, .size(configuration.maximumMessageSize), .eightBitMIME, .enhancedStatusCodes,
        ]
        if configuration.offersStartTLS && !isTLSActive { list.append(.startTLS) }
        return list
    }

    mutating func handleCommand(_ command: SMTPCommand) -> [Action] {
        guard acceptsCommands else {
            // The host broke the contract (a command while DATA or a host answer is open).
            return phase == .closed ? [] : [.send(.localError)]
        }
        if isShuttingDown {
            let belongsToTransaction: Bool
            switch command {
            case .rcpt, .data: belongsToTransaction = transaction != nil
            case .quit: belongsToTransaction = true
            default: belongsToTransaction = false
            }
            if !belongsToTransaction { return close(with: .shuttingDown(hostname: hostname)) }
        }
        let lmtp = configuration.mode == .lmtp
        switch command {
        case .helo(let domain), .ehlo(let domain), .lhlo(let domain):
            let isLHLO: Bool
            if case .lhlo = command { isLHLO = true } else { isLHLO = false }
            guard isLHLO == lmtp else { return reject(.unrecognized(command.verb)) }
            // RFC 5321 section 4.1.4: a new EHLO resets the transaction.
            clientDomain = domain
            transaction = nil
            phase = .ready
            if case .helo = command { return succeed(.helo(hostname: hostname, clientDomain: domain)) }
            return succeed(.ehlo(hostname: hostname, clientDomain: domain, capabilities: capabilities))
        case .mail(let reversePath, let parameters):
            return mail(reversePath, parameters)
        case .rcpt(let forwardPath, let parameters):
            return rcpt(forwardPath, parameters)
        case .data:
            guard let transaction else { return reject(.badSequence("Need MAIL and RCPT before DATA")) }
            // RFC 5321 section 3.3 and RFC 2920 section 3.1: no accepted recipient, no DATA.
            guard !transaction.recipients.isEmpty else { return reject(.noValidRecipients) }
            phase = .receivingData
            consecutiveErrors = 0
            return [.send(.startMailInput), .beginMessage(transaction)]
        case .rset:
            transaction = nil
            return succeed(.resetOK)
        case .noop:
            return succeed(.ok)
        case .quit:
            phase = .closed
            transaction = nil
            return [.send(.closing(hostname: hostname)), .close]
        case .vrfy:
            return succeed(.cannotVerify)
        case .help:
            return succeed(.help)
        case .starttls:
            guard configuration.offersStartTLS else { return reject(.notImplemented("STARTTLS")) }
            guard !isTLSActive else { return reject(.badSequence("TLS already active")) }
            phase = .awaitingTLS
            consecutiveErrors = 0
            return [.send(.readyToStartTLS), .startTLS]
        }
    }

    /// Parameters MAIL accepts: SIZE and BODY (advertised), RET and ENVID (RFC 3461, kept untouched).
    static let mailParameterKeywords: Set<String> = ["SIZE", "BODY", "RET", "ENVID"]
    /// Parameters RCPT accepts: NOTIFY and ORCPT (RFC 3461, kept untouched).
    static let rcptParameterKeywords: Set<String> = ["NOTIFY", "ORCPT"]

    mutating func mail(_ reversePath: SMTPPath?, _ parameters: SMTPMailParameters) -> [Action] {
        guard let clientDomain else {
            return reject(.badSequence(configuration.mode == .lmtp ? "Send LHLO first" : "Send EHLO or HELO first"))
        }
        guard transaction == nil else { return reject(.badSequence("Sender already given; RSET first")) }
        // RFC 3207 section 4: a server that requires TLS answers 530 until the client has started it.
        if configuration.requiresTLS && !isTLSActive { return reject(.tlsRequired) }
        for parameter in parameters.all where !Self.mailParameterKeywords.contains(parameter.keyword) {
            return reject(.parameterNotRecognized(parameter.keyword))
        }
        if let size = parameters.size, size > configuration.maximumMessageSize {
            return reject(.messageTooBig(limit: configuration.maximumMessageSize))
        }
        transaction = SMTPEnvelope(
            clientDomain: clientDomain, reversePath: reversePath, mailParameters: parameters,
            mode: configuration.mode, overTLS: isTLSActive)
        return succeed(.senderOK)
    }

    mutating func rcpt(_ forwardPath: SMTPForwardPath, _ parameters: [SMTPParameter]) -> [Action] {
        guard let transaction else { return reject(.badSequence("Need MAIL before RCPT")) }
        for parameter in parameters where !Self.rcptParameterKeywords.contains(parameter.keyword) {
            return reject(.parameterNotRecognized(parameter.keyword))
        }
        // RFC 5321 section 4.5.3.1.10: 452 for recipients past the limit; the client retries them later.
        guard transaction.recipients.count < configuration.maximumRecipients else {
            return [.send(.tooManyRecipients)]
        }
        phase = .awaitingRecipientCheck(forwardPath, parameters)
        return [.checkRecipient(forwardPath, transaction)]
    }

    mutating func recipientChecked(_ decision: RecipientDecision) -> [Action] {
        guard case .awaitingRecipientCheck(let path, let parameters) = phase else { return [] }
        phase = .ready
        switch decision {
        case .accept:
            transaction?.recipients.append(path)
            transaction?.recipientParameters.append(parameters)
            return succeed(.recipientOK)
        case .reject(let reply):
            // A refused recipient is an answer, not a protocol error: it does not count toward 421.
            return [.send(reply)]
        }
    }

    mutating func endOfData(_ summary: SMTPDataSummary) -> [Action] {
        guard phase == .receivingData, let transaction else { return [] }
        guard let rejection = summary.rejection else {
            phase = .awaitingStorage
            return [.finishMessage(transaction, summary)]
        }
        let reply: SMTPReply
        switch rejection {
        case .tooLarge:
            reply = .messageTooBig(limit: summary.maximumSize)
        case .bareLineEnding:
            reply = .contentRejected("Message has bare CR or LF line ends (RFC 5321 section 2.3.8)")
        case .lineTooLong:
            reply = .contentRejected("Message has lines longer than 1000 octets (RFC 5321 section 4.5.3.1.6)")
        }
        return [.abortMessage] + completeTransaction(replies: replyPerRecipient(reply, transaction))
    }

    /// SMTP answers a message once; LMTP once per accepted recipient (RFC 2033 section 4.2).
    func replyPerRecipient(_ reply: SMTPReply, _ transaction: SMTPEnvelope) -> [SMTPReply] {
        configuration.mode == .lmtp ? Array(repeating: reply, count: transaction.recipients.count) : [reply]
    }

    mutating func messageStored(_ result: StorageResult) -> [Action] {
        guard phase == .awaitingStorage, let transaction else { return [] }
        var replies: [SMTPReply]
        switch result {
        case .stored(let id):
            replies = replyPerRecipient(.messageAccepted(id: id), transaction)
        case .failed(let reply):
            replies = replyPerRecipient(reply, transaction)
        case .perRecipient(let outcomes):
            let perRecipient = transaction.recipients.indices.map { index -> SMTPReply in
                guard index < outcomes.count else { return .localError }
                if case .failed(let reply) = outcomes[index] { return reply }
                return .messageAccepted(id: nil)
            }
            if configuration.mode == .lmtp {
                replies = perRecipient
            } else {
                replies = [perRecipient.first(where: { !$0.isPositive }) ?? .messageAccepted(id: nil)]
            }
        }
        return completeTransaction(replies: replies)
    }

    /// Sends the final replies of a transaction; during shutdown the session then ends.
    mutating func completeTransaction(replies: [SMTPReply]) -> [Action] {
        transaction = nil
        phase = .ready
        consecutiveErrors = 0
        var actions = replies.map(Action.send)
        if isShuttingDown { actions += close(with: .shuttingDown(hostname: hostname)) }
        return actions
    }
}
