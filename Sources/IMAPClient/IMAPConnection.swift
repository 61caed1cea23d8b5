import Foundation
import IMAPCore
import MailModel
import NIOCore
import NIOPosix
import NIOSSL

/// A blocking IMAP client connection for code that runs on its own thread (the IMAP connectors). Use it from one
/// thread at a time. Every wait is bounded by the endpoint's timeout; after a timeout, a protocol error, BYE,
/// a broken connection or an aborted APPEND the connection is unusable (`isUsable` false) and must be replaced.
///
/// The grammar, framing and session state are IMAPCore's; this class only moves bytes and waits.
public final class IMAPConnection {
    public let endpoint: IMAPEndpoint
    public let limits: IMAPLimits
    /// Uppercased; refreshed after STARTTLS and after authentication.
    public internal(set) var capabilities: Set<String> = []
    public internal(set) var isTLS: Bool
    /// The greeting's text, e.g. `Dovecot (Debian) ready.`
    public internal(set) var greetingText = ""

    let channel: any Channel
    let queue: InboundQueue
    var decoder: IMAPResponseDecoder
    var machine = IMAPClientStateMachine()
    var tags = IMAPTagGenerator()
    var broken = false
    /// Bytes have come through TLS, so its handshake succeeded. A close before that is a TLS failure even when
    /// NIOSSL reports the close before (or without) the handshake error.
    var tlsConfirmed = false
    /// Tagged responses that arrived for commands nobody is waiting on at the moment (pipelined APPENDs).
    var completed: [String: IMAPTaggedResponse] = [:]
    var appendsPending: [(sequence: Int, tag: String)] = []
    /// Tests: use (or avoid) LIST-EXTENDED whatever the server offers.
    var listExtendedOverride: Bool?
    /// Tests: write literals this way whatever the server offers.
    var literalModeOverride: IMAPLiteralMode?
    /// Set on a connection opened only to fetch the server's certificates for a diagnosis: the handshake takes
    /// them and fails, so nothing after it is sent.
    let certificateCapture: CertificateCapture?
    var appendCounter = 0
    /// The password of the current authentication in every form it was sent (raw, quoted, base64 in SASL PLAIN),
    /// longest first, to be taken out of server text before it is shown.
    var secrets: [String] = []
    /// Time spent waiting and bytes received since the last complete response (or command sent): the progress
    /// rule of `nextEvent`.
    var progressWindow: (waited: Double, bytes: Int) = (0, 0)
    var unfinishedWrites: [(future: EventLoopFuture<Void>, size: Int)] = []
    var unfinishedWriteBytes = 0
    /// Most bytes written and not yet taken by the socket before a write waits.
    static let maxUnfinishedWriteBytes = 2 << 20
    /// Message bytes per write. With the 4 KiB of room a MULTIAPPEND chunk keeps for command text, a write buffer is
    /// 128 KiB, a power of two (SwiftNIO rounds a buffer's capacity up to one): 256 KiB chunks made 512 KiB buffers,
    /// above the allocator's mapping threshold (`FreeMemory.tuneAllocator`), each mapped and faulted in afresh.
    static let writeChunkSize = (128 << 10) - 4096

    var server: String { "\(endpoint.host):\(endpoint.port)" }
    var deadline: Date { Date().addingTimeInterval(endpoint.timeoutSeconds) }

    public var isUsable: Bool { !broken && channel.isActive && machine.state != .logout }
    public var appendsInFlight: Int { appendsPending.count }
    /// The most received bytes that ever waited for this thread to take them.
    var inboundPeakBytes: Int { queue.peakBuffered }

    // MARK: Opening

    /// Connects, sets up TLS (certificate and host name verified against the system roots or `caFile`), reads
    /// the greeting and the capabilities, and with `.startTLS` upgrades when the server offers STARTTLS.
    public static func open(_ endpoint: IMAPEndpoint, limits: IMAPLimits = .default) throws -> IMAPConnection {
        try open(endpoint, limits: limits, capture: nil)
    }

