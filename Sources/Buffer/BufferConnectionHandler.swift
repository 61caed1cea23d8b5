import BufferSpool
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SMTPCore

/// Sent down a connection's pipeline when the server shuts down gracefully.
struct BufferShutdownEvent: Sendable {}

/// One SMTP or LMTP connection: feeds the bytes read to `SMTPServerConnection` and carries out its actions.
///
/// Everything here runs on the channel's event loop. Spool work (file writes, fsync, the SQLite commit) goes to
/// the connection's `SpoolWorker` task; its reports come back on the loop through `NIOLoopBound`. The channel
/// runs with autoRead off: the handler asks for more bytes only while the session can take them (not while it
/// waits for the spool, not while too much content is queued for the writer), which is the backpressure.
final class BufferConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where the message of the current transaction stands.
    private enum MessageState {
        case idle
        /// DATA started; the header section is being collected.
        case scanning(HeaderScanner, sender: String, recipients: [Recipient], trace: TraceHeader)
        /// The writer is open; content goes to the worker. The scanner is there while the header section goes
        /// on past what was kept in memory (its late Message-ID and loop markers count at the end of DATA).
        case streaming(HeaderScanner?)
        /// The message will be refused at the end of DATA with this reply; content is dropped.
        case refusing(SMTPReply)
        /// `commit` was sent; the worker's `.finished` is awaited.
        case committing
    }

    private let configuration: BufferConfiguration
    private let spool: any SpoolStore
    private let telemetry: BufferTelemetry
    /// The transaction between DATA and its final reply, for its log line.
    private var transaction: TransactionRecord?
    private var connection: SMTPServerConnection
    private let mode: SMTPSession.Mode
    /// The listener's TLS context when it offers STARTTLS.
    private let tlsContext: NIOSSLContext?
    private var commands: AsyncStream<SpoolWorker.Command>.Continuation?
    private var context: ChannelHandlerContext?
    private var clientAddress: String?
    private var message = MessageState.idle
    /// Bytes sent to the worker and not yet reported written.
    private var pendingWriteBytes = 0
    private var readRequested = false
    private var isClosed = false
    /// RFC 5321 section 4.5.3.2's timeouts: the client must send a complete command within `[limits]
    /// command_timeout` of the last reply, and in DATA the next `dataProgressBytes` within `data_timeout`. The
    /// timer runs whenever the client is the one to act; it stops while the spool commits a message.
    private var timeout: Scheduled<Void>?
    /// Content octets read since the DATA timer last started.
    private var dataProgress = 0

    init(
        configuration: BufferConfiguration, sessionConfiguration: SMTPSession.Configuration, tlsContext: NIOSSLContext?,
        spool: any SpoolStore, telemetry: BufferTelemetry
    ) {
        self.configuration = configuration
        self.telemetry = telemetry
        self.tlsContext = tlsContext
        self.spool = spool
        self.mode = sessionConfiguration.mode
        connection = SMTPServerConnection(configuration: sessionConfiguration)
    }

    /// Connects the handler to its spool worker; called once, on the event loop, before the channel is active.
    func attach(commands: AsyncStream<SpoolWorker.Command>.Continuation) {
        self.commands = commands
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timeout?.cancel()
        commands?.finish()
    }

    func channelActive(context: ChannelHandlerContext) {
        clientAddress = context.remoteAddress?.ipAddress
        carryOut(connection.start())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if !isClosed {
            isClosed = true
            carryOut(connection.handle(.connectionClosed))
        }
        // The worker finishes what was sent (a commit under way completes) and ends.
        commands?.finish()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !isClosed, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        if connection.session.isReceivingData {
            dataProgress += bytes.count
            if dataProgress >= BufferDefaults.dataProgressBytes { restartTimeout() }
        }
        carryOut(connection.receive(bytes))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readRequested = false
        context.flush()
        readIfReady()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is BufferShutdownEvent {
            if !isClosed { carryOut(connection.handle(.shutdownRequested)) }
        } else if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            // RFC 3207 section 4.2: the session starts over (EHLO again); STARTTLS is no longer offered.
            // The read that brought the handshake may never report its completion to this handler (the TLS
            // handler consumed it), so ask for the next bytes afresh.
            readRequested = false
            if !isClosed {
                restartTimeout()  // a new session: EHLO is due within the command timeout
                carryOut(connection.handle(.tlsStarted))
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // One connection's failure (reset by peer, a write to a closed socket) ends that connection only.
        isClosed = true
        context.close(promise: nil)
    }

    // MARK: - Reports from the spool worker (on the event loop)

    func workerReported(_ report: SpoolWorker.Report) {
        switch report {
        case .written(let count):
            pendingWriteBytes -= count
            updateTimeout(restart: false)
            readIfReady()
        case .finished(let result, let stored):
            guard case .committing = message else { return }
            message = .idle
            transaction?.stored = stored
            guard !isClosed else {
                // The client left before its reply; a message stored all the same is in the spool and is logged
                // (code "none"): the client will likely send it again.
                if let record = transaction, record.stored != nil { record.finish(telemetry) }
                transaction = nil
                return
            }
            carryOut(connection.handle(.messageStored(result)))
        }
    }

    // MARK: - Actions

    /// Carries out the session's actions in order: replies are collected and written with one flush.
    private func carryOut(_ actions: [SMTPSession.Action]) {
        guard let context else { return }
        var queue = actions[...]
        var output = context.channel.allocator.buffer(capacity: 256)
        var close = false
        var startTLS = false
        let wasReceivingData = connection.session.isReceivingData
        defer { updateTimeout(restart: output.readableBytes > 0 || wasReceivingData != connection.session.isReceivingData) }
        while let action = queue.popFirst() {
            switch action {
            case .send(let reply):
                output.writeBytes(reply.bytes)
                observe(reply)
            case .startTLS:
                // The session asks for it only when the listener offers STARTTLS, which needs a context.
                if tlsContext != nil { startTLS = true } else { close = true }
            case .close:
                close = true
            case .checkRecipient(let path, _):
                // The RCPT check reads the spool's in-memory set: answered at once.
                let decision = decide(path)
                if case .reject(let reply) = decision { logRefusedRecipient(path, reply) }
                queue = connection.handle(.recipientChecked(decision))[...] + queue
            case .beginMessage(let envelope):
                transaction = TransactionRecord(
                    mode: mode, clientAddress: clientAddress, sender: envelope.reversePath?.address ?? "",
                    recipients: envelope.recipients.map(Self.loggedAddress))
                beginMessage(envelope)
            case .appendContent(let bytes):
                transaction?.size += bytes.count
                appendContent(bytes)
            case .finishMessage(_, let summary):
                transaction?.size = summary.size
                if let result = finishMessage() {
                    queue = connection.handle(.messageStored(result))[...] + queue
                }
            case .abortMessage:
                if case .streaming = message { commands?.yield(.abort) }
                message = .idle
            }
        }
        if output.readableBytes > 0 {
            context.write(wrapOutboundOut(output), promise: nil)
        }
        if startTLS, !close, let tlsContext {
            // The 220 goes out in plaintext first; then the TLS handler takes the front of the pipeline, so every
            // byte read from now on is the handshake. Pipelined plaintext after STARTTLS was dropped by the
            // framer. The reads the handshake needs are issued here and by the TLS handler (autoRead is off);
            // `.handshakeCompleted` resumes the session, and a failed handshake closes this connection only.
            context.flush()
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            } catch {
                isClosed = true
                context.close(promise: nil)
                return
            }
            context.read()
        } else if close {
            isClosed = true
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                // The FIN first: NIO's accepted sockets are not close-on-exec, so a child process spawned meanwhile
                // may hold a copy of this one, and close() alone sends nothing while a copy is open.
                context.close(mode: .output, promise: nil)
                context.close(promise: nil)
            }
        } else {
            if output.readableBytes > 0 { context.flush() }
            readIfReady()
        }
    }

    // MARK: - Telemetry

    /// Counts a refusing reply, and ends the open transaction's record once its final replies are out.
    private func observe(_ reply: SMTPReply) {
        if let reason = RefusalReason(reply: reply) { telemetry.metrics.refused(reason) }
        guard var record = transaction else { return }
        transaction = nil
        if record.answered(with: reply) {
            record.finish(telemetry)
        } else {
            transaction = record
        }
    }

    /// A refused RCPT gets a line of its own: no transaction follows when every recipient was refused.
    private func logRefusedRecipient(_ path: SMTPForwardPath, _ reply: SMTPReply) {
        var metadata: Logger.Metadata = [
            "protocol": .string(mode == .lmtp ? "lmtp" : "smtp"), "recipient": .string(Self.loggedAddress(path)),
            "code": .string(String(reply.code)),
        ]
        if let clientAddress { metadata["client"] = .string(clientAddress) }
        telemetry.logger.notice("recipient refused", metadata: metadata)
    }

    /// A recipient as logged: the address without angle brackets.
    static func loggedAddress(_ path: SMTPForwardPath) -> String {
        if case .mailbox(let mailbox) = path { return mailbox.address }
        return "Postmaster"
    }

    // MARK: - Timeouts

    /// Whether the connection waits for the client: not while the spool commits a message, nor while reading is
    /// held back because the spool writer is behind (those waits are ours, not the client's).
    private var waitsForClient: Bool {
        if isClosed { return false }
        if case .committing = message { return false }
        return pendingWriteBytes <= BufferDefaults.pendingWriteLimit
            && connection.framer.bufferedByteCount <= BufferDefaults.bufferedInputLimit
    }

    /// The timer runs only while the connection waits for the client; it starts again with each reply (a
    /// command was complete) and when DATA begins or ends (`restart`), and after a wait of ours.
    private func updateTimeout(restart: Bool) {
        guard waitsForClient else {
            timeout?.cancel()
            timeout = nil
            return
        }
        if restart || timeout == nil { restartTimeout() }
    }

    private func restartTimeout() {
        timeout?.cancel()
        timeout = nil
        dataProgress = 0
        guard let context, !isClosed else { return }
        let seconds = connection.session.isReceivingData ? configuration.limits.dataTimeout : configuration.limits.commandTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(seconds))) { [self] in
            guard !isClosed else { return }
            carryOut(connection.handle(.timedOut))
        }
    }

    /// Asks the channel for more bytes unless the session waits for the spool or the writer is behind.
    private func readIfReady() {
        guard let context, !isClosed, !readRequested else { return }
        if connection.session.isWaitingForHost { return }
        if case .committing = message { return }
        if pendingWriteBytes > BufferDefaults.pendingWriteLimit { return }
        if connection.framer.bufferedByteCount > BufferDefaults.bufferedInputLimit { return }
        readRequested = true
        context.read()
    }

    // MARK: - Recipients

    /// The held user a recipient stands for, or nil. Accepted: `alice@NAMESPACE` for the held user
    /// `alice@example.com`, and the held address itself (an MTA delivering over LMTP gives the real address).
    /// The domain is compared without case; the local part as given, then lower-cased.
    func heldUser(for path: SMTPForwardPath) -> String? {
        guard case .mailbox(let mailbox) = path else { return nil }
        let address = mailbox.localPart + "@" + mailbox.domain.description.lowercased()
        let mapped = configuration.heldAddress(for: address) ?? address
        for candidate in [mapped, mapped.lowercased()] where spool.acceptsMail(for: candidate) {
            return candidate
        }
        return nil
    }

    private func decide(_ path: SMTPForwardPath) -> SMTPSession.RecipientDecision {
        if heldUser(for: path) != nil { return .accept }
        if case .postmaster = path {
            return .reject(
                SMTPReply(550, .init(5, 1, 1), "This buffer holds mail for migrating users only; no postmaster here"))
        }
        return .reject(SMTPReply(550, .init(5, 1, 1), "\(path): user unknown (not in the migration set)"))
    }

    // MARK: - The message

    private func beginMessage(_ envelope: SMTPEnvelope) {
        var recipients: [Recipient] = []
        for path in envelope.recipients {
            guard let user = heldUser(for: path) else {
                // Taken out of the migration set between RCPT and DATA: try again later.
                message = .refusing(.localError)
                return
            }
            let address: String
            if case .mailbox(let mailbox) = path { address = mailbox.address } else { address = "Postmaster" }
            recipients.append(Recipient(address: address, user: user))
        }
        let trace = TraceHeader(
            clientDomain: envelope.clientDomain.description, clientAddress: clientAddress,
            hostname: configuration.hostname, mode: mode, overTLS: envelope.overTLS, date: Date())
        message = .scanning(
            HeaderScanner(limit: BufferDefaults.headerScanLimit), sender: envelope.reversePath?.address ?? "",
            recipients: recipients, trace: trace)
    }

    private func appendContent(_ bytes: [UInt8]) {
        switch message {
        case .scanning(var scanner, let sender, let recipients, let trace):
            // The state lets go of the scanner first, so appending does not copy its buffer.
            message = .idle
            if let scanned = scanner.append(bytes) {
                startStoring(scanned, scanner: scanner, sender: sender, recipients: recipients, trace: trace)
            } else {
                message = .scanning(scanner, sender: sender, recipients: recipients, trace: trace)
            }
        case .streaming(var scanner):
            pendingWriteBytes += bytes.count
            commands?.yield(.append(bytes))
            if scanner != nil {
                message = .streaming(nil)
                _ = scanner!.append(bytes)
                message = .streaming(scanner)
            }
        case .idle, .refusing, .committing:
            break
        }
    }

    private func startStoring(
        _ scanned: HeaderScanner.Result, scanner: HeaderScanner, sender: String, recipients: [Recipient],
        trace: TraceHeader
    ) {
        // RFC 5321 section 6.3: a message that already passed through this buffer is looping.
        if isLoop(scanned.bufferedMarkers) {
            message = .refusing(loopReply)
            return
        }
        let prefix = trace.bytes + scanned.collected
        pendingWriteBytes += prefix.count
        commands?.yield(
            .open(Envelope(sender: sender, recipients: recipients, messageID: scanned.messageID), prefix: prefix))
        message = .streaming(scanned.isHeaderComplete ? nil : scanner)
    }

    private func isLoop(_ markers: [String]) -> Bool {
        markers.contains { $0.lowercased() == configuration.hostname.lowercased() }
    }

    private var loopReply: SMTPReply {
        SMTPReply(554, .init(5, 4, 6), "Routing loop detected: already buffered by \(configuration.hostname)")
    }

    /// The final dot was read. Returns the storage result at once when there is nothing to commit.
    private func finishMessage() -> SMTPSession.StorageResult? {
        if case .scanning(var scanner, let sender, let recipients, let trace) = message {
            message = .idle
            startStoring(scanner.finish(), scanner: scanner, sender: sender, recipients: recipients, trace: trace)
        }
        switch message {
        case .refusing(let reply):
            message = .idle
            return .failed(reply)
        case .streaming(let scanner):
            if var scanner {
                // The header section went on past the in-memory limit: what it held beyond counts too.
                _ = scanner.finish()
                if isLoop(scanner.bufferedMarkers) {
                    commands?.yield(.abort)
                    message = .idle
                    return .failed(loopReply)
                }
                if let messageID = scanner.messageID { commands?.yield(.setMessageID(messageID)) }
            }
            message = .committing
            commands?.yield(.commit)
            return nil
        case .idle, .scanning, .committing:
            message = .idle
            return .failed(.localError)
        }
    }
}

@available(*, unavailable)
extension BufferConnectionHandler: Sendable {}
