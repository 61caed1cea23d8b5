import Foundation
import IMAPCore
import MailModel
import TestSupport
import Testing

@testable import IMAPClient

#if canImport(Glibc)
    import Glibc
#endif

/// The client against a real Dovecot started by each test (DovecotIMAPServer).
@Suite(.serialized, .blocking) struct DovecotIMAPTests {
    static let users = [DovecotIMAPServer.User("alice", "secret"), DovecotIMAPServer.User("bob", "bobpw")]
    static let master = DovecotIMAPServer.User("admin", "masterpw")
    #if DEBUG
        static let buildKind = "debug"
    #else
        static let buildKind = "release"
    #endif

    func server(plaintext: Bool = false, tls: Bool = true) throws -> DovecotIMAPServer {
        try DovecotIMAPServer(users: Self.users, masterUser: Self.master, allowPlaintextAuth: plaintext, tls: tls)
    }

    func endpoint(_ server: DovecotIMAPServer, _ security: IMAPSecurity, host: String = "127.0.0.1") -> IMAPEndpoint {
        IMAPEndpoint(
            host: host, port: security == .implicitTLS ? server.imapsPort : server.imapPort, security: security,
            caFile: server.caFile, timeout: .seconds(30))
    }

    func login(
        _ server: DovecotIMAPServer, _ security: IMAPSecurity = .implicitTLS, user: String = "alice",
        password: String = "secret"
    ) throws -> IMAPConnection {
        let connection = try IMAPConnection.open(endpoint(server, security))
        try connection.authenticate(.login(user: user, password: password))
        return connection
    }

    func kind(_ body: () throws -> Void) -> IMAPError.Kind? {
        do {
            try body()
            return nil
        } catch let error as IMAPError {
            return error.kind
        } catch {
            Issue.record("not an IMAPError: \(error)")
            return nil
        }
    }

    @Test func loginOverSTARTTLSAndImplicitTLS() throws {
        let dovecot = try server()
        for security in [IMAPSecurity.startTLS, .implicitTLS] {
            let connection = try IMAPConnection.open(endpoint(dovecot, security))
            #expect(connection.isTLS)
            #expect(connection.capabilities.contains("IMAP4REV1"))
            #expect(!connection.capabilities.contains("STARTTLS"))
            try connection.authenticate(.login(user: "alice", password: "secret"))
            #expect(connection.capabilities.contains("UIDPLUS") && connection.capabilities.contains("LITERAL+"))
            let inbox = try connection.select("INBOX", readOnly: true)
            #expect(inbox.exists == 0 && inbox.uidValidity != nil && inbox.readOnly)
            try connection.noop()
            connection.logout()
            #expect(!connection.isUsable)
        }
        // The certificate names localhost too.
        let byName = try IMAPConnection.open(endpoint(dovecot, .implicitTLS, host: "localhost"))
        byName.logout()
    }

    @Test func certificateVerification() throws {
        let dovecot = try server()
        // The system roots do not trust the test CA.
        var untrusted = endpoint(dovecot, .implicitTLS)
        untrusted.caFile = nil
        do {
            _ = try IMAPConnection.open(untrusted)
            Issue.record("connected with an untrusted certificate")
        } catch let error as IMAPError {
            #expect(error.kind == .tls)
            #expect(error.description.contains("127.0.0.1:\(dovecot.imapsPort)"))
            #expect(error.description.lowercased().contains("certificate"), "\(error)")
        }
        // Nor does another CA; STARTTLS fails the same way.
        let other = try server(tls: true)
        var wrongCA = endpoint(dovecot, .startTLS)
        wrongCA.caFile = other.caFile
        do {
            _ = try IMAPConnection.open(wrongCA)
            Issue.record("connected with a certificate from another CA")
        } catch let error as IMAPError {
            #expect(error.kind == .tls, "\(error)")
        }
        // The right CA, but the certificate names only localhost: 127.0.0.1 does not match, localhost does.
        let dnsOnly = try DovecotIMAPServer(users: Self.users, subjectAltName: "DNS:localhost")
        do {
            _ = try IMAPConnection.open(endpoint(dnsOnly, .implicitTLS))
            Issue.record("connected to 127.0.0.1 with a certificate that does not name it")
        } catch let error as IMAPError {
            #expect(error.kind == .tls, "\(error)")
        }
        try IMAPConnection.open(endpoint(dnsOnly, .implicitTLS, host: "localhost")).logout()
    }

