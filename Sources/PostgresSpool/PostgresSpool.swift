import BufferSpool
import Foundation
import NIOCore
import PostgresNIO
import Synchronization
import SystemLayer

/// The shared spool: one PostgreSQL database that several `buffer serve` processes, on several hosts, use at
/// once (format-spec/buffer-spool.md, "The shared spool on PostgreSQL"). A message's bytes are kept in the
/// database (BYTEA) beside its envelope, recipients and SHA-256, inserted in one transaction before the 250, so a
/// host that is lost takes no accepted mail with it. Commits are grouped as in `BufferSpool`: one transaction for
/// the messages that arrived while the previous one committed.
///
/// Decisions that depend on a user's state take that user's row lock (`SELECT … FOR UPDATE`); a commit takes a
/// share lock on its users' rows, so it and a state change are ordered as in the SQLite spool. Work that must
/// run on one host at a time (a user's release, the linger passes) takes a PostgreSQL advisory lock
/// (`exclusively`).
public final class PostgresSpool: SpoolStore {
    public let url: PostgresSpoolURL
    let connections: PostgresConnections
    let committer: PostgresGroupCommitter
    /// Users whose mail may be accepted, refreshed every `refreshInterval` (a hold given on another host takes
    /// effect here within that time) and after each change made here. The commit checks again under lock.
    private let accepting = AcceptingCache()
    private let closed = Atomic<Bool>(false)
    private let refreshing: Bool
    private let stopRefresh = DispatchSemaphore(value: 0)
    private let refreshStopped = DispatchSemaphore(value: 0)

    /// How often the accepting cache and the database's health are checked.
    public static let refreshInterval: TimeInterval = 1

    public var location: String { url.description }
    public var localDirectory: String? { nil }
    public var isAvailable: Bool { connections.isHealthy }
    public var commitStatistics: CommitStatistics { committer.statistics }

    /// Connects, applies the schema's missing migrations and loads the migration set. `serving`: keep the
    /// accepting cache fresh with a background check (a server); commands that run once pass false.
    public init(
        url: PostgresSpoolURL, password: String?, serving: Bool = false, connectTimeout: TimeAmount = .seconds(5),
        statementTimeout: TimeAmount = .seconds(30)
    ) throws {
        self.url = url
        connections = try PostgresConnections(
            url: url, password: password, connectTimeout: connectTimeout, statementTimeout: statementTimeout)
        do {
            try PostgresSchema.migrate(connections)
            let users = try connections.withSession { try Self.acceptingUsers($0) }
            accepting.replace(users)
        } catch {
            connections.close()
            if !connections.isHealthy, case .database(_, let reason)? = error as? SpoolError {
                throw PostgresSpoolError.unreachable(url: url.description, reason: reason)
            }
            throw error
        }
        committer = PostgresGroupCommitter(connections: connections)
        committer.start()
        if serving {
            let (connections, accepting, stop, stopped) = (connections, accepting, stopRefresh, refreshStopped)
            let thread = Thread {
                while stop.wait(timeout: .now() + Self.refreshInterval) == .timedOut {
                    if let users = try? connections.withSession({ try Self.acceptingUsers($0) }) {
                        accepting.replace(users)
                    }
                }
                stopped.signal()
            }
            thread.name = "PostgresSpool.refresh"
            refreshing = true
            thread.start()
        } else {
            refreshing = false
        }
    }

    /// Opens the spool a `[buffer] spool` URL names, with the password from `passwordFile` or `PGPASSFILE`.
    public convenience init(spool: String, passwordFile: String?, serving: Bool = false) throws {
        let url = try PostgresSpoolURL(parsing: spool)
        try self.init(url: url, password: try url.password(passwordFile: passwordFile), serving: serving)
    }

    deinit {
        try? close()
    }

    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if refreshing {
            stopRefresh.signal()
            refreshStopped.wait()
        }
        committer.stop()
        connections.close()
    }

    func checkOpen() throws {
        if closed.load(ordering: .acquiring) { throw SpoolError.closed }
    }

    // MARK: - Accepting mail

    public func openWriter(_ envelope: Envelope) throws -> any SpoolMessageWriter {
        try checkOpen()
        try envelope.validate()
        if let user = envelope.users.first(where: { !accepting.contains($0) }) {
            throw SpoolError.userNotHeld(user: user)
        }
        return PostgresMessageWriter(committer: committer, envelope: envelope)
    }

    public func acceptsMail(for user: String) -> Bool {
        accepting.contains(user)
    }

    public func hasPassedThrough(messageID: String) throws -> Bool {
        try read { session in
            try session.query("SELECT EXISTS (SELECT 1 FROM message WHERE message_id = \(messageID))").first?
                .decode(Bool.self) ?? false
        }
    }

    // MARK: - Helpers

    func read<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try checkOpen()
        return try connections.withSession(body)
    }

    func write<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try checkOpen()
        return try connections.transaction(body)
    }

    /// A change of users: `body` in one transaction, then the accepting cache refreshed from the result.
    func changeUsers<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let (result, users) = try write { session in (try body(session), try Self.acceptingUsers(session)) }
        accepting.replace(users)
        return result
    }

    static let acceptingCondition =
        "in_migration_set AND state IN ('holding', 'releasing', 'released', 'reverted')"

    static func acceptingUsers(_ session: PostgresSession) throws -> Set<String> {
        Set(
            try session.query(PostgresQuery(unsafeSQL: "SELECT name FROM spool_user WHERE \(acceptingCondition)"))
                .map { try $0.decode(String.self) })
    }
}

/// The users whose mail may be accepted, as last read.
final class AcceptingCache: Sendable {
    private let users = Mutex<Set<String>>([])
    func replace(_ new: Set<String>) { users.withLock { $0 = new } }
    func contains(_ user: String) -> Bool { users.withLock { $0.contains(user) } }
}
