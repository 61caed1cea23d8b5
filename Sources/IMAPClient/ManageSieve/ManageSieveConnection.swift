import Foundation
import IMAPCore
import NIOCore
import NIOPosix
import NIOSSL

/// A blocking ManageSieve client connection (RFC 5804) for code that runs on its own thread (the Sieve connector).
/// It shares the IMAP client's transport: the same `InboundQueue` hand-off with its bounded buffer, TLS set up and
/// verified as for IMAP (`IMAPConnection.makeTLSContext`, `tlsHandler`), the same words for connection failures
/// (`ConnectionFailure`), the same SASL PLAIN forms of the password taken out of server text
/// (`IMAPConnection.secretForms`), and the same progress rule for every wait. Only the grammar differs, which
/// is IMAPCore's `ManageSieveResponseParser`.
///
/// After a timeout, a protocol error, BYE or a broken connection the connection is unusable and must be replaced.
public final class ManageSieveConnection {
    public let endpoint: IMAPEndpoint
    public let limits: ManageSieveLimits
    /// The capabilities by name, uppercased (`SIEVE`, `SASL`, `STARTTLS`, `IMPLEMENTATION`), with their values.
    public private(set) var capabilities: [String: String] = [:]
    public private(set) var isTLS = false

    let channel: any Channel
    let queue: InboundQueue
    var parser: ManageSieveResponseParser
    var broken = false
    var tlsConfirmed = false
    var secrets: [String] = []
    var progressWindow: (waited: Double, bytes: Int) = (0, 0)

    var server: String { "\(endpoint.host):\(endpoint.port)" }
    public var isUsable: Bool { !broken && channel.isActive }

