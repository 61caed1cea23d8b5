import Foundation
import GRDB
import Synchronization
import SystemLayer

/// The buffer's durable spool: message files plus one SQLite database (WAL, synchronous=FULL) in one directory.
/// See format-spec/buffer-spool.md for the layout, the schema and the crash-recovery rules.
///
/// One process at a time: opening takes an exclusive lock on `spool.lock`, then runs recovery.
public final class BufferSpool: Sendable {
    public let directory: String
    /// What recovery found when this spool was opened.
    public let recovery: RecoveryReport

    let layout: SpoolLayout
    let database: DatabaseQueue
    let committer: GroupCommitter
    /// Where new messages are written: the spool's `incoming/` except in fault tests.
    let incomingFiles: IncomingFiles
    private let lock: SpoolLock
    /// Users whose mail the server may accept (in the migration set, in any state but closed). A cache for the
    /// RCPT check; the committer re-checks in its transaction.
    private let accepting: Mutex<Set<String>>
    private let closed = Atomic<Bool>(false)

    /// Opens (creating if needed) the spool in `directory`, takes its lock and recovers from any crash.
    public convenience init(directory: String) throws {
        try self.init(directory: directory, incomingFiles: .spoolDirectory)
    }

    /// `incomingFiles` other than `.spoolDirectory` is for fault tests only (see `IncomingFiles`).
    package init(directory: String, incomingFiles: IncomingFiles) throws {
        self.directory = directory
        self.incomingFiles = incomingFiles
        let layout = SpoolLayout(root: directory)
        self.layout = layout
        try SpoolError.io { try SystemCall.makeDirectory(directory) }
        lock = try SpoolLock(path: layout.lock)
        try SpoolError.io { try SystemCall.makeDirectory(layout.incoming) }
        try SpoolError.io { try SystemCall.makeDirectory(layout.messages) }
        try SpoolError.io { try SystemCall.syncDirectory(directory) }

        // Not `configuration.journalMode = .wal`: GRDB then sets synchronous=NORMAL after prepareDatabase, and
        // NORMAL in WAL mode may lose the last commits on power loss, which would break the 250 promise.
        let databasePath = layout.database
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                throw SpoolError.database(path: databasePath, reason: "could not switch to WAL mode")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            database = try DatabaseQueue(path: layout.database, configuration: configuration)
            let synchronous = try database.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
            guard synchronous == 2 else {
                throw SpoolError.database(
                    path: layout.database, reason: "synchronous is \(synchronous ?? -1), not FULL")
            }
            try SpoolSchema.migrator.migrate(database)
        } catch {
            throw SpoolError.from(error, databasePath: layout.database)
        }
        recovery = try SpoolRecovery.run(layout: layout, database: database)
        accepting = Mutex(try Self.fetchAccepting(database, path: layout.database))
        committer = GroupCommitter(database: database, layout: layout)
        committer.start()
    }

    deinit {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            committer.stop()
            try? database.close()
            lock.release()
        }
    }

    /// Commits what is staged, closes the database and releases the lock. Later calls throw `SpoolError.closed`.
    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        committer.stop()
        defer { lock.release() }
        do { try database.close() } catch { throw SpoolError.from(error, databasePath: layout.database) }
    }

    /// Starts a message: creates its temporary file. Throws `userNotHeld` if a recipient's user does not accept
    /// mail (the server's 550 5.1.1 should have come at RCPT already).
    public func openMessage(_ envelope: Envelope) throws -> MessageWriter {
        try checkOpen()
        try envelope.validate()
        let accepting = accepting.withLock { $0 }
        if let user = envelope.users.first(where: { !accepting.contains($0) }) {
            throw SpoolError.userNotHeld(user: user)
        }
        return try MessageWriter(spool: self, envelope: envelope)
    }

    /// Whether the server may accept mail for `user` now (RCPT TO check; no disk access).
    public func acceptsMail(for user: String) -> Bool {
        accepting.withLock { $0.contains(user) }
    }

    /// Counters of the group committer (batches < messages shows that commits shared fsyncs).
    public var commitStatistics: CommitStatistics { committer.statistics }

    // MARK: - Internals shared by the extensions

    func checkOpen() throws {
        if closed.load(ordering: .acquiring) { throw SpoolError.closed }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try checkOpen()
        do { return try database.read(body) } catch { throw SpoolError.from(error, databasePath: layout.database) }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try checkOpen()
        do { return try database.write(body) } catch { throw SpoolError.from(error, databasePath: layout.database) }
    }

    /// A change of users: runs `body` in one write transaction and refreshes the accepting cache from the result.
    func changeUsers<T>(_ body: (Database) throws -> T) throws -> T {
        let (result, users) = try write { db in
            (try body(db), try Self.acceptingUsers(db))
        }
        accepting.withLock { $0 = users }
        return result
    }

    private static func fetchAccepting(_ database: DatabaseQueue, path: String) throws -> Set<String> {
        do { return try database.read { try acceptingUsers($0) } } catch {
            throw SpoolError.from(error, databasePath: path)
        }
    }

    static func acceptingUsers(_ db: Database) throws -> Set<String> {
        Set(
            try String.fetchAll(
                db,
                sql: "SELECT name FROM spool_user WHERE in_migration_set = 1 AND state IN ('holding', 'releasing', 'released', 'reverted')"))
    }
}

extension BufferSpool: SpoolStore {
    public var location: String { directory }
    public var localDirectory: String? { directory }
    public var isAvailable: Bool { true }

    public func openWriter(_ envelope: Envelope) throws -> any SpoolMessageWriter {
        try openMessage(envelope)
    }

    /// One process holds the spool's lock: nothing else can run the same work.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T? { try body() }

    public func updateDocument<T>(_ name: String, _ change: (Data?) throws -> (Data?, T)) throws -> T {
        throw SpoolError.database(path: directory, reason: "a file spool keeps its documents in its directory")
    }
}

extension MessageWriter: SpoolMessageWriter {}
