import Foundation
import IMAPCore
import MailModel
import NIOCore
import NIOPosix
import NIOSSL

/// The response engine: sends commands, routes what the server sends back through IMAPCore's state machine,
/// waits with the endpoint's timeout, and turns failures into `IMAPError`s.
extension IMAPConnection {
    /// Sends `command`, collects the untagged data that arrives until its tagged response, and returns that.
    @discardableResult
    func run(_ command: IMAPCommand, untagged: (IMAPUntaggedResponse) -> Void = { _ in }) throws -> IMAPTaggedResponse {
        let encoded = try encodeAndRecord(command)
        for part in encoded.parts {
            switch part {
            case .data(let bytes):
                try write(bytes, command: command.name)
            case .awaitContinuation:
                if try !awaitContinuation(for: encoded.tag, command: command.name, untagged: untagged) {
                    return try awaitCompletion(of: encoded.tag, command: command.name, untagged: untagged)
                }
            case .messageBytes:
                preconditionFailure("APPEND goes through beginAppend or beginMultiAppend, not run")
            }
        }
        return try awaitCompletion(of: encoded.tag, command: command.name, untagged: untagged)
    }

    /// Sends a command whose responses the caller reads itself; returns its tag.
    func send(_ command: IMAPCommand) throws -> String {
        let encoded = try encodeAndRecord(command)
        for part in encoded.parts {
            guard case .data(let bytes) = part else {
                throw IMAPError(.unusable, server: server, command: command.name, detail: "needs a continuation")
            }
            try write(bytes, command: command.name)
        }
        return encoded.tag
    }

    func encodeAndRecord(_ command: IMAPCommand) throws -> IMAPEncodedCommand {
        guard isUsable else {
            if !broken && machine.state != .logout {
                // The connection went away by itself: the hand-off knows why (a TLS failure, the server closing).
                let end = Date().addingTimeInterval(1)
                while true { try accept(queue.take(until: end), command: command.name) }
            }
            throw IMAPError(
                .unusable, server: server, command: command.name, detail: "the connection is no longer usable")
        }
        restartProgressWindow()
        var encoder = IMAPCommandEncoder(capabilities: capabilities)
        if let literalModeOverride { encoder.literalMode = literalModeOverride }
        let encoded = encoder.encode(command, tag: tags.next())
        guard machine.send(command, encoded: encoded) else {
            throw IMAPError(
                .unusable, server: server, command: command.name, detail: "not allowed in state \(machine.state)")
        }
        return encoded
    }

    /// Waits for the continuation request for `tag`; false if the command completed (NO/BAD) instead.
    func awaitContinuation(for tag: String, command: String, untagged: (IMAPUntaggedResponse) -> Void = { _ in })
        throws -> Bool
    {
        while true {
            if completed[tag] != nil { return false }
            let (event, route) = try nextRoutedEvent(command: command)
            if case .continuation(let forTag) = route, forTag == tag { return true }
            if case .untagged(let response) = event { untagged(response) }
        }
    }

    func awaitCompletion(of tag: String, command: String, untagged: (IMAPUntaggedResponse) -> Void = { _ in })
        throws -> IMAPTaggedResponse
    {
        while true {
            if let response = completed.removeValue(forKey: tag) { return response }
            let (event, _) = try nextRoutedEvent(command: command)
            switch event {
            case .untagged(let response): untagged(response)
            case .fetchBodyStart: try skipBody()
            default: break
            }
        }
    }

    /// Reads one event, routes it through the state machine and does what every event needs: tagged responses are
    /// filed under their tag, capabilities updated, BYE noted.
    func nextRoutedEvent(command: String, until end: Date? = nil) throws -> (
        IMAPResponseEvent, IMAPClientStateMachine.Route
    ) {
        let event = try nextEvent(command: command, until: end ?? deadline)
        return (event, try route(event, command: command))
    }

    func route(_ event: IMAPResponseEvent, command: String) throws -> IMAPClientStateMachine.Route {
        let route = machine.receive(event)
        switch route {
        case .completed(let response, _):
            completed[response.tag] = response
        case .violation(let what):
            throw fail(.protocolViolation, command: command, what)
        case .bye(let text):
            broken = true
            // BYE in answer to LOGOUT is expected; otherwise the server is going away.
            if command != "LOGOUT" {
                close()
                throw fail(.closed, command: command, "server said BYE", serverText: text.text, code: text.code)
            }
        default:
            break
        }
        if case .untagged(.capability(let list)) = event { capabilities = Set(list.map { $0.uppercased() }) }
        return route
    }

    /// The next event from bytes already received, or nil.
    func decodedEvent(command: String) throws -> IMAPResponseEvent? {
        do {
            return try decoder.next()
        } catch {
            // The excerpt of the response is left out: it could hold message content.
            var reason = error.message
            if let offset = error.offset { reason += " at offset \(offset) of a response" }
            throw fail(error.kind == .limitExceeded ? .limitExceeded : .protocolViolation, command: command, reason)
        }
    }