    @Test func plaintextPasswordsNeedPermission() throws {
        let dovecot = try server(plaintext: true, tls: false)
        var clear = endpoint(dovecot, .startTLS)
        clear.caFile = nil
        let connection = try IMAPConnection.open(clear)
        #expect(!connection.isTLS && !connection.capabilities.contains("STARTTLS"))
        do {
            try connection.authenticate(.login(user: "alice", password: "secret"))
            Issue.record("sent a password in the clear")
        } catch let error as IMAPError {
            #expect(error.kind == .plaintextRefused)
            #expect(!error.description.contains("secret"))
        }
        #expect(connection.isUsable)
        clear.allowPlaintextPassword = true
        let allowed = try IMAPConnection.open(clear)
        try allowed.authenticate(.login(user: "alice", password: "secret"))
        _ = try allowed.select("INBOX", readOnly: false)
        allowed.logout()
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() throws {
        let dovecot = try server()
        let connection = try IMAPConnection.open(endpoint(dovecot, .implicitTLS))
        do {
            try connection.authenticate(.login(user: "alice", password: "Wr0ngHorse"))
            Issue.record("logged in with a wrong password")
        } catch let error as IMAPError {
            #expect(error.kind == .commandFailed(.no))
            #expect(error.command == "AUTHENTICATE PLAIN")
            #expect(error.description.contains("Authentication failed"), "\(error)")
            #expect(!error.description.contains("Wr0ngHorse"))
            #expect(!String(reflecting: error).contains("Wr0ngHorse"))
        }
    }

    @Test func masterUserLoginAndSASLAuthorizationIdentity() throws {
        let dovecot = try server()
        let seed = try login(dovecot)
        #expect(try seed.create("FromAlice"))
        seed.logout()
        // Dovecot's master login: user*master.
        let master = try login(dovecot, user: "alice*admin", password: "masterpw")
        #expect(try master.listMailboxes().contains { $0.name == "FromAlice" })
        master.logout()
        // SASL PLAIN: authorization identity alice, authentication identity admin.
        let sasl = try IMAPConnection.open(endpoint(dovecot, .startTLS))
        try sasl.authenticate(.plain(authorizationID: "alice", authenticationID: "admin", password: "masterpw"))
        #expect(try sasl.listMailboxes().contains { $0.name == "FromAlice" })
        sasl.logout()
        // bob cannot act as alice.
        let bob = try IMAPConnection.open(endpoint(dovecot, .implicitTLS))
        #expect(
            kind { try bob.authenticate(.plain(authorizationID: "alice", authenticationID: "bob", password: "bobpw")) }
                == .commandFailed(.no))
    }

