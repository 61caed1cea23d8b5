import BufferSpool
import Foundation
@testable import PostgresSpool
import Testing
import TestSupport

@testable import Buffer

/// The spool's operations as the buffer uses them (`SpoolStore`), run against both stores: the file spool
/// (SQLite) and the shared spool on a throwaway PostgreSQL (`PostgresTestServer`).
@Suite(.blocking) struct SpoolStoreTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// An open store of `kind` in a fresh place; `reopen()` opens another handle on the same spool (a second
    /// host, for the shared one).
    final class Store: @unchecked Sendable {
        let kind: Kind
        let directory: String
        let postgres: PostgresTestServer?
        private(set) var store: any SpoolStore

        init(_ kind: Kind) throws {
            self.kind = kind
            directory = try LiveBuffer.temporaryDirectory()
            switch kind {
            case .sqlite:
                postgres = nil
                store = try BufferSpool(directory: directory + "/spool")
            case .postgres:
                let server = try PostgresTestServer()
                postgres = server
                store = try SpoolStores.open(server.url, passwordFile: nil)
            }
        }

        var location: String { postgres?.url ?? directory + "/spool" }

        /// Set up on a thread of its own: initdb and the wait for PostgreSQL block, and the concurrency threads
        /// are few (other suites' servers need them meanwhile).
        static func make(_ kind: Kind) async throws -> Store {
            try await Client.offThread { try Store(kind) }
        }

        func reopen() throws -> any SpoolStore {
            try store.close()
            store = try SpoolStores.open(location, passwordFile: nil)
            return store
        }

        deinit {
            try? store.close()
            postgres?.stop(remove: true)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static let alice = "alice@example.com"

    static func envelope(_ user: String = alice, messageID: String? = nil) -> Envelope {
        Envelope(sender: "s@example.org", recipients: [Recipient(address: user, user: user)], messageID: messageID)
    }

    static func bytes(_ n: Int) -> [UInt8] {
        Array(("Subject: \(n)\r\n\r\n" + String(repeating: "line of message \(n)\r\n", count: 50 * (n + 1))).utf8)
    }

    static func commit(_ store: any SpoolStore, _ bytes: [UInt8], messageID: String? = nil) throws -> HeldMessage {
        let writer = try store.openWriter(envelope(messageID: messageID))
        try writer.append(bytes)
        return try writer.commitAndWait()
    }

    static func read(_ store: any SpoolStore, _ id: MessageID) throws -> [UInt8] {
        var out: [UInt8] = []
        try store.readMessage(id) { out += $0 }
        return out
    }

    @Test(arguments: Kind.allCases) func committedMessagesReadBackWithTheirHash(_ kind: Kind) async throws {
        let fx = try await Store.make(kind)
        try fx.store.hold(user: Self.alice)
        #expect(fx.store.acceptsMail(for: Self.alice))
        #expect(!fx.store.acceptsMail(for: "bob@example.com"))
        #expect(throws: SpoolError.userNotHeld(user: "bob@example.com")) {
            _ = try fx.store.openWriter(Self.envelope("bob@example.com"))
        }
        var committed: [HeldMessage] = []
        for n in 0..<3 {
            committed.append(try Self.commit(fx.store, Self.bytes(n), messageID: "<\(n)@example.org>"))
        }
        #expect(committed.map(\.id) == committed.map(\.id).sorted())
        // Read back through another handle (another host for the shared spool): the bytes and the hash hold.
        let store = try fx.reopen()
        let held = try store.heldMessages(for: Self.alice)
        #expect(held == committed)
        for (n, message) in held.enumerated() {
            let bytes = try Self.read(store, message.id)
            #expect(bytes == Self.bytes(n))
            #expect(message.sha256 == sha256(bytes) && message.size == Int64(bytes.count))
            try store.verifyMessage(message.id)
        }
        #expect(try store.hasPassedThrough(messageID: "<1@example.org>"))
        #expect(try !store.hasPassedThrough(messageID: "<9@example.org>"))
        #expect(throws: SpoolError.unknownMessage(id: MessageID(rawValue: 999_999))) {
            _ = try store.message(MessageID(rawValue: 999_999))
        }
    }

    @Test(arguments: Kind.allCases) func holdReleaseDeliverAndStatus(_ kind: Kind) async throws {
        let fx = try await Store.make(kind)
        let store = fx.store
        try store.hold(user: Self.alice)
        let messages = try (0..<3).map { try Self.commit(store, Self.bytes($0)) }
        var status = try #require(try store.status(user: Self.alice))
        #expect(status.state == .holding && status.inMigrationSet && status.heldCount == 3)
        #expect(status.heldBytes == messages.reduce(0) { $0 + $1.size })
        #expect(try store.migrationSet() == [Self.alice])

        let target = ReleaseTarget(direction: .target, address: "lmtp://127.0.0.1:24")
        #expect(throws: SpoolError.notReleasing(user: Self.alice, state: .holding)) {
            try store.markDelivering(messages[0].id, user: Self.alice, target: target.address)
        }
        try store.beginRelease(user: Self.alice, to: target)
        try store.beginRelease(user: Self.alice, to: target)  // a restarted releaser: no change
        #expect(throws: SpoolError.self) {
            try store.beginRelease(user: Self.alice, to: ReleaseTarget(direction: .target, address: "lmtp://other:24"))
        }
        try store.markDelivering(messages[0].id, user: Self.alice, target: target.address)
        #expect(try store.unknownOutcomes(for: Self.alice).map(\.id) == [messages[0].id])
        try store.markDelivered(messages[0].id, user: Self.alice, target: target.address)
        #expect(throws: SpoolError.alreadyDelivered(id: messages[0].id, user: Self.alice, target: target.address)) {
            try store.markDelivering(messages[0].id, user: Self.alice, target: target.address)
        }
        #expect(throws: SpoolError.undeliveredMessagesRemain(user: Self.alice, count: 2)) {
            try store.finishRelease(user: Self.alice)
        }
        for message in messages.dropFirst() {
            try store.markDelivering(message.id, user: Self.alice, target: target.address)
            try store.markDelivered(message.id, user: Self.alice, target: target.address)
        }
        #expect(try store.deliveries(of: messages[1].id).map(\.state) == [.delivered])
        #expect(try store.heldMessages(for: Self.alice).isEmpty)
        #expect(try store.finishRelease(user: Self.alice) == .released)
        status = try #require(try store.status(user: Self.alice))
        #expect(status.state == .released && status.heldCount == 0 && status.releaseTarget == target)
        #expect(store.acceptsMail(for: Self.alice), "a released user lingers")
        try store.close(user: Self.alice)
        #expect(try store.state(of: Self.alice) == .closed)
        #expect(!store.acceptsMail(for: Self.alice))
        try store.unhold(user: Self.alice)
        #expect(try store.status().map(\.user) == [Self.alice])
    }

    @Test(arguments: Kind.allCases) func concurrentCommitsShareTransactions(_ kind: Kind) async throws {
        let fx = try await Store.make(kind)
        let store = fx.store
        try store.hold(user: Self.alice)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<40 {
                group.addTask {
                    let writer = try store.openWriter(Self.envelope())
                    try writer.append(Self.bytes(n % 5))
                    _ = try await writer.commit()
                }
            }
            try await group.waitForAll()
        }
        let statistics = store.commitStatistics
        #expect(statistics.messages == 40)
        #expect(try store.status(user: Self.alice)?.heldCount == 40)
    }

    @Test func sharedSpoolKeepsTheReleaseStateInTheDatabase() async throws {
        let fx = try await Store.make(.postgres)
        let first = try ReleaseStateFile.update(spool: fx.store) { $0.spoolID }
        try ReleaseJob.recordForwarding(spoolDirectory: fx.location, user: Self.alice, on: false)
        let other = try fx.reopen()
        let state = try #require(try ReleaseStateFile.read(spool: other))
        #expect(state.spoolID == first)
        #expect(state.users[Self.alice]?.forwarding == .off)
    }

    @Test func sharedSpoolRunsOneExclusivePassAtATime() async throws {
        let fx = try await Store.make(.postgres)
        let second = try SpoolStores.open(fx.location, passwordFile: nil)
        defer { try? second.close() }
        let inner = try fx.store.exclusively("release alice") {
            try second.exclusively("release alice") { 1 }
        }
        #expect(inner == .some(nil), "the second host must not get the lock while the first holds it")
        #expect(try second.exclusively("release alice") { 2 } == 2, "free again once the first is done")
    }

    /// TLS to the database: with `verify-full` and the CA that signed the server's certificate the spool works;
    /// without that CA the certificate is refused, and without TLS the server refuses the connection. Each refusal
    /// names the database.
    @Test func sharedSpoolOverTLSChecksTheServersCertificate() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer(tls: true) }
        defer { postgres.stop(remove: true) }
        let ca = try #require(postgres.certificateAuthority)
        // By the name its certificate gives (localhost), as verify-full checks it.
        let byName = postgres.url.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        let verified = try SpoolStores.open(byName + "?sslmode=verify-full&sslrootcert=" + ca, passwordFile: nil)
        try verified.hold(user: Self.alice)
        let held = try Self.commit(verified, Self.bytes(2000))
        #expect(try Self.read(verified, held.id) == Self.bytes(2000))
        try verified.close()
        #expect(try postgres.psql("SHOW ssl") == "on\n")
        for (url, what, said) in [
            (byName + "?sslmode=verify-full", "a certificate from a CA the client does not trust", "CERTIFICATE_VERIFY_FAILED"),
            (postgres.url + "?sslmode=verify-full&sslrootcert=" + ca, "verify-full to an address, not a name", "verify-full needs"),
            (postgres.url, "no TLS, which the server's pg_hba.conf rejects", "no encryption"),
        ] {
            do {
                let store = try SpoolStores.open(url, passwordFile: nil)
                try? store.close()
                Issue.record("opened with \(what)")
            } catch {
                #expect("\(error)".contains(said), "\(what): \(error)")
            }
        }
    }

    @Test func sharedSpoolURLRefusesAPasswordAndParsesTLS() throws {
        #expect(throws: PostgresSpoolError.self) { try PostgresSpoolURL(parsing: "postgres://u:secret@db/spool") }
        #expect(throws: PostgresSpoolError.self) { try PostgresSpoolURL(parsing: "postgres://db/spool") }
        let url = try PostgresSpoolURL(parsing: "postgres://mf@db.example:6432/spool?sslmode=require")
        #expect(url.host == "db.example" && url.port == 6432 && url.database == "spool" && url.sslMode == .require)
        #expect(url.description == "postgres://mf@db.example:6432/spool?sslmode=require")
    }

    @Test func formatSpecShowsTheSharedSchemaVerbatim() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("format-spec/buffer-spool.md")
        let text = try String(contentsOf: spec, encoding: .utf8)
        let section = try #require(text.range(of: "## 9. The shared spool on PostgreSQL"))
        let fence = try #require(text.range(of: "```sql\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: fence.upperBound..<text.endIndex))
        func normalized(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let code = PostgresSchema.migrations.flatMap(\.sql).map { $0 + ";" }.joined(separator: "\n")
        #expect(normalized(String(text[fence.upperBound..<end.lowerBound])) == normalized(code))
    }

    @Test func sharedSpoolPasswordComesFromItsFileOrPGPASSFILEAndNeverFromAReadableFile() throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let url = try PostgresSpoolURL(parsing: "postgres://mf@db.example:5433/spool")
        let own = directory + "/password"
        try "s3cret\nignored\n".write(toFile: own, atomically: true, encoding: .utf8)
        chmod(own, 0o600)
        #expect(try url.password(passwordFile: own, environment: [:]) == "s3cret")
        let pgpass = directory + "/pgpass"
        try "other:5433:spool:mf:wrong\n*:5433:spool:mf:p\\:w\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass, 0o600)
        #expect(try url.password(passwordFile: nil, environment: ["PGPASSFILE": pgpass]) == "p:w")
        #expect(try url.password(passwordFile: nil, environment: [:]) == nil)
        chmod(own, 0o644)
        #expect(throws: PostgresSpoolError.self) { try url.password(passwordFile: own, environment: [:]) }
    }
}