    /// The next event. Besides `end`, the progress rule bounds the wait: in every `timeout` spent waiting, the
    /// server must complete a response (or a part of one up to a literal) or send `minimumProgressBytes`, so a
    /// server that trickles a response a byte at a time is cut off like one that sends nothing. Only time spent
    /// waiting counts, not time this side spent with what it got.
    func nextEvent(command: String, until end: Date) throws -> IMAPResponseEvent {
        while true {
            if let event = try decodedEvent(command: command) {
                if case .fetchBodyBytes = event {} else { restartProgressWindow() }
                return event
            }
            let began = Date()
            let allowance = max(0, endpoint.timeoutSeconds - progressWindow.waited)
            let taken = queue.take(until: min(end, began.addingTimeInterval(allowance)))
            progressWindow.waited += Date().timeIntervalSince(began)
            try accept(taken, command: command)
        }
    }

    func restartProgressWindow() {
        progressWindow = (0, 0)
    }

    /// Feeds received bytes to the decoder, or turns the end of the connection or a timeout into an error.
    func accept(_ taken: InboundQueue.Taken, command: String) throws {
        switch taken {
        case .bytes(let buffer, let resume):
            tlsConfirmed = true
            progressWindow.bytes += buffer.readableBytes
            if progressWindow.bytes >= IMAPEndpoint.minimumProgressBytes { restartProgressWindow() }
            decoder.append(buffer.readableBytesView)
            if resume { channel.read() }
        case .closed(let error):
            if let error {
                if error is NIOSSLExtraError {
                    throw fail(.tls, command: handshake, tlsFailure(error))
                }
                // A TLS connection cut without close_notify (a server killed or restarted) is a dropped
                // connection, which a reconnect cures, not a TLS failure.
                if (error as? NIOSSLError) == .uncleanShutdown && tlsConfirmed {
                    throw fail(.closed, command: command, "the connection was cut: \(error)")
                }
                if error is NIOSSLError || error is BoringSSLError {
                    throw fail(.tls, command: handshake, tlsFailure(error))
                }
                if let io = error as? IOError {
                    throw fail(
                        .closed, command: command,
                        "the connection failed: " + ConnectionFailure.errnoWords(io.errnoCode, host: endpoint.host, port: endpoint.port))
                }
                throw fail(.closed, command: command, "the connection failed: \(error)")
            }
            if isTLS && !tlsConfirmed {
                throw fail(
                    .tls, command: command,
                    "the server closed the connection during the TLS handshake (it may refuse this program's TLS "
                        + "versions or ciphers, or expect a client certificate)")
            }
            throw fail(.closed, command: command, "the server closed the connection")
        case .timedOut:
            if command == "greeting" && progressWindow.bytes == 0 {
                throw fail(
                    .timeout, command: command,
                    "the server accepted the connection but sent no greeting within \(endpoint.timeout)")
            }
            if progressWindow.bytes > 0 {
                throw fail(.timeout, command: command, endpoint.stalled(after: progressWindow.bytes))
            }
            throw fail(.timeout, command: command, "no response within \(endpoint.timeout)")
        }
    }

    func write(_ bytes: [UInt8], command: String) throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try write(buffer, command: command)
    }

    /// Writes without waiting, unless more than `maxUnfinishedWriteBytes` are still on their way to the socket.
    func write(_ buffer: ByteBuffer, command: String) throws {
        guard channel.isActive, !broken else {
            throw fail(.closed, command: command, "the connection is closed")
        }
        let size = buffer.readableBytes
        unfinishedWrites.append((channel.writeAndFlush(buffer), size))
        unfinishedWriteBytes += size
        while unfinishedWriteBytes > Self.maxUnfinishedWriteBytes || unfinishedWrites.count > 64 {
            let (future, size) = unfinishedWrites.removeFirst()
            unfinishedWriteBytes -= size
            try waitForWrite(future, command: command)
        }
    }

    func waitForWrite(_ future: EventLoopFuture<Void>, command: String) throws {
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { _ in done.signal() }
        if done.wait(timeout: .now() + endpoint.timeoutSeconds) == .timedOut {
            throw fail(.timeout, command: command, "could not send within \(endpoint.timeout)")
        }
        do {
            try future.wait()
        } catch {
            throw fail(.closed, command: command, "write failed: \(error)")
        }
    }

    func check(_ response: IMAPTaggedResponse, _ command: String) throws {
        guard response.status == .ok else {
            throw IMAPError(
                .commandFailed(response.status), server: server, command: command,
                detail: "server answered \(response.status.rawValue)", serverText: redacted(response.text.text),
                responseCode: response.text.code)
        }
    }

    /// `text` without any of this connection's secrets (the password and its encodings as sent): a server may
    /// echo what it was sent in a NO or BYE, and its text is shown to people.
    func redacted(_ text: String?) -> String? {
        guard var text, !secrets.isEmpty else { return text }
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
        return text
    }

    /// An error that leaves the connection unusable (it is closed), unless `keepUsable`.
    func fail(
        _ kind: IMAPError.Kind, command: String, _ detail: String, serverText: String? = nil,
        code: IMAPResponseCode? = nil, keepUsable: Bool = false
    ) -> IMAPError {
        if !keepUsable {
            broken = true
            close()
        }
        return IMAPError(
            kind, server: server, command: command, detail: redacted(detail) ?? detail, serverText: redacted(serverText),
            responseCode: code)
    }

    func close() {
        machine.closed()
        channel.close(promise: nil)
    }
}
