import BufferSpool
import Foundation
import TestSupport
import Testing

@testable import Buffer
@testable import PostgresSpool

/// The shared spool's connections when the database goes away under them: every wait ends as soon as the
/// connection is lost, with the database's error (451 to the SMTP client), never only at the statement timeout.
@Suite(.blocking) struct PostgresConnectionsTests {
    static let alice = "alice@example.com"
    /// Far below the statement timeout (30 s): a wait that lasted until it did not notice the loss.
    static let atOnce = Duration.seconds(10)

    /// Failed with `SpoolError.database`, which the buffer answers with 451.
    static func failedForTheDatabase<T>(_ outcome: Result<T, any Error>) -> Bool {
        if case .failure(SpoolError.database) = outcome { return true }
        return false
    }

    /// A statement sent on a connection the server has already closed fails at once, and so does the
    /// transaction's ROLLBACK after it: postgres-nio drops a statement written to a closed connection without
    /// ever answering it, so each would otherwise wait out the statement timeout, and a group commit cut off
    /// between two statements (by a database restart) took two of them, 60 s, before its clients got their 451.
    @Test func aStatementOnALostConnectionFailsAtOnce() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        let connections = try PostgresConnections(
            url: try PostgresSpoolURL(parsing: postgres.url), password: nil, connectTimeout: .seconds(5),
            statementTimeout: .seconds(30))
        defer { connections.close() }
        let (outcome, took) = try await Client.offThread { () -> (Result<Int, any Error>, Duration) in
            var lost: ContinuousClock.Instant?
            let outcome = Result {
                try connections.transaction { session in
                    let pid = try session.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
                    // Another session ends this one's server process; the client reads the close meanwhile.
                    _ = try postgres.psql("SELECT pg_terminate_backend(\(pid))")
                    let deadline = ContinuousClock.now + .seconds(30)
                    while !session.connection.isClosed && ContinuousClock.now < deadline { usleep(1000) }
                    lost = .now
                    return try session.query("SELECT 1").first!.decode(Int.self)
                }
            }
            return (outcome, ContinuousClock.now - (lost ?? .now))
        }
        #expect(
            Self.failedForTheDatabase(outcome), "a statement on a lost connection must fail with its error: \(outcome)")
        #expect(took < Self.atOnce, "the transaction on a lost connection failed only after \(took)")
        #expect(!connections.isHealthy)
        // The next operation connects afresh.
        #expect(try connections.withSession { try $0.query("SELECT 2").first!.decode(Int.self) } == 2)
        #expect(connections.isHealthy)
    }

    /// A commit under way when the database goes away (its transaction waits for a row lock when PostgreSQL is
    /// stopped) fails with the database's error at once, so its client gets a 451 at once, not after the
    /// statement timeout: the lost connection ends the whole transaction, its ROLLBACK included. Once the
    /// database is back, the next commit succeeds.
    @Test func aCommitUnderWayWhenTheDatabaseGoesAwayFailsAtOnce() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        let spool = try await Client.offThread { try SpoolStores.open(postgres.url, passwordFile: nil) }
        defer { try? spool.close() }
        try await Client.offThread { try spool.hold(user: Self.alice) }
        /// Commits one message for alice; returns how it ended and when.
        func commit(_ name: String) async throws -> (Result<HeldMessage, any Error>, ContinuousClock.Instant) {
            try await Client.offThread {
                let writer = try spool.openWriter(
                    Envelope(
                        sender: "s@example.org", recipients: [Recipient(address: Self.alice, user: Self.alice)],
                        messageID: "<\(name)@example.org>"))
                try writer.append(Array("Message-ID: <\(name)@example.org>\r\n\r\nbody\r\n".utf8))
                return (Result { try writer.commitAndWait() }, ContinuousClock.now)
            }
        }
        // Another session holds alice's row, so the group commit's transaction waits for its share lock.
        let holding = Task {
            try? await Client.offThread {
                try postgres.psql(
                    "BEGIN; SELECT name FROM spool_user WHERE name = '\(Self.alice)' FOR UPDATE; SELECT pg_sleep(120)")
            }
        }
        /// Waits until one session waits for `event` (wait_event_type, and wait_event when given). Each poll's
        /// `psql` runs off the cooperative pool: run on it, a poll stalled behind other suites' work for 90 s.
        func waitUntil(_ event: (type: String, name: String?), _ what: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            let name = event.name.map { " AND wait_event = '\($0)'" } ?? ""
            let query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = '\(event.type)'\(name)"
            while try await Client.offThread({ try postgres.psql(query) }) != "1\n" {
                try #require(ContinuousClock.now < deadline, "\(what) never happened")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await waitUntil(("Timeout", "PgSleep"), "the other session's hold on the row")
        let committing = Task { try await commit("under-way") }
        try await waitUntil(("Lock", nil), "the commit's wait for the row lock")
        let stopped = ContinuousClock.now
        try await Client.offThread { postgres.stop() }
        let (outcome, ended) = try await committing.value
        _ = await holding.value
        #expect(
            Self.failedForTheDatabase(outcome), "a commit whose database went away must fail with its error: \(outcome)"
        )
        #expect(
            ended - stopped < Self.atOnce, "the commit's failure took \(ended - stopped) after the database went away")
        try await Client.offThread { try postgres.start() }
        let (after, _) = try await commit("after")
        #expect((try? after.get()) != nil, "no commit once the database was back: \(after)")
    }
}
