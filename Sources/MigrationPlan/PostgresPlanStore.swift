import BufferSpool
import Foundation
import MailModel
import NIOCore
import PostgresNIO
import PostgresSpool

/// The plan kept in PostgreSQL (format-spec/plan-store.md), for several station-A machines working on one plan at
/// once: the definition (plan.json's content), one row per user with the state it has reached and, while an export
/// worker holds it, the worker's lease, and the append-only log of the same `PlanEvent`s the journal file holds.
///
/// Each append is one transaction that first takes the user's row lock (`FOR UPDATE`) and reads the user's events
/// appended elsewhere since this process last read them, so a state change is judged on the user's latest state
/// whichever machine made it. Export workers take users with `FOR UPDATE SKIP LOCKED` and a lease (holder, id,
/// expiry by the database's clock); the export's event is appended only while the row still carries the worker's
/// lease id, and ends the lease in the same transaction.
///
/// The connection code (URL, password file, bounded waits, reconnecting) and the schema migrations are the shared
/// spool's (`PostgresConnections`, `PostgresMigrator`); the plan's tables have their own version table
/// (`plan_schema_version`), so one database may hold a spool and a plan.
final class PostgresPlanStore: PlanStore {
    let url: PostgresSpoolURL
    let connections: PostgresConnections
    /// Per user, the id of the last event this process has read.
    private var seen: [String: Int64] = [:]

    var location: String { url.description }

    /// `pg_advisory_xact_lock` key for the plan's migrations ("mferrypl").
    static let migrationLock: Int64 = 0x6d66_6572_7279_706c

    /// The plan's schema, one migration per version. Never edit a registered migration: add one.
    static let schema = PostgresMigrator(
        versionTable: "plan_schema_version", lock: migrationLock,
        migrations: [
            (
                1,
                [
                    """
                    CREATE TABLE plan_definition (
                        plan_id TEXT PRIMARY KEY,
                        only_one BOOLEAN NOT NULL DEFAULT true UNIQUE CHECK (only_one),
                        created_at BIGINT NOT NULL,
                        definition TEXT NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE plan_user (
                        username TEXT PRIMARY KEY CHECK (length(username) > 0),
                        position INTEGER NOT NULL UNIQUE,
                        state TEXT NOT NULL,
                        forwarding BOOLEAN,
                        archives INTEGER NOT NULL DEFAULT 0 CHECK (archives >= 0),
                        holder TEXT,
                        lease_id TEXT,
                        lease_expires_at BIGINT,
                        lease_archive TEXT,
                        CHECK ((holder IS NULL) = (lease_id IS NULL)),
                        CHECK ((lease_id IS NULL) = (lease_expires_at IS NULL)),
                        CHECK (lease_id IS NOT NULL OR lease_archive IS NULL)
                    )
                    """,
                    """
                    CREATE TABLE plan_event (
                        id BIGSERIAL PRIMARY KEY,
                        username TEXT NOT NULL REFERENCES plan_user(username),
                        at BIGINT NOT NULL,
                        worker TEXT,
                        event TEXT NOT NULL
                    )
                    """,
                    "CREATE INDEX plan_event_by_user ON plan_event(username, id)",
                    """
                    CREATE TABLE plan_abandoned (
                        id BIGSERIAL PRIMARY KEY,
                        username TEXT NOT NULL REFERENCES plan_user(username),
                        holder TEXT NOT NULL,
                        archive TEXT,
                        taken_by TEXT NOT NULL,
                        taken_at BIGINT NOT NULL,
                        removed BOOLEAN NOT NULL DEFAULT false
                    )
                    """,
                ]
            )
        ])

    /// The database's clock in milliseconds: leases are judged by one clock whichever machine asks.
    static let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// The users an export worker may take: no archive yet (a pass), or held with the forwarding recorded and no
    /// final archive yet.
    static let exportable =
        "((state IN ('planned', 'prepared') AND archives = 0) OR (state = 'held' AND forwarding IS TRUE))"