    /// Connects, reads the capabilities the server greets with and, for `.startTLS`, upgrades when the server
    /// offers STARTTLS (ManageSieve has no implicit-TLS port; `.implicitTLS` starts TLS at once all the same).
    public static func open(_ endpoint: IMAPEndpoint, limits: ManageSieveLimits = .default) throws -> ManageSieveConnection {
        let queue = InboundQueue()
        let bootstrap = try IMAPConnection.bootstrap(endpoint, into: queue, capture: nil)
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: endpoint.host, port: endpoint.port).wait()
        } catch {
            throw ManageSieveError(
                .connect, server: "\(endpoint.host):\(endpoint.port)",
                detail: ConnectionFailure.connect(error, host: endpoint.host, port: endpoint.port, timeout: endpoint.timeout))
        }
        let connection = ManageSieveConnection(endpoint: endpoint, limits: limits, channel: channel, queue: queue)
        connection.isTLS = endpoint.security == .implicitTLS
        do {
            try connection.readCapabilities(command: "greeting")
            if endpoint.security == .startTLS && connection.capabilities["STARTTLS"] != nil {
                try connection.startTLS()
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    init(endpoint: IMAPEndpoint, limits: ManageSieveLimits, channel: any Channel, queue: InboundQueue) {
        self.endpoint = endpoint
        self.limits = limits
        self.channel = channel
        self.queue = queue
        parser = ManageSieveResponseParser(limits: limits)
    }

    deinit { channel.close(promise: nil) }

    /// The capability response (RFC 5804 section 1.7): `name [SP value]` lines, then OK.
    func readCapabilities(command: String) throws {
        let response = try awaitResponse(command: command)
        guard response.status == .ok else {
            throw fail(.closed, command: command, "the server refused the session", serverText: response.text)
        }
        var found: [String: String] = [:]
        for line in response.lines {
            guard let name = line.first?.text else { continue }
            found[name.uppercased()] = line.dropFirst().first?.text ?? ""
        }
        capabilities = found
    }

    /// RFC 5804 section 2.2: after OK nothing received in the clear is used (the buffers are emptied in the same
    /// event loop task that puts TLS in front); the server then sends its capabilities again, over TLS.
    func startTLS() throws {
        let response = try run("STARTTLS", [])
        guard response.status == .ok else {
            throw fail(.tls, command: "STARTTLS", "server refused STARTTLS", serverText: response.text)
        }
        let sslContext = try IMAPConnection.makeTLSContext(endpoint)
        let host = endpoint.host
        let queue = self.queue
        let channel = self.channel
        do {
            try channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try IMAPConnection.tlsHandler(context: sslContext, host: host, capture: nil), position: .first)
                queue.discardAll()
            }.wait()
        } catch {
            throw fail(.tls, command: "STARTTLS", "cannot start TLS: \(error)")
        }
        parser.discardBuffered()
        isTLS = true
        tlsConfirmed = false
        try readCapabilities(command: "STARTTLS")
    }

    // MARK: Commands

    /// SASL PLAIN (RFC 4616) with the initial response. `.login` is PLAIN without an authorization identity (a
    /// Dovecot master login is user `alice*admin`); `.plain` names the user acted for. Refuses to send a password
    /// without TLS unless the endpoint allows it.
    public func authenticate(_ auth: IMAPAuthentication) throws {
        guard isTLS || endpoint.allowPlaintextPassword else {
            throw ManageSieveError(
                .plaintextRefused, server: server, command: "AUTHENTICATE",
                detail: "not sending a password without TLS (the server offers no STARTTLS; \(endpoint.settingNames.allowPlaintext) allows it)")
        }
        let authorizationID: String, user: String, password: String
        switch auth {
        case .login(let u, let p): (authorizationID, user, password) = ("", u, p)
        case .plain(let z, let u, let p): (authorizationID, user, password) = (z ?? "", u, p)
        }
        if let mechanisms = capabilities["SASL"], !mechanisms.uppercased().split(separator: " ").contains("PLAIN") {
            throw fail(.unusable, command: "AUTHENTICATE", "the server offers no SASL PLAIN (it offers \(mechanisms))")
        }
        secrets = IMAPConnection.secretForms(of: auth)
        let message = Array(authorizationID.utf8) + [0] + Array(user.utf8) + [0] + Array(password.utf8)
        let response = try run("AUTHENTICATE", [Array("PLAIN".utf8), Array(Data(message).base64EncodedString().utf8)])
        guard response.status == .ok else {
            throw fail(
                .commandFailed(.no), command: "AUTHENTICATE", "the server refused the login",
                serverText: response.text, code: response.codeName, keepUsable: true)
        }
    }

    /// Every script of the user, and which is active.
    public func listScripts() throws -> [ManageSieveScriptListing] {
        let response = try run("LISTSCRIPTS", [])
        try check(response, "LISTSCRIPTS")
        return try response.lines.map { line in
            guard case .string(let name)? = line.first else {
                throw fail(.protocolViolation, command: "LISTSCRIPTS", "a line that does not start with a script name")
            }
            let active = line.count == 2 && line[1].text?.uppercased() == "ACTIVE"
            guard line.count == 1 || active else {
                throw fail(.protocolViolation, command: "LISTSCRIPTS", "a script's line has more than its name and ACTIVE")
            }
            return ManageSieveScriptListing(name: String(decoding: name, as: UTF8.self), active: active)
        }
    }

    /// The script's exact bytes (at most `limits.maxLiteralBytes`).
    public func getScript(_ name: String) throws -> [UInt8] {
        let response = try run("GETSCRIPT", [Array(name.utf8)])
        try check(response, "GETSCRIPT")
        guard response.lines.count == 1, response.lines[0].count == 1, case .string(let bytes) = response.lines[0][0] else {
            throw fail(.protocolViolation, command: "GETSCRIPT", "the answer is not one string")
        }
        return bytes
    }

    /// Whether the server could run `script` (RFC 5804 section 2.12); nothing is stored.
    public func checkScript(_ script: [UInt8]) throws -> ManageSieveOutcome {
        outcome(try run("CHECKSCRIPT", [script]), "CHECKSCRIPT")
    }

    /// Stores `script` under `name`, replacing a script of that name in one step (RFC 5804 section 2.6).
    public func putScript(_ name: String, _ script: [UInt8]) throws -> ManageSieveOutcome {
        outcome(try run("PUTSCRIPT", [Array(name.utf8), script]), "PUTSCRIPT")
    }

    /// Makes `name` the active script; an empty name deactivates every script.
    public func setActive(_ name: String) throws {
        try check(try run("SETACTIVE", [Array(name.utf8)]), "SETACTIVE")
    }

    public func deleteScript(_ name: String) throws {
        try check(try run("DELETESCRIPT", [Array(name.utf8)]), "DELETESCRIPT")
    }

    /// Says goodbye and closes; never throws.
    public func logout() {
        if isUsable { _ = try? run("LOGOUT", []) }
        close()
    }

    private func outcome(_ response: ManageSieveResponse, _ command: String) -> ManageSieveOutcome {
        if response.status == .ok {
            return .accepted(warnings: response.codeName == "WARNINGS" ? redacted(response.text) : nil)
        }
        return .refused(reason: redacted(response.text) ?? "refused without a reason", code: response.codeName)
    }

    func check(_ response: ManageSieveResponse, _ command: String) throws {
        guard response.status == .ok else {
            throw ManageSieveError(
                .commandFailed(.no), server: server, command: command, detail: "server answered NO",
                serverText: redacted(response.text), responseCode: response.codeName)
        }
    }

    // MARK: Engine

    /// Sends a command and reads its whole response. BYE ends the connection (an error), except for LOGOUT.
    func run(_ name: String, _ arguments: [[UInt8]]) throws -> ManageSieveResponse {
        guard isUsable else {
            throw ManageSieveError(.unusable, server: server, command: name, detail: "the connection is no longer usable")
        }
        try write(ManageSieveCommandEncoder.encode(name, arguments), command: name)
        return try awaitResponse(command: name)
    }

    func awaitResponse(command: String) throws -> ManageSieveResponse {
        progressWindow = (0, 0)
        var lines: [[ManageSieveToken]] = []
        while true {
            let line = try nextLine(command: command)
            let completion: ManageSieveResponse?
            do {
                completion = try ManageSieveResponse.completion(line)
            } catch {
                throw fail(.protocolViolation, command: command, error.message)
            }
            guard var response = completion else {
                lines.append(line)
                guard lines.count <= limits.maxResponseLines else {
                    throw fail(.limitExceeded, command: command, "more than \(limits.maxResponseLines) lines in one response")
                }
                continue
            }
            response.lines = lines
            if response.status == .bye && command != "LOGOUT" {
                throw fail(.closed, command: command, "server said BYE", serverText: response.text, code: response.codeName)
            }
            return response
        }
    }

    /// The next line. Every wait is bounded as IMAP's are: in every `timeout` spent waiting the server must complete
    /// a line or send `IMAPEndpoint.minimumProgressBytes`.
    func nextLine(command: String) throws -> [ManageSieveToken] {
        while true {
            do {
                if let line = try parser.nextLine() {
                    progressWindow = (0, 0)
                    return line
                }
            } catch {
                throw fail(error.isLimit ? .limitExceeded : .protocolViolation, command: command, error.message)
            }
            let began = Date()
            let allowance = max(0, endpoint.timeoutSeconds - progressWindow.waited)
            let taken = queue.take(until: began.addingTimeInterval(allowance))
            progressWindow.waited += Date().timeIntervalSince(began)
            try accept(taken, command: command)
        }
    }

    func accept(_ taken: InboundQueue.Taken, command: String) throws {
        switch taken {
        case .bytes(let buffer, let resume):
            tlsConfirmed = true
            progressWindow.bytes += buffer.readableBytes
            if progressWindow.bytes >= IMAPEndpoint.minimumProgressBytes { progressWindow = (0, 0) }
            parser.append(buffer.readableBytesView)
            if resume { channel.read() }
        case .closed(let error):
            if let error {
                if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
                    if (error as? NIOSSLError) == .uncleanShutdown && tlsConfirmed {
                        throw fail(.closed, command: command, "the connection was cut: \(error)")
                    }
                    let text = "\(error)"
                    let detail =
                        error is NIOSSLExtraError
                        ? "the server's certificate does not name \(endpoint.host) (host name mismatch)"
                        : text.contains("CERTIFICATE_VERIFY_FAILED")
                            ? "the server's certificate is not accepted: it does not verify against "
                                + (endpoint.caFile.map { "the CAs in \($0)" } ?? "this machine's trusted CAs")
                                + " (give the CA with \(endpoint.settingNames.caFile))"
                            : ConnectionFailure.tlsHandshake(error, host: endpoint.host, port: endpoint.port, implicitTLS: false)
                    throw fail(.tls, command: "STARTTLS handshake", detail)
                }
                if let io = error as? IOError {
                    throw fail(
                        .closed, command: command,
                        "the connection failed: " + ConnectionFailure.errnoWords(io.errnoCode, host: endpoint.host, port: endpoint.port))
                }
                throw fail(.closed, command: command, "the connection failed: \(error)")
            }
            if isTLS && !tlsConfirmed {
                throw fail(.tls, command: command, "the server closed the connection during the TLS handshake")
            }
            throw fail(.closed, command: command, "the server closed the connection")
        case .timedOut:
            if progressWindow.bytes > 0 {
                throw fail(.timeout, command: command, endpoint.stalled(after: progressWindow.bytes))
            }
            throw fail(.timeout, command: command, "no response within \(endpoint.timeout)")
        }
    }

    func write(_ bytes: [UInt8], command: String) throws {
        guard channel.isActive else { throw fail(.closed, command: command, "the connection is closed") }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let future = channel.writeAndFlush(buffer)
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

    /// `text` without this connection's password in any form it was sent.
    func redacted(_ text: String?) -> String? {
        guard var text, !secrets.isEmpty else { return text }
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
        return text
    }

    /// An error that leaves the connection unusable (it is closed), unless `keepUsable`.
    func fail(
        _ kind: IMAPError.Kind, command: String, _ detail: String, serverText: String? = nil, code: String? = nil,
        keepUsable: Bool = false
    ) -> ManageSieveError {
        if !keepUsable {
            broken = true
            close()
        }
        return ManageSieveError(
            kind, server: server, command: command, detail: redacted(detail) ?? detail, serverText: redacted(serverText),
            responseCode: code)
    }

    func close() {
        channel.close(promise: nil)
    }
}
