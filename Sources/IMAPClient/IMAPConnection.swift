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
    public private(set) var capabilities: Set<String> = []
    public private(set) var isTLS: Bool
    /// The greeting's text, e.g. `Dovecot (Debian) ready.`
    public private(set) var greetingText = ""

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
    var unfinishedWrites: [(future: EventLoopFuture<Void>, size: Int)] = []
    var unfinishedWriteBytes = 0
    /// Most bytes written and not yet taken by the socket before a write waits.
    static let maxUnfinishedWriteBytes = 2 << 20
    static let writeChunkSize = 256 << 10

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
        let implicitTLS = endpoint.security == .implicitTLS
        let sslContext = implicitTLS ? try makeTLSContext(endpoint) : nil
        let host = endpoint.host
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
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
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: endpoint.host, port: endpoint.port).wait()
        } catch {
            throw IMAPError(
                .connect, server: server,
                detail: ConnectionFailure.connect(error, host: endpoint.host, port: endpoint.port, timeout: endpoint.timeout))
        }
        let connection = IMAPConnection(
            endpoint: endpoint, limits: limits, channel: channel, queue: queue, tls: implicitTLS, capture: capture)
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

    // MARK: Commands

    /// Logs in. Refuses (`.plaintextRefused`) to send a password without TLS unless the endpoint allows it.
    public func authenticate(_ auth: IMAPAuthentication) throws {
        guard isTLS || endpoint.allowPlaintextPassword else {
            throw fail(
                .plaintextRefused, command: "LOGIN",
                "not sending a password without TLS (the server offers no STARTTLS; \(endpoint.settingNames.allowPlaintext) allows it)",
                keepUsable: true)
        }
        let command: IMAPCommand
        switch auth {
        case .login(let user, let password):
            if capabilities.contains("AUTH=PLAIN") {
                command = .authenticatePlain(
                    authorizationID: nil, authenticationID: user, password: password,
                    initialResponse: capabilities.contains("SASL-IR"))
            } else {
                command = .login(user: user, password: password)
            }
        case .plain(let authorizationID, let authenticationID, let password):
            command = .authenticatePlain(
                authorizationID: authorizationID, authenticationID: authenticationID, password: password,
                initialResponse: capabilities.contains("SASL-IR"))
        }
        var found: [String]? = nil
        let response = try run(command) { untagged in
            if case .capability(let list) = untagged { found = list }
        }
        try check(response, command.name)
        if case .capability(let list) = response.text.code { found = list }
        if let found {
            capabilities = Set(found.map { $0.uppercased() })
        } else {
            try refreshCapabilities()
        }
    }

    /// The first personal namespace, or nil when the server has no NAMESPACE.
    public func namespace() throws -> IMAPNamespace? {
        guard capabilities.contains("NAMESPACE") else { return nil }
        var result: IMAPNamespace? = nil
        let response = try run(.namespace) { untagged in
            if case .namespace(let ns) = untagged, let personal = ns.personal.first {
                result = IMAPNamespace(prefix: personal.prefix, separator: personal.separator.map { String($0) })
            }
        }
        try check(response, "NAMESPACE")
        return result
    }

    static let specialUses = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"]

    /// Every mailbox, with special use and subscription: one `LIST "" "*" RETURN (SUBSCRIBED SPECIAL-USE)` when
    /// the server has LIST-EXTENDED and SPECIAL-USE, otherwise LIST and LSUB.
    public func listMailboxes() throws -> [IMAPMailboxListing] {
        var lists: [IMAPListResponse] = []
        var subscribed: Set<String> = []
        let extended =
            listExtendedOverride ?? (capabilities.contains("LIST-EXTENDED") && capabilities.contains("SPECIAL-USE"))
        let command: IMAPCommand =
            extended
            ? .listExtended(reference: "", pattern: "*", specialUseOnly: false) : .list(reference: "", pattern: "*")
        let response = try run(command) { untagged in
            if case .list(let list) = untagged { lists.append(list) }
        }
        try check(response, "LIST")
        if !extended {
            let lsub = try run(.lsub(reference: "", pattern: "*")) { untagged in
                if case .lsub(let list) = untagged { subscribed.insert(list.mailbox.wire) }
            }
            try check(lsub, "LSUB")
        }
        return lists.map { list in
            var attributes = Set(list.attributes.map { $0.lowercased() })
            if subscribed.contains(list.mailbox.wire) { attributes.insert("\\subscribed") }
            let specialUse = Self.specialUses.first { attributes.contains($0.lowercased()) }
            return IMAPMailboxListing(
                name: list.mailbox.name, wireName: list.mailbox.wire, separator: list.separator.map { String($0) },
                attributes: attributes, specialUse: specialUse, subscribed: attributes.contains("\\subscribed"))
        }
    }

    /// SELECT (or EXAMINE when `readOnly`).
    public func select(_ name: String, readOnly: Bool) throws -> IMAPSelectedMailbox {
        var result = IMAPSelectedMailbox(
            name: name, uidValidity: nil, uidNext: nil, exists: 0, mailboxID: nil, highestModSeq: nil,
            permanentFlags: [], readOnly: readOnly)
        func take(_ code: IMAPResponseCode?) {
            switch code {
            case .uidValidity(let v): result.uidValidity = v
            case .uidNext(let v): result.uidNext = v
            case .mailboxID(let v): result.mailboxID = v
            case .highestModSeq(let v): result.highestModSeq = v
            case .permanentFlags(let v): result.permanentFlags = v
            case .readOnly: result.readOnly = true
            default: break
            }
        }
        let condStore = capabilities.contains("CONDSTORE")
        let response = try run(.select(mailbox: name, readOnly: readOnly, condStore: condStore)) { untagged in
            switch untagged {
            case .exists(let n): result.exists = n
            case .condition(_, let text): take(text.code)
            default: break
            }
        }
        try check(response, readOnly ? "EXAMINE" : "SELECT")
        take(response.text.code)
        return result
    }

    var isDovecot: Bool { capabilities.contains("XDOVECOT") || greetingText.lowercased().contains("dovecot") }

    /// UID, flags, internal date, size and a message identifier for the UIDs in `uids` (`1...UInt32.max` is
    /// `1:*`). Messages outside `uids` the server adds (`n:*` always matches the last message) are left out.
    /// With `changedSince` (RFC 7162 CHANGEDSINCE), only the messages whose flags changed, or that arrived, after
    /// that MODSEQ.
    public func fetchSummaries(uids: IMAPUIDRange, changedSince: UInt64? = nil) throws -> [IMAPMessageSummary] {
        var items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        let guidItem: String? = capabilities.contains("OBJECTID") ? "EMAILID" : isDovecot ? "X-GUID" : nil
        if let guidItem { items.append(guidItem) }
        let tag = try send(changedSince.map { .uidFetchChangedSince(IMAPUIDSet(uids), items: items, modSeq: $0) } ?? .uidFetch(IMAPUIDSet(uids), items: items))
        var summaries: [IMAPMessageSummary] = []
        var uid: UInt32?
        var flags: [String] = []
        var date: InternalDate?
        var size: Int64?
        var guid: String?
        while true {
            let (event, route) = try nextRoutedEvent(command: "UID FETCH")
            switch event {
            case .fetchStart:
                (uid, flags, date, size, guid) = (nil, [], nil, nil, nil)
            case .fetchAttribute(let attribute):
                switch attribute {
                case .uid(let v): uid = v
                case .flags(let v): flags = v.filter { $0.lowercased() != "\\recent" }
                case .internalDate(let v): date = v
                case .rfc822Size(let v): size = v
                case .emailID(let v): guid = v
                case .xGUID(let v): guid = guidItem == "X-GUID" ? v : guid
                default: break
                }
            case .fetchBodyStart:
                try skipBody()
            case .fetchEnd:
                guard let uid, uids.contains(uid) else { continue }  // unsolicited flag updates have no UID
                guard let date, let size else {
                    throw fail(
                        .protocolViolation, command: "UID FETCH",
                        "FETCH for UID \(uid) without INTERNALDATE or RFC822.SIZE")
                }
                summaries.append(IMAPMessageSummary(uid: uid, flags: flags, internalDate: date, size: size, guid: guid))
            default:
                break
            }
            if case .completed(let response, _) = route, response.tag == tag {
                try check(response, "UID FETCH")
                return summaries
            }
        }
    }

    /// One `UID FETCH uids (UID BODY.PEEK[])`; `each` gets every message the server still has, as a body that
    /// streams from the connection and is valid only during the call. What `each` leaves unread is drained.
    /// The server must send UID before the body (Dovecot, Cyrus and Gmail do).
    /// With `partial`, only that range of each message's bytes (`BODY.PEEK[]<offset.length>`, RFC 9051 section
    /// 6.4.5), which is how a body cut off by a dropped connection is fetched again from where it broke.
    public func fetchBodies(
        uids: [UInt32], partial: (offset: Int64, length: Int64)? = nil, _ each: (UInt32, any ItemBody) throws -> Void
    ) throws {
        guard !uids.isEmpty else { return }
        let wanted = Set(uids)
        let item = partial.map { "BODY.PEEK[]<\($0.offset).\($0.length)>" } ?? "BODY.PEEK[]"
        let tag = try send(.uidFetch(IMAPUIDSet(uids), items: ["UID", item]))
        var uid: UInt32?
        var failure: (any Error)?
        while true {
            let (event, route) = try nextRoutedEvent(command: "UID FETCH")
            switch event {
            case .fetchStart:
                uid = nil
            case .fetchAttribute(.uid(let v)):
                uid = v
            case .fetchBodyStart(let section, let size):
                guard failure == nil, section.isEmpty, let current = uid, wanted.contains(current) else {
                    if section.isEmpty && uid == nil && failure == nil {
                        throw fail(.protocolViolation, command: "UID FETCH", "server sent BODY[] before UID")
                    }
                    try skipBody()
                    continue
                }
                let body = FetchedBody(connection: self, uid: current, byteCount: size)
                do {
                    try each(current, body)
                } catch {
                    failure = error  // the rest of the response is drained so the connection stays usable
                }
                body.valid = false
                if !body.finished { try skipBody() }
            default:
                break
            }
            if case .completed(let response, _) = route, response.tag == tag {
                if let failure { throw failure }
                try check(response, "UID FETCH")
                return
            }
        }
    }

    /// The next chunk of the body literal being streamed, or nil at its end.
    func nextBodyChunk() throws -> [UInt8]? {
        let (event, _) = try nextRoutedEvent(command: "UID FETCH")
        switch event {
        case .fetchBodyBytes(let bytes): return bytes
        case .fetchBodyEnd: return nil
        default: throw fail(.protocolViolation, command: "UID FETCH", "unexpected response inside a body literal")
        }
    }

    func skipBody() throws {
        while try nextBodyChunk() != nil {}
    }

    /// UIDs matching all of `criteria` (ESEARCH when offered).
    public func uidSearch(_ criteria: [IMAPSearchKey]) throws -> [UInt32] {
        let esearch = capabilities.contains("ESEARCH")
        var found: [UInt32] = []
        let response = try run(.uidSearch(criteria, esearch: esearch)) { untagged in
            switch untagged {
            case .search(let numbers): found += numbers
            case .esearch(let result): found += result.all
            default: break
            }
        }
        try check(response, "UID SEARCH")
        return found.sorted()
    }

    /// Creates the mailbox; false if it already existed (ALREADYEXISTS, or NO and LIST finds it).
    public func create(_ name: String) throws -> Bool {
        let response = try run(.create(mailbox: name))
        if response.status == .ok { return true }
        if response.text.code == .alreadyExists { return false }
        if response.status == .no {
            var exists = false
            let list = try run(.list(reference: "", pattern: name)) { untagged in
                if case .list(let l) = untagged, l.mailbox.name == name { exists = true }
            }
            if list.status == .ok && exists { return false }
        }
        try check(response, "CREATE")
        return true
    }

    /// Replaces a message's flags and keywords (UID STORE FLAGS.SILENT) in the selected mailbox.
    public func uidStoreFlags(_ uid: UInt32, flags: [String]) throws {
        for flag in flags where !IMAPCommandEncoder.isValidFlag(flag) {
            throw fail(.invalidArgument, command: "UID STORE", "\(String(reflecting: flag)) cannot be written as an IMAP flag")
        }
        try check(try run(.uidStoreFlags(IMAPUIDSet([uid]), flags: flags)), "UID STORE")
    }

    /// Moves a message of the selected mailbox to `mailbox`: UID MOVE (RFC 6851) when offered, else UID COPY, then
    /// \\Deleted and UID EXPUNGE (RFC 4315) of that UID only.
    public func uidMove(_ uid: UInt32, to mailbox: String) throws {
        let set = IMAPUIDSet([uid])
        if capabilities.contains("MOVE") {
            try check(try run(.uidMove(set, mailbox: mailbox)), "UID MOVE")
            return
        }
        guard capabilities.contains("UIDPLUS") else {
            throw fail(.invalidArgument, command: "UID COPY", "the server offers neither MOVE nor UIDPLUS, so a message cannot be moved without touching others")
        }
        try check(try run(.uidCopy(set, mailbox: mailbox)), "UID COPY")
        try uidDelete(uid)
    }

    /// Sets \\Deleted on one message of the selected mailbox and expunges that UID only (UIDPLUS).
    public func uidDelete(_ uid: UInt32) throws {
        guard capabilities.contains("UIDPLUS") else {
            throw fail(.invalidArgument, command: "UID EXPUNGE", "the server does not offer UIDPLUS, so one message cannot be expunged alone")
        }
        let set = IMAPUIDSet([uid])
        try check(try run(.uidStoreFlags(set, flags: ["\\Deleted"])), "UID STORE")
        try check(try run(.uidExpunge(set)), "UID EXPUNGE")
    }

    public func rename(_ from: String, to: String) throws {
        try check(try run(.rename(from: from, to: to)), "RENAME")
    }

    public func delete(_ name: String) throws {
        try check(try run(.delete(mailbox: name)), "DELETE")
    }

    public func subscribe(_ name: String) throws {
        try check(try run(.subscribe(mailbox: name)), "SUBSCRIBE")
    }

    /// RFC 4314 GETACL.
    public func getACL(_ name: String) throws -> [(identifier: String, rights: String)] {
        var entries: [(identifier: String, rights: String)] = []
        let response = try run(.getACL(mailbox: name)) { untagged in
            if case .acl(_, let list) = untagged { entries += list.map { ($0.identifier, $0.rights) } }
        }
        try check(response, "GETACL")
        return entries
    }

    /// RFC 4314 SETACL.
    public func setACL(_ name: String, identifier: String, rights: String) throws {
        try check(try run(.setACL(mailbox: name, identifier: identifier, rights: rights)), "SETACL")
    }

    public func noop() throws {
        try check(try run(.noop), "NOOP")
    }

    /// A polite LOGOUT (waiting at most 5 s), then close. Never throws.
    public func logout() {
        if isUsable {
            if let tag = try? send(.logout) {
                let end = Date().addingTimeInterval(min(5, endpoint.timeoutSeconds))
                while let (_, route) = try? nextRoutedEvent(command: "LOGOUT", until: end) {
                    if case .completed(let response, _) = route, response.tag == tag { break }
                }
            }
        }
        close()
    }

    // MARK: APPEND

    /// Sends `APPEND mailbox (flags) "date" {n+}` (LITERAL+; otherwise `{n}` and a wait for the continuation),
    /// streams the body holding back its last byte, calls `beforeFinalByte` (the caller checks the checksum
    /// there), then sends that byte and CRLF. If `beforeFinalByte` or the body throws, the connection is closed
    /// so the server never completes the APPEND, and the error is rethrown. Returns a sequence number; outcomes
    /// come from `nextAppendOutcome` in the same order.
    /// Messages up to this size are sent with their command in a single write (LITERAL+ only).
    static let coalescedAppendLimit: Int64 = 256 * 1024

    public func beginAppend(
        to mailbox: String, flags: [String], internalDate: InternalDate?, body: any ItemBody,
        beforeFinalByte: () throws -> Void
    ) throws -> Int {
        let size = body.byteCount
        // A flag that is not an atom would make the command line malformed, and a server that rejects the line
        // might read the message that follows as commands; refuse it before sending anything.
        let flags = try appendableFlags(flags)
        try takeAvailableResponses()
        let command = IMAPCommand.append(mailbox: mailbox, flags: flags, internalDate: internalDate, size: size)
        let encoded = try encodeAndRecord(command)
        appendCounter += 1
        let sequence = appendCounter
        let needsContinuation = encoded.parts.contains {
            if case .awaitContinuation = $0 { return true }
            return false
        }
        if size <= Self.coalescedAppendLimit && !needsContinuation {
            // A small message goes in one write with its command line and final CRLF: one wake-up of the event
            // loop and one system call per message instead of three or more, and nothing at all is sent should
            // the body or `beforeFinalByte` fail.
            var buffer = channel.allocator.buffer(capacity: Int(size) + 256)
            for case .data(let bytes) in encoded.parts { buffer.writeBytes(bytes) }
            do {
                try stream(body) { buffer.writeBytes($0) }
                try beforeFinalByte()
            } catch {
                // The command is recorded as under way but nothing was sent: the connection cannot go on in step.
                broken = true
                close()
                throw error
            }
            buffer.writeBytes([0x0d, 0x0a])
            try write(buffer, command: "APPEND")
            appendsPending.append((sequence, encoded.tag))
            return sequence
        }
        for part in encoded.parts {
            switch part {
            case .data(let bytes):
                try write(bytes, command: "APPEND")
            case .awaitContinuation:
                if try !awaitContinuation(for: encoded.tag, command: "APPEND") {
                    appendsPending.append((sequence, encoded.tag))  // refused before the literal
                    return sequence
                }
            case .messageBytes:
                preconditionFailure("a single APPEND has no MULTIAPPEND message parts")
            }
        }
        var held: UInt8? = nil
        do {
            try stream(body) { chunk in
                guard !chunk.isEmpty else { return }
                var offset = 0
                while offset < chunk.count {
                    let end = min(chunk.count, offset + Self.writeChunkSize)
                    var buffer = channel.allocator.buffer(capacity: end - offset + 1)
                    if let byte = held { buffer.writeInteger(byte) }
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: chunk[offset..<(end - 1)]))
                    held = chunk[end - 1]
                    try write(buffer, command: "APPEND")
                    offset = end
                }
            }
            try beforeFinalByte()
        } catch {
            broken = true
            close()
            throw error
        }
        var tail: [UInt8] = held.map { [$0] } ?? []
        tail += [0x0d, 0x0a]
        try write(tail, command: "APPEND")
        appendsPending.append((sequence, encoded.tag))
        return sequence
    }

    /// Whether `beginMultiAppend` can send messages of these sizes: the server speaks MULTIAPPEND (RFC 3502) and
    /// takes every literal without a continuation, so the whole command goes out without a round trip.
    public func canMultiAppend(sizes: [Int64]) -> Bool {
        guard capabilities.contains("MULTIAPPEND") else { return false }
        let mode = literalModeOverride ?? IMAPLiteralMode(capabilities: capabilities)
        return sizes.allSatisfy { mode.isNonSynchronizing(size: $0) }
    }

    /// Sends one MULTIAPPEND command with `messages` (held in memory, so nothing can fail half way through the
    /// bytes). The server stores all of them or none (RFC 3502); the outcome from `nextAppendOutcome` carries
    /// the UIDs in message order when the server sends APPENDUID. Flags must already be valid (see
    /// `appendableFlags`). Returns a sequence number, like `beginAppend`.
    public func beginMultiAppend(to mailbox: String, messages: [(item: IMAPAppendItem, bytes: [UInt8])]) throws -> Int {
        guard canMultiAppend(sizes: messages.map(\.item.size)) else {
            throw IMAPError(.invalidArgument, server: server, command: "APPEND", detail: "the server takes no MULTIAPPEND of these sizes")
        }
        for message in messages where message.item.size != Int64(message.bytes.count) {
            throw IMAPError(.invalidArgument, server: server, command: "APPEND", detail: "a message's size is not its byte count")
        }
        try takeAvailableResponses()
        let encoded = try encodeAndRecord(.multiAppend(mailbox: mailbox, messages: messages.map(\.item)))
        appendCounter += 1
        let sequence = appendCounter
        var buffer = channel.allocator.buffer(capacity: Self.writeChunkSize + 4096)
        func flushIfFull() throws {
            guard buffer.readableBytes >= Self.writeChunkSize else { return }
            try write(buffer, command: "APPEND")
            buffer = channel.allocator.buffer(capacity: Self.writeChunkSize + 4096)
        }
        for part in encoded.parts {
            switch part {
            case .data(let bytes):
                buffer.writeBytes(bytes)
            case .messageBytes(let index):
                let bytes = messages[index].bytes
                var offset = 0
                while offset < bytes.count {
                    let room = max(1, Self.writeChunkSize - buffer.readableBytes)
                    let end = min(bytes.count, offset + room)
                    buffer.writeBytes(bytes[offset..<end])
                    offset = end
                    try flushIfFull()
                }
            case .awaitContinuation:
                throw IMAPError(.unusable, server: server, command: "APPEND", detail: "a MULTIAPPEND literal would need a continuation")
            }
            try flushIfFull()
        }
        buffer.writeBytes([0x0d, 0x0a])
        try write(buffer, command: "APPEND")
        appendsPending.append((sequence, encoded.tag))
        return sequence
    }

    /// The flags an APPEND may carry: without `\Recent` (RFC 9051 section 2.3.2: not settable); throws
    /// `.invalidArgument` for one that is not an IMAP atom, which would make the command line malformed.
    public func appendableFlags(_ flags: [String]) throws -> [String] {
        let flags = flags.filter { $0.lowercased() != "\\recent" }
        if let bad = flags.first(where: { !IMAPCommandEncoder.isValidFlag($0) }) {
            throw IMAPError(
                .invalidArgument, server: server, command: "APPEND", detail: "flag \"\(bad)\" is not an IMAP atom")
        }
        return flags
    }

    /// Streams an APPEND's body, holding it to its announced `byteCount`: the literal's size is already on the wire.
    private func stream(_ body: any ItemBody, _ each: (UnsafeRawBufferPointer) throws -> Void) throws {
        let size = body.byteCount
        var sent: Int64 = 0
        try body.stream { chunk in
            sent += Int64(chunk.count)
            guard sent <= size else {
                throw IMAPError(.unusable, server: server, command: "APPEND", detail: "body longer than its byteCount")
            }
            try each(chunk)
        }
        guard sent == size else {
            throw IMAPError(
                .unusable, server: server, command: "APPEND", detail: "body gave \(sent) bytes, not its byteCount of \(size)")
        }
    }

    /// Files the responses that have arrived without waiting for more, so a long run of pipelined APPENDs does
    /// not leave their answers piling up in the hand-off (which would stop reading, then the server, then us).
    func takeAvailableResponses() throws {
        while true {
            while let event = try decodedEvent(command: "APPEND") {
                _ = try route(event, command: "APPEND")
            }
            guard let taken = queue.takeIfAvailable() else { return }
            try accept(taken, command: "APPEND")
        }
    }

    /// Waits for the oldest APPEND in flight and tells how it ended.
    public func nextAppendOutcome() throws -> IMAPAppendOutcome {
        guard let (sequence, tag) = appendsPending.first else {
            throw IMAPError(.unusable, server: server, command: "APPEND", detail: "no APPEND in flight")
        }
        let response = try awaitCompletion(of: tag, command: "APPEND")
        appendsPending.removeFirst()
        switch response.status {
        case .ok:
            if case .appendUID(let validity, let uid, let set) = response.text.code {
                return IMAPAppendOutcome(
                    sequence: sequence, result: .appended(uidValidity: validity, uid: uid),
                    uids: IMAPUIDSet.expand(set) ?? [])
            }
            return IMAPAppendOutcome(sequence: sequence, result: .appended(uidValidity: nil, uid: nil))
        default:
            return IMAPAppendOutcome(
                sequence: sequence,
                result: .refused(status: response.status, text: response.text.text, code: response.text.code))
        }
    }

    // MARK: The engine

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

    func nextEvent(command: String, until end: Date) throws -> IMAPResponseEvent {
        while true {
            if let event = try decodedEvent(command: command) { return event }
            try accept(queue.take(until: end), command: command)
        }
    }

    /// Feeds received bytes to the decoder, or turns the end of the connection or a timeout into an error.
    func accept(_ taken: InboundQueue.Taken, command: String) throws {
        switch taken {
        case .bytes(let buffer, let resume):
            tlsConfirmed = true
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
                detail: "server answered \(response.status.rawValue)", serverText: response.text.text,
                responseCode: response.text.code)
        }
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
            kind, server: server, command: command, detail: detail, serverText: serverText, responseCode: code)
    }

    func close() {
        machine.closed()
        channel.close(promise: nil)
    }
}