    init(url: PostgresSpoolURL, passwordFile: String?) throws {
        self.url = url
        do {
            let password = try url.password(passwordFile: passwordFile)
            connections = try PostgresConnections(
                url: url, password: password, connectTimeout: .seconds(5), statementTimeout: .seconds(30))
        } catch {
            throw Self.failure(error, url)
        }
        do {
            try Self.schema.migrate(connections)
        } catch {
            connections.close()
            throw Self.failure(error, url)
        }
    }

    convenience init(settings: PlanStoreSettings) throws {
        guard let text = settings.url else { throw FerryError(.usage, "no PostgreSQL URL for the plan's store") }
        try self.init(url: try Self.parse(text), passwordFile: settings.passwordFile)
    }

    /// A `--store` URL, checked (no password in it).
    static func parse(_ text: String) throws -> PostgresSpoolURL {
        do {
            return try PostgresSpoolURL(parsing: text)
        } catch {
            throw Self.failure(error, nil)
        }
    }

    deinit { connections.close() }

    /// Every failure of the database as a `FerryError` naming it (never a password); other errors unchanged.
    static func failure(_ error: any Error, _ url: PostgresSpoolURL?) -> any Error {
        let place = url.map { "the plan's store \($0)" } ?? "--store"
        switch error {
        case PostgresSpoolError.invalidURL(let reason) where reason.hasPrefix("has a password"):
            return FerryError(
                .usage,
                "--store: the PostgreSQL URL has a password; put it in a file named by --store-password-file (or PGPASSFILE) instead"
            )
        case PostgresSpoolError.invalidURL(let reason):
            return FerryError(.usage, "--store: the PostgreSQL URL \(reason)")
        case PostgresSpoolError.passwordFile(let path, let reason):
            return FerryError(.usage, "\(place): password file \(path): \(reason)")
        case PostgresSpoolError.newerSchema(let found, let known):
            return FerryError(
                .ioError,
                "\(place) has plan schema version \(found); this mailferry knows up to \(known): upgrade mailferry")
        case SpoolError.database(_, let reason):
            return FerryError(.ioError, "\(place): \(reason)")
        case let error as SpoolError:
            return FerryError(.ioError, "\(place): \(error)")
        default:
            // The caller's own refusals (a state change, a lost lease) pass unchanged.
            return error
        }
    }