    @Test func foldersNamespaceAndSubscriptions() throws {
        let dovecot = try server()
        let connection = try login(dovecot, .startTLS)
        let namespace = try connection.namespace()
        #expect(namespace == IMAPNamespace(prefix: "", separator: "/"))
        #expect(try connection.create("Projekt/ärger"))
        #expect(try connection.create("日本語/メール"))
        #expect(try connection.create("Archive/2001"))
        #expect(try connection.create("Quote \"and\" back\\slash"))
        #expect(try connection.create("Archive/2001") == false)
        _ = try connection.create("Sent")  // Dovecot answers OK once for a folder it has only "auto"-listed
        #expect(try connection.create("Sent") == false)
        try connection.subscribe("Archive/2001")
        try connection.subscribe("日本語/メール")
        let listing = try connection.listMailboxes()
        let byName = Dictionary(listing.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["Projekt/ärger"]?.wireName == "Projekt/&AOQ-rger")
        #expect(byName["Projekt/ärger"]?.subscribed == false)
        #expect(byName["日本語/メール"]?.subscribed == true)
        #expect(byName["Archive/2001"]?.subscribed == true)
        #expect(byName["Quote \"and\" back\\slash"] != nil)
        #expect(byName["Sent"]?.specialUse == "\\Sent" && byName["Sent"]?.subscribed == true)
        #expect(byName["Drafts"]?.specialUse == "\\Drafts")
        #expect(byName["Trash"]?.specialUse == "\\Trash")
        #expect(byName["Sent"]?.attributes.contains("\\sent") == true)
        #expect(byName["INBOX"] != nil)
        #expect(listing.allSatisfy { $0.separator == "/" })
        #expect(byName["Projekt"].map { !$0.isSelectable } ?? true)
        let selected = try connection.select("Projekt/ärger", readOnly: false)
        #expect(selected.exists == 0 && selected.uidNext == 1)
        #expect(selected.highestModSeq != nil)  // Dovecot has CONDSTORE: SELECT ... (CONDSTORE)
        #expect(!selected.readOnly)
        #expect(selected.permanentFlags.contains("\\*"))
        #expect(kind { _ = try connection.select("Does/Not/Exist", readOnly: false) } == .commandFailed(.no))
        #expect(connection.isUsable)
        // A failed SELECT leaves nothing selected: fetching is refused before anything is sent.
        #expect(kind { _ = try connection.fetchSummaries(uids: 1...UInt32.max) } == .unusable)
        #expect(connection.isUsable)
    }