    static func open(_ endpoint: IMAPEndpoint, limits: IMAPLimits, capture: CertificateCapture?) throws -> IMAPConnection {
        let server = "\(endpoint.host):\(endpoint.port)"
        let queue = InboundQueue()
        let bootstrap = try Self.bootstrap(endpoint, into: queue, capture: capture)
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: endpoint.host, port: endpoint.port).wait()
        } catch {
            throw IMAPError(
                .connect, server: server,
                detail: ConnectionFailure.connect(error, host: endpoint.host, port: endpoint.port, timeout: endpoint.timeout))
        }
        let connection = IMAPConnection(
            endpoint: endpoint, limits: limits, channel: channel, queue: queue, tls: endpoint.security == .implicitTLS,
            capture: capture)
        do {
            try connection.start()
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    init(
        endpoint: IMAPEndpoint, limits: IMAPLimits, channel: any Channel, queue: InboundQueue, tls: Bool,
        capture: CertificateCapture? = nil
    ) {
        self.certificateCapture = capture
        self.endpoint = endpoint
        self.limits = limits
        self.channel = channel
        self.queue = queue
        self.isTLS = tls
        decoder = IMAPResponseDecoder(limits: limits, expectingGreeting: true)
    }

    deinit { channel.close(promise: nil) }

    /// Full certificate verification against the system roots, or only `caFile`'s certificates when given.
    /// A TCP connection's bootstrap for `endpoint` (TLS from the start for `.implicitTLS`) whose bytes go to
    /// `queue`: the IMAP and ManageSieve connections both start so.
    static func bootstrap(_ endpoint: IMAPEndpoint, into queue: InboundQueue, capture: CertificateCapture?) throws -> ClientBootstrap {
        let sslContext = endpoint.security == .implicitTLS ? try makeTLSContext(endpoint) : nil
        let host = endpoint.host
        return ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(endpoint.timeoutSeconds * 1e9)))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            try Self.tlsHandler(context: sslContext, host: host, capture: capture))
                    }
                    try channel.pipeline.syncOperations.addHandler(InboundHandler(queue: queue))
                }
            }
    }

    static func makeTLSContext(_ endpoint: IMAPEndpoint) throws -> NIOSSLContext {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let caFile = endpoint.caFile { configuration.trustRoots = .file(caFile) }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw IMAPError(
                .tls, server: "\(endpoint.host):\(endpoint.port)",
                detail: endpoint.caFile.map { "cannot use the CA certificates in \($0) (\(endpoint.settingNames.caFile)): not a readable PEM file of certificates" }
                    ?? "cannot set up TLS with this machine's trusted CAs: \(error)")
        }
    }

    /// SNI and the name verified: the host, unless it is an IP address, which NIOSSL then verifies against the
    /// certificate's IP subjectAltName from the connected address.
    static func tlsHandler(context: NIOSSLContext, host: String, capture: CertificateCapture?) throws -> NIOSSLClientHandler {
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        guard let capture else { return try NIOSSLClientHandler(context: context, serverHostname: isIP ? nil : host) }
        return try NIOSSLClientHandler(
            context: context, serverHostname: isIP ? nil : host,
            customVerificationCallback: { (chain: [NIOSSLCertificate], promise: EventLoopPromise<NIOSSLVerificationResult>) in
                capture.keep(chain)
                promise.succeed(NIOSSLVerificationResult.failed)
            })
    }

    /// The server's certificate chain as it sends it, from a connection that goes as far as the TLS handshake
    /// (after STARTTLS where the endpoint uses it), refuses the certificate and is closed: nothing else is sent.
    static func fetchCertificates(_ endpoint: IMAPEndpoint) -> [NIOSSLCertificate] {
        let capture = CertificateCapture()
        var diagnostic = endpoint
        diagnostic.timeout = min(endpoint.timeout, .seconds(20))
        if let connection = try? open(diagnostic, limits: .default, capture: capture) { connection.close() }
        return capture.chain
    }

    /// What a TLS failure happened in, for messages: the handshake, not the IMAP command that waited for it.
    var handshake: String { endpoint.security == .implicitTLS ? "TLS handshake" : "STARTTLS handshake" }

    /// Why the TLS handshake failed, for people: the certificate's problem, looked at on a second connection
    /// (BoringSSL says only "certificate verify failed"), or the handshake's.
    func tlsFailure(_ error: any Error) -> String {
        let hostnameFailed = error is NIOSSLExtraError
        guard hostnameFailed || "\(error)".contains("CERTIFICATE_VERIFY_FAILED") else {
            return ConnectionFailure.tlsHandshake(
                error, host: endpoint.host, port: endpoint.port, implicitTLS: endpoint.security == .implicitTLS)
        }
        let chain = certificateCapture == nil ? Self.fetchCertificates(endpoint) : []
        let diagnosis = CertificateDiagnosis(chain: chain, host: endpoint.host, caFile: endpoint.caFile, names: endpoint.settingNames)
        guard !chain.isEmpty else {
            return hostnameFailed
                ? "the server's certificate does not name \(endpoint.host) (host name mismatch)"
                : "the server's certificate is not accepted: it does not verify against "
                    + (endpoint.caFile.map { "the CAs in \($0)" } ?? "this machine's trusted CAs")
                    + " (give the CA with \(endpoint.settingNames.caFile))"
        }
        return diagnosis.describe(hostnameFailed: hostnameFailed)
    }

    func start() throws {
        let greeting: IMAPGreeting
        switch try nextRoutedEvent(command: "greeting") {
        case (_, .greeting(let g)): greeting = g
        case (_, .bye(let text)):
            throw IMAPError(
                .closed, server: server, command: "greeting", detail: "server said BYE", serverText: text.text)
        default:
            throw fail(.protocolViolation, command: "greeting", "expected a greeting")
        }
        greetingText = greeting.text.text
        if greeting.status == .bye {
            throw fail(.closed, command: "greeting", "server refused the connection", serverText: greeting.text.text)
        }
        if case .capability(let list) = greeting.text.code {
            capabilities = Set(list.map { $0.uppercased() })
        } else {
            try refreshCapabilities()
        }
        if endpoint.security == .startTLS && capabilities.contains("STARTTLS") && machine.state == .notAuthenticated {
            try startTLS(sslContext: try Self.makeTLSContext(endpoint))
        }
    }

    /// RFC 9051 section 6.2.1 and RFC 2595 section 3.1: after the tagged OK nothing received in the clear may be
    /// used, so the buffers are emptied in the same event loop task that puts TLS in front; the capabilities are
    /// asked for again over TLS.
    func startTLS(sslContext: NIOSSLContext) throws {
        let response = try run(.startTLS)
        guard response.status == .ok else {
            throw fail(.tls, command: "STARTTLS", "server refused STARTTLS", serverText: response.text.text)
        }
        let host = endpoint.host
        let queue = self.queue
        let channel = self.channel
        let capture = certificateCapture
        do {
            try channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try Self.tlsHandler(context: sslContext, host: host, capture: capture), position: .first)
                queue.discardAll()
            }.wait()
        } catch {
            throw fail(.tls, command: "STARTTLS", "cannot start TLS: \(tlsFailure(error))")
        }
        decoder.discardBuffered()
        isTLS = true
        tlsConfirmed = false
        capabilities = []
        try refreshCapabilities()
    }

    func refreshCapabilities() throws {
        var found: [String]? = nil
        let response = try run(.capability) { untagged in
            if case .capability(let list) = untagged { found = list }
        }
        try check(response, "CAPABILITY")
        if let found { capabilities = Set(found.map { $0.uppercased() }) }
    }
}