    private func transaction<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        do {
            return try connections.transaction(body)
        } catch {
            throw Self.failure(error, url)
        }
    }

    private func session<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        do {
            return try connections.withSession(body)
        } catch {
            throw Self.failure(error, url)
        }
    }

    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func decode(_ text: String, id: Int64, _ url: PostgresSpoolURL) throws -> PlanEvent {
        do {
            return try JSONDecoder().decode(PlanEvent.self, from: Data(text.utf8))
        } catch {
            throw FerryError(
                .ioError,
                "the plan's store \(url): event \(id) is not a plan event (\(error)); restore the database from a backup"
            )
        }
    }

    // MARK: The definition

    /// The definition `plan init --store` wrote (plan.json's bytes), or nil when the database holds no plan.
    func definition() throws -> Data? {
        try session { session in
            try session.query("SELECT definition FROM plan_definition").first.map {
                Data(try $0.decode(String.self).utf8)
            }
        }
    }

    /// Writes a new plan: its definition and a row per user, `planned`. Refuses a database that holds a plan.
    func create(_ definition: PlanDefinition, bytes: Data) throws {
        try transaction { session in
            try session.execute("LOCK TABLE plan_definition IN EXCLUSIVE MODE")
            if let existing = try session.query("SELECT plan_id FROM plan_definition").first {
                let id = try existing.decode(String.self)
                throw FerryError(
                    .usage,
                    "\(url) holds plan \(id) already (one plan per database); join it with --plan DIR --store \(url), or use another database"
                )
            }
            let text = String(decoding: bytes, as: UTF8.self)
            try session.execute(
                "INSERT INTO plan_definition (plan_id, created_at, definition) VALUES (\(definition.planID), \(unescaped: Self.now), \(text))"
            )
            for (position, user) in definition.users.enumerated() {
                try session.execute(
                    "INSERT INTO plan_user (username, position, state) VALUES (\(user.source), \(position), 'planned')")
            }
        }
    }

    // MARK: Events

    func readEvents() throws -> [PlanEvent] {
        let rows = try session { session in
            try session.query("SELECT id, event FROM plan_event ORDER BY id").map {
                try $0.decode((Int64, String).self)
            }
        }
        var events: [PlanEvent] = []
        events.reserveCapacity(rows.count)
        for (id, text) in rows {
            let event = try Self.decode(text, id: id, url)
            seen[event.user] = max(seen[event.user] ?? 0, id)
            events.append(event)
        }
        return events
    }

    /// The user's events appended after the last one this process read (in the transaction holding the user's row).
    private func newer(_ session: PostgresSession, _ user: String) throws -> [PlanEvent] {
        let after = seen[user] ?? 0
        var events: [PlanEvent] = []
        for row in try session.query(
            "SELECT id, event FROM plan_event WHERE username = \(user) AND id > \(after) ORDER BY id")
        {
            let (id, text) = try row.decode((Int64, String).self)
            events.append(try Self.decode(text, id: id, url))
            seen[user] = id
        }
        return events
    }

    func append(_ event: PlanEvent, lease: PlanLease?, check: ([PlanEvent]) throws -> Void) throws {
        let text = String(decoding: try encoder.encode(event), as: UTF8.self)
        let user = event.user
        try transaction { session in
            guard
                let row = try session.query("SELECT lease_id FROM plan_user WHERE username = \(user) FOR UPDATE").first
            else {
                throw FerryError(
                    .ioError, "the plan's store \(url) has no row for \(user); restore the database from a backup")
            }
            if let lease {
                let current = try row.decode(String?.self)
                guard current == lease.id else { throw PlanLeaseLost(user: user, holder: lease.holder) }
            }
            try check(try newer(session, user))
            let id = try session.query(
                "INSERT INTO plan_event (username, at, worker, event) VALUES (\(user), \(unescaped: Self.now), \(lease?.holder), \(text)) RETURNING id"
            ).first?.decode(Int64.self)
            let archives = event.archive == nil ? 0 : 1
            try session.execute(
                """
                UPDATE plan_user SET state = COALESCE(\(event.state?.rawValue), state), forwarding = COALESCE(\(event.forwarding), forwarding),
                    archives = archives + \(archives)
                WHERE username = \(user)
                """)
            if lease != nil {
                try session.execute(
                    "UPDATE plan_user SET holder = NULL, lease_id = NULL, lease_expires_at = NULL, lease_archive = NULL WHERE username = \(user)"
                )
            }
            if let id { seen[user] = id }
        }
    }

    // MARK: Leases

    /// Takes one exportable user among `users` that no worker holds (or whose holder's lease expired), skipping rows
    /// other workers are deciding on (`SKIP LOCKED`), in the plan's order. Returns the lease and the user's events
    /// appended since this process last read them; nil when no user is free to take.
    func claim(among users: [String], worker: String, milliseconds: Int64) throws -> (PlanLease, [PlanEvent])? {
        try transaction { session in
            guard
                let row = try session.query(
                    """
                    SELECT username, holder, lease_archive FROM plan_user
                    WHERE username = ANY(\(users)) AND \(unescaped: Self.exportable)
                        AND (lease_id IS NULL OR lease_expires_at < \(unescaped: Self.now))
                    ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED
                    """
                ).first
            else { return nil }
            let (user, previous, archive) = try row.decode((String, String?, String?).self)
            let id = UUID().uuidString.lowercased()
            if let previous {
                try session.execute(
                    """
                    INSERT INTO plan_abandoned (username, holder, archive, taken_by, taken_at)
                    VALUES (\(user), \(previous), \(archive), \(worker), \(unescaped: Self.now))
                    """)
            }
            try session.execute(
                """
                UPDATE plan_user SET holder = \(worker), lease_id = \(id), lease_expires_at = \(unescaped: Self.now) + \(milliseconds),
                    lease_archive = NULL
                WHERE username = \(user)
                """)
            let lease = PlanLease(
                user: user, holder: worker, id: id, milliseconds: milliseconds, tookOverFrom: previous)
            return (lease, try newer(session, user))
        }
    }

    /// Names the archive the lease's worker is writing, so that a worker taking the user over can name it as
    /// abandoned. False when the lease is no longer the worker's.
    func noteArchive(_ path: String, of lease: PlanLease) throws -> Bool {
        try session { session in
            !(try session.query(
                "UPDATE plan_user SET lease_archive = \(path) WHERE username = \(lease.user) AND lease_id = \(lease.id) RETURNING 1"
            ).isEmpty)
        }
    }

    /// Extends the lease by its length from now (the database's clock). False when it is no longer the worker's.
    static func renew(_ lease: PlanLease, connections: PostgresConnections) throws -> Bool {
        try connections.withSession { session in
            !(try session.query(
                """
                UPDATE plan_user SET lease_expires_at = \(unescaped: now) + \(lease.milliseconds)
                WHERE username = \(lease.user) AND lease_id = \(lease.id) RETURNING 1
                """
            ).isEmpty)
        }
    }

    /// Ends the lease without an event (the export failed): the user is free for any worker at once.
    func release(_ lease: PlanLease) throws {
        try session { session in
            try session.execute(
                """
                UPDATE plan_user SET holder = NULL, lease_id = NULL, lease_expires_at = NULL, lease_archive = NULL
                WHERE username = \(lease.user) AND lease_id = \(lease.id)
                """)
        }
    }

    /// Among `users`, the exportable ones no worker may take yet: nil when there are none (no export is left to any
    /// worker), else how long (seconds) until the first lease ends (0 for a user free now).
    func secondsUntilALeaseEnds(among users: [String]) throws -> Double? {
        try session { session in
            let rows = try session.query(
                """
                SELECT MIN(CASE WHEN lease_id IS NULL THEN 0 ELSE GREATEST(lease_expires_at - \(unescaped: Self.now), 0) END)::bigint
                FROM plan_user WHERE username = ANY(\(users)) AND \(unescaped: Self.exportable)
                """)
            return try rows.first?.decode(Int64?.self).map { Double($0) / 1000 }
        }
    }

    /// Every lease held now: user -> (holder, expiry by the database's clock, ISO 8601).
    func leases() throws -> [String: (holder: String, expires: String)] {
        let rows = try session { session in
            try session.query("SELECT username, holder, lease_expires_at FROM plan_user WHERE lease_id IS NOT NULL").map
            {
                try $0.decode((String, String, Int64).self)
            }
        }
        var leases: [String: (holder: String, expires: String)] = [:]
        for (user, holder, expires) in rows {
            leases[user] = (holder, MigrationPlan.stamp(PostgresClock.date(expires)))
        }
        return leases
    }

    /// The archives of workers whose leases were taken over, not removed since: user -> archives.
    func abandoned() throws -> [String: [PlanAbandonedArchive]] {
        let rows = try session { session in
            try session.query(
                "SELECT username, holder, archive, taken_by, taken_at FROM plan_abandoned WHERE NOT removed ORDER BY id"
            ).map {
                try $0.decode((String, String, String?, String, Int64).self)
            }
        }
        var found: [String: [PlanAbandonedArchive]] = [:]
        for (user, holder, archive, takenBy, at) in rows {
            found[user, default: []].append(
                PlanAbandonedArchive(
                    path: archive, holder: holder, takenBy: takenBy, at: MigrationPlan.stamp(PostgresClock.date(at))))
        }
        return found
    }

    /// Records that an abandoned archive was removed (by the worker that wrote it, on learning it lost the lease).
    func markRemoved(_ path: String, user: String, holder: String) throws {
        try session { session in
            try session.execute(
                "UPDATE plan_abandoned SET removed = true WHERE username = \(user) AND holder = \(holder) AND archive = \(path)"
            )
        }
    }
}