    /// LIST and LSUB (servers without LIST-EXTENDED) give the same names, special uses and subscriptions.
    @Test func listAndLsubAgreeWithListExtended() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        for name in ["Projekt/ärger", "Archive/2001", "Archive/2002", "日本語"] { _ = try connection.create(name) }
        try connection.subscribe("Archive/2001")
        try connection.subscribe("日本語")
        func summary(_ listing: [IMAPMailboxListing]) -> [String] {
            listing.filter(\.isSelectable).map {
                "\($0.name) \($0.specialUse ?? "-") \($0.subscribed) \($0.separator ?? "NIL")"
            }.sorted()
        }
        connection.listExtendedOverride = true
        let extended = try connection.listMailboxes()
        connection.listExtendedOverride = false
        let plain = try connection.listMailboxes()
        #expect(summary(extended) == summary(plain))
        #expect(summary(plain).contains("日本語 - true /"))
        #expect(summary(plain).contains("Sent \\Sent true /"))
        #expect(plain.contains { $0.name == "Archive" && !$0.isSelectable })
    }

    @Test func aclRoundTrip() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        #expect(try connection.create("Shared"))
        try connection.setACL("Shared", identifier: "bob", rights: "lr")
        let acl = try connection.getACL("Shared")
        #expect(acl.contains { $0.identifier == "bob" && $0.rights == "lr" })
        #expect(acl.contains { $0.identifier == "alice" })
        try connection.setACL("Shared", identifier: "bob", rights: "lrs")
        #expect(try connection.getACL("Shared").contains { $0.identifier == "bob" && $0.rights == "lrs" })
        #expect(kind { try connection.setACL("Nope", identifier: "bob", rights: "lr") } == .commandFailed(.no))
    }

    struct Sample {
        var name: String
        var bytes: [UInt8]
        var flags: [String]
        var date: InternalDate?
    }

    static let samples: [Sample] = [
        Sample(
            name: "plain", bytes: Array("From: a@example.com\r\nSubject: Plain one\r\n\r\nHello\r\n".utf8),
            flags: ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"],
            date: InternalDate(epochSeconds: 978_339_600, utcOffsetMinutes: 60)),
        Sample(
            name: "keywords", bytes: Array("Subject: Keywords\r\nX-Tag: needle-4711\r\n\r\nbody\r\n".utf8),
            flags: ["$Forwarded", "Work", "\\Seen"],
            date: InternalDate(epochSeconds: 946_704_599, utcOffsetMinutes: -330)),
        Sample(
            name: "old", bytes: Array("Subject: Old\r\n\r\n1985\r\n".utf8), flags: [],
            date: InternalDate(epochSeconds: 499_162_800, utcOffsetMinutes: 840)),
        Sample(
            name: "8-bit",
            bytes: Array("Subject: Grüße\r\nContent-Type: text/plain; charset=utf-8\r\n\r\näöü ß €\r\n".utf8) + [
                0xff, 0xfe, 0x0d, 0x0a,
            ],
            flags: ["\\Flagged"], date: nil),
        Sample(
            name: "no final CRLF", bytes: Array("Subject: Open end\r\n\r\nno newline at the end".utf8), flags: [],
            date: nil),
    ]

    /// One MULTIAPPEND (RFC 3502) stores every sample with its own flags and date, and APPENDUID lists their UIDs
    /// in message order; a second command behind it in the pipe is answered in turn.
    @Test func multiAppendStoresEachMessageWithItsUIDInOrder() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        #expect(try connection.create("Batch"))
        let sizes = Self.samples.map { Int64($0.bytes.count) }
        #expect(connection.canMultiAppend(sizes: sizes))
        let messages = Self.samples.map {
            (item: IMAPAppendItem(flags: $0.flags, internalDate: $0.date, size: Int64($0.bytes.count)), bytes: $0.bytes)
        }
        let first = try connection.beginMultiAppend(to: "Batch", messages: messages)
        let second = try connection.beginMultiAppend(to: "Batch", messages: Array(messages.prefix(2)))
        let outcome = try connection.nextAppendOutcome()
        #expect(outcome.sequence == first)
        guard case .appended(let validity?, let uid?) = outcome.result else {
            Issue.record("MULTIAPPEND refused: \(outcome)")
            return
        }
        #expect(outcome.uids.count == Self.samples.count && outcome.uids.first == uid)
        let again = try connection.nextAppendOutcome()
        #expect(again.sequence == second && again.uids.count == 2)
        #expect(Set(outcome.uids).isDisjoint(with: again.uids))
        let selected = try connection.select("Batch", readOnly: true)
        #expect(selected.uidValidity == validity && selected.exists == UInt32(Self.samples.count + 2))
        let summaries = try connection.fetchSummaries(uids: 1...UInt32.max)
        var fetched: [UInt32: [UInt8]] = [:]
        try connection.fetchBodies(uids: outcome.uids) { uid, body in
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            fetched[uid] = bytes
        }
        for (sample, uid) in zip(Self.samples, outcome.uids) {
            #expect(fetched[uid] == sample.bytes, "\(sample.name) is not at UID \(uid)")
            let summary = summaries.first { $0.uid == uid }
            #expect(summary.map { Set($0.flags) } == Set(sample.flags), "\(sample.name)")
            if let date = sample.date { #expect(summary?.internalDate.epochSeconds == date.epochSeconds, "\(sample.name)") }
        }
        // Sizes that do not match the bytes are refused before anything is sent.
        var wrong = messages[0]
        wrong.item.size += 1
        #expect(kind { _ = try connection.beginMultiAppend(to: "Batch", messages: [wrong, messages[1]]) } == .invalidArgument)
        try connection.noop()
    }

    @Test func pipelinedAppendThenFetchGivesTheSameBytesFlagsAndDates() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        #expect(try connection.create("Import"))
        var sequences: [Int] = []
        var verified = 0
        for sample in Self.samples {
            sequences.append(
                try connection.beginAppend(
                    to: "Import", flags: sample.flags, internalDate: sample.date, body: MemoryBody(sample.bytes),
                    beforeFinalByte: { verified += 1 }))
        }
        #expect(verified == Self.samples.count)
        #expect(connection.appendsInFlight == Self.samples.count)
        var uids: [Int: UInt32] = [:]
        var validity: UInt32?
        for expected in sequences {
            let outcome = try connection.nextAppendOutcome()
            #expect(outcome.sequence == expected)
            guard case .appended(let v, let uid?) = outcome.result else {
                Issue.record("APPEND \(expected) refused: \(outcome)")
                continue
            }
            validity = v
            uids[expected] = uid
        }
        #expect(connection.appendsInFlight == 0)
        #expect(kind { _ = try connection.nextAppendOutcome() } == .unusable)
        let selected = try connection.select("Import", readOnly: true)
        #expect(selected.uidValidity == validity && selected.exists == UInt32(Self.samples.count))

        let summaries = try connection.fetchSummaries(uids: 1...UInt32.max)
        #expect(summaries.count == Self.samples.count)
        for (index, sample) in Self.samples.enumerated() {
            guard let uid = uids[sequences[index]], let summary = summaries.first(where: { $0.uid == uid }) else {
                Issue.record("no summary for \(sample.name)")
                continue
            }
            #expect(Set(summary.flags) == Set(sample.flags), "\(sample.name)")
            #expect(summary.size == Int64(sample.bytes.count), "\(sample.name)")
            #expect(summary.guid?.isEmpty == false)
            if let date = sample.date {
                // Dovecot's Maildir keeps the instant (as the file's mtime), not the zone.
                #expect(summary.internalDate.epochSeconds == date.epochSeconds, "\(sample.name)")
            }
        }
        var fetched: [UInt32: [UInt8]] = [:]
        try connection.fetchBodies(uids: Array(uids.values) + [999]) { uid, body in
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            #expect(Int64(bytes.count) == body.byteCount)
            fetched[uid] = bytes
        }
        #expect(fetched.count == Self.samples.count)  // 999 does not exist: simply absent
        for (index, sample) in Self.samples.enumerated() {
            #expect(fetched[uids[sequences[index]] ?? 0] == sample.bytes, "\(sample.name) differs")
        }
        // Bodies left unread are drained; the connection stays in step.
        var calls = 0
        try connection.fetchBodies(uids: Array(uids.values)) { _, _ in calls += 1 }
        #expect(calls == Self.samples.count)
        // Reading twice, or after the callback, is refused.
        var kept: (any ItemBody)?
        try connection.fetchBodies(uids: [uids[sequences[0]]!]) { _, body in
            _ = try Digest.of(body)
            #expect(throws: ConnectorError.self) { _ = try Digest.of(body) }
            kept = body
        }
        #expect(throws: ConnectorError.self) { _ = try Digest.of(kept!) }
        try connection.noop()

        // Search by size and by header.
        let keywords = uids[sequences[1]]!
        #expect(try connection.uidSearch([.header("X-Tag", "needle-4711")]) == [keywords])
        let largest = uids[sequences[3]]!
        #expect(try connection.uidSearch([.larger(Int64(Self.samples[3].bytes.count - 1))]) == [largest])
        #expect(try connection.uidSearch([.smaller(30)]) == [uids[sequences[2]]!])
        #expect(try connection.uidSearch([.all]).count == Self.samples.count)
        #expect(try connection.uidSearch([.header("Subject", "Grüße")]) == [largest])
        #expect(try connection.uidSearch([.on(IMAPDate(year: 1985, month: 10, day: 26))]).count <= 1)
    }

    /// As against a server without LITERAL+: every APPEND waits for its "+", and a search string with 8-bit
    /// characters goes as a synchronizing literal too.
    @Test func synchronizingLiterals() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        connection.literalModeOverride = .synchronizing
        var sequences: [Int] = []
        for sample in Self.samples {
            sequences.append(
                try connection.beginAppend(
                    to: "INBOX", flags: sample.flags, internalDate: sample.date, body: MemoryBody(sample.bytes),
                    beforeFinalByte: {}))
        }
        _ = try connection.beginAppend(
            to: "Missing", flags: [], internalDate: nil, body: MemoryBody(Array("x".utf8)),
            beforeFinalByte: {
                Issue.record("the body was sent although the server refused the APPEND")
            })
        var uids: [UInt32] = []
        for expected in sequences {
            let outcome = try connection.nextAppendOutcome()
            #expect(outcome.sequence == expected)
            if case .appended(_, let uid?) = outcome.result { uids.append(uid) }
        }
        guard case .refused(.no, _, .tryCreate) = try connection.nextAppendOutcome().result else {
            Issue.record("APPEND to a missing mailbox was not refused with TRYCREATE")
            return
        }
        #expect(uids.count == Self.samples.count)
        _ = try connection.select("INBOX", readOnly: true)
        #expect(try connection.uidSearch([.header("Subject", "Grüße")]) == [uids[3]])
        var fetched: [UInt32: [UInt8]] = [:]
        try connection.fetchBodies(uids: uids) { uid, body in
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            fetched[uid] = bytes
        }
        #expect(uids.enumerated().allSatisfy { fetched[$0.element] == Self.samples[$0.offset].bytes })
    }

    @Test func flagsThatAreNotAtomsAreRefusedBeforeSending() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        for flag in ["two words", "(paren", "quo\"te", "", "\\", "brace{"] {
            #expect(
                kind {
                    _ = try connection.beginAppend(
                        to: "INBOX", flags: [flag], internalDate: nil, body: MemoryBody([0x41]), beforeFinalByte: {})
                } == .invalidArgument, "\(flag)")
        }
        #expect(connection.isUsable && connection.appendsInFlight == 0)
        // \Recent cannot be set by a client and is dropped.
        _ = try connection.beginAppend(
            to: "INBOX", flags: ["\\Recent", "\\Seen"], internalDate: nil,
            body: MemoryBody(Array("Subject: r\r\n\r\n".utf8)), beforeFinalByte: {})
        guard case .appended = try connection.nextAppendOutcome().result else {
            Issue.record("APPEND with \\Recent was refused")
            return
        }
    }

    /// Many pipelined APPENDs without taking outcomes: answers are filed as they come, nothing stalls.
    @Test func manyPipelinedAppendsBeforeAnyOutcome() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        let count = 300
        for i in 0..<count {
            _ = try connection.beginAppend(
                to: "INBOX", flags: i % 2 == 0 ? ["\\Seen"] : [], internalDate: nil,
                body: MemoryBody(Array("Subject: number \(i)\r\n\r\nbody \(i)\r\n".utf8)), beforeFinalByte: {})
        }
        #expect(connection.appendsInFlight == count)
        var uids: [UInt32] = []
        for i in 0..<count {
            let outcome = try connection.nextAppendOutcome()
            #expect(outcome.sequence == i + 1)
            if case .appended(_, let uid?) = outcome.result { uids.append(uid) }
        }
        #expect(uids == Array(1...UInt32(count)))
        _ = try connection.select("INBOX", readOnly: true)
        #expect(try connection.uidSearch([.header("Subject", "number 299")]) == [300])
        #expect(
            try connection.fetchSummaries(uids: 1...UInt32.max).filter { $0.flags.contains("\\Seen") }.count == count
                / 2)
    }

    @Test func emptyBareLFAndNULMessages() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        let bodies: [[UInt8]] = [
            [],
            Array("Subject: bare LF\n\nline one\nline two\n".utf8),
            Array("Subject: NUL\r\n\r\nbefore".utf8) + [0] + Array("after\r\n".utf8),
        ]
        var sequences: [Int] = []
        for body in bodies {
            sequences.append(
                try connection.beginAppend(
                    to: "INBOX", flags: [], internalDate: nil, body: MemoryBody(body), beforeFinalByte: {}))
        }
        var outcomes: [IMAPAppendOutcome] = []
        for _ in bodies { outcomes.append(try connection.nextAppendOutcome()) }
        #expect(outcomes.map(\.sequence) == sequences)
        // Dovecot refuses a zero-byte message: surfaced as refused, connection still fine.
        guard case .refused(let status, let text, _) = outcomes[0].result else {
            Issue.record("empty message: \(outcomes[0])")
            return
        }
        #expect(status == .no && text.contains("zero byte"))
        #expect(connection.isUsable)
        _ = try connection.select("INBOX", readOnly: true)
        var fetched: [UInt32: [UInt8]] = [:]
        let uids = outcomes.compactMap { outcome -> UInt32? in
            if case .appended(_, let uid) = outcome.result { return uid }
            return nil
        }
        try connection.fetchBodies(uids: uids) { uid, body in
            var bytes: [UInt8] = []
            try body.stream { bytes += $0 }
            fetched[uid] = bytes
        }
        // Bare LF: Dovecot hands lines back with CRLF.
        if case .appended(_, let uid?) = outcomes[1].result {
            #expect(fetched[uid] == Array("Subject: bare LF\r\n\r\nline one\r\nline two\r\n".utf8))
        } else {
            Issue.record("bare LF refused: \(outcomes[1])")
        }
        // NUL: accepted or refused, but never a broken connection.
        print("Dovecot and a message with a NUL byte: \(outcomes[2].result)")
        if case .appended(_, let uid?) = outcomes[2].result {
            #expect(fetched[uid]?.count == bodies[2].count)
            print("NUL message fetched back byte-identical: \(fetched[uid] == bodies[2])")
        }
        try connection.noop()
    }

    @Test func fiftyMegabyteMessageStreamsBothWays() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        let size: Int64 = 50 << 20
        let body = GeneratedBody(size: size)
        let expected = try Digest.of(body)
        var start = Date()
        let sequence = try connection.beginAppend(
            to: "INBOX", flags: ["\\Seen"], internalDate: nil, body: body, beforeFinalByte: {})
        let outcome = try connection.nextAppendOutcome()
        let appendSeconds = Date().timeIntervalSince(start)
        #expect(outcome.sequence == sequence)
        guard case .appended(_, let uid?) = outcome.result else {
            Issue.record("50 MB APPEND refused: \(outcome)")
            return
        }
        _ = try connection.select("INBOX", readOnly: true)
        #expect(try connection.fetchSummaries(uids: uid...uid).first?.size == size)
        // Fetched twice: 100 MB pass through; resident memory must grow by less than one message.
        let rssBefore = Memory.residentMB
        var peaks: [Int] = []
        var fetchSeconds = 0.0
        for _ in 0..<2 {
            start = Date()
            var got = Digest()
            var announced: Int64 = 0
            var peak = Memory.residentMB
            var chunks = 0
            try connection.fetchBodies(uids: [uid]) { _, fetched in
                announced = fetched.byteCount
                try fetched.stream {
                    got.add($0)
                    chunks += 1
                    if chunks % 64 == 0 { peak = max(peak, Memory.residentMB) }
                }
            }
            fetchSeconds = Date().timeIntervalSince(start)
            peaks.append(peak)
            #expect(announced == size)
            #expect(got.count == size && got.value == expected.value)
        }
        print(
            "50 MB over TLS on loopback: APPEND \(String(format: "%.1f", 50 / appendSeconds)) MB/s, "
                + "FETCH \(String(format: "%.1f", 50 / fetchSeconds)) MB/s (\(Self.buildKind) build, hashing included); "
                + "resident memory \(rssBefore) MB before, peaks \(peaks) MB during two fetches, "
                + "at most \(connection.inboundPeakBytes / 1024) KiB waiting in the hand-off")
        // Resident memory is only printed: other suites running in the same process move it. What bounds it is
        // checked: the decoder streams (IMAPCoreTests), and the hand-off stops reading at 2 MiB (one more TLS
        // record's worth may arrive before that takes effect).
        // The hand-off stops reading at 4 MiB; one more TLS record's worth may arrive before it takes effect.
        #expect(connection.inboundPeakBytes <= InboundQueue.highWater + (1 << 20), "\(connection.inboundPeakBytes)")
    }

    @Test func appendAbortedBeforeTheFinalByteLeavesNothing() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        #expect(try connection.create("Aborted"))
        struct ChecksumMismatch: Error {}
        let first = try connection.beginAppend(
            to: "Aborted", flags: [], internalDate: nil, body: MemoryBody(Array("Subject: kept\r\n\r\nok\r\n".utf8)),
            beforeFinalByte: {})
        #expect(try connection.nextAppendOutcome().sequence == first)
        #expect(throws: ChecksumMismatch.self) {
            _ = try connection.beginAppend(
                to: "Aborted", flags: [], internalDate: nil, body: GeneratedBody(size: 3 << 20),
                beforeFinalByte: { throw ChecksumMismatch() })
        }
        #expect(!connection.isUsable)
        #expect(kind { try connection.noop() } == .unusable)
        let check = try login(dovecot)
        let mailbox = try check.select("Aborted", readOnly: true)
        #expect(mailbox.exists == 1)
        #expect(try check.fetchSummaries(uids: 1...UInt32.max).count == 1)
        // A body that gives fewer bytes than it announced is caught too.
        struct ShortBody: ItemBody {
            var byteCount: Int64 { 100 }
            var origin: String { "short" }
            func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
                try Array("Subject: short\r\n\r\n".utf8).withUnsafeBytes { try consume($0) }
            }
        }
        #expect(
            kind {
                _ = try check.beginAppend(
                    to: "Aborted", flags: [], internalDate: nil, body: ShortBody(), beforeFinalByte: {})
            } == .unusable)
        let again = try login(dovecot)
        #expect(try again.select("Aborted", readOnly: true).exists == 1)
    }

    @Test func appendToAMissingMailboxIsRefusedWithTryCreate() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        _ = try connection.beginAppend(
            to: "Missing", flags: [], internalDate: nil, body: MemoryBody(Array("Subject: x\r\n\r\n".utf8)),
            beforeFinalByte: {})
        let outcome = try connection.nextAppendOutcome()
        guard case .refused(.no, _, .tryCreate) = outcome.result else {
            Issue.record("expected NO [TRYCREATE], got \(outcome)")
            return
        }
        try connection.noop()
    }

    @Test func serverRestartMidSessionIsAnErrorNotAHang() throws {
        let dovecot = try server()
        let connection = try login(dovecot)
        _ = try connection.select("INBOX", readOnly: false)
        try dovecot.restart()
        let started = Date()
        let k = kind {
            try connection.noop()
            try connection.noop()
        }
        #expect(k == .closed || k == .timeout)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(!connection.isUsable)
        #expect(kind { try connection.noop() } == .unusable)
        let fresh = try login(dovecot)
        _ = try fresh.select("INBOX", readOnly: false)
        fresh.logout()
    }

    @Test func aSilentServerTimesOut() throws {
        // A listening socket that never answers: the kernel completes the connection, no greeting comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        try #require(ok)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let started = Date()
        do {
            _ = try IMAPConnection.open(
                IMAPEndpoint(host: "127.0.0.1", port: port, security: .startTLS, timeout: .seconds(1)))
            Issue.record("opened a connection to a silent server")
        } catch let error as IMAPError {
            #expect(error.kind == .timeout)
            #expect(error.description.contains("127.0.0.1:\(port)") && error.description.contains("greeting"))
        }
        #expect(Date().timeIntervalSince(started) < 10)
        // Nothing listening at all.
        let unused = try FreePort.make()
        #expect(
            kind {
                _ = try IMAPConnection.open(
                    IMAPEndpoint(host: "127.0.0.1", port: unused, security: .implicitTLS, timeout: .seconds(2)))
            } == .connect)
    }
}
