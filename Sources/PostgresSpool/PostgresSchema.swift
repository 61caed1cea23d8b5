import Foundation
import BufferSpool
import PostgresNIO

/// The shared spool's schema, one migration per version (format-spec/buffer-spool.md, "The shared spool on
/// PostgreSQL"). `schema_version` records each applied version; migrations run in one transaction under an
/// advisory lock, so buffers starting together apply each once. Never edit a registered migration: add one.
enum PostgresSchema {
    /// `pg_advisory_xact_lock` key for migrations ("mferrymg").
    static let migrationLock: Int64 = 0x6d66_6572_7279_6d67

    static let migrations: [(version: Int, sql: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE spool_user (
                    name TEXT PRIMARY KEY CHECK (length(name) > 0),
                    in_migration_set BOOLEAN NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('holding', 'releasing', 'released', 'reverted', 'closed')),
                    created_at BIGINT NOT NULL,
                    state_changed_at BIGINT NOT NULL,
                    release_direction TEXT CHECK (release_direction IN ('target', 'source')),
                    release_target TEXT,
                    CHECK ((state = 'holding') = (release_direction IS NULL)),
                    CHECK ((release_direction IS NULL) = (release_target IS NULL)),
                    CHECK (state <> 'released' OR release_direction = 'target'),
                    CHECK (state <> 'reverted' OR release_direction = 'source')
                )
                """,
                """
                CREATE TABLE user_event (
                    id BIGSERIAL PRIMARY KEY,
                    username TEXT NOT NULL REFERENCES spool_user(name),
                    at BIGINT NOT NULL,
                    event TEXT NOT NULL CHECK (event IN ('hold', 'unhold', 'release-begin', 'release-finish', 'close')),
                    state TEXT NOT NULL,
                    in_migration_set BOOLEAN NOT NULL,
                    detail TEXT
                )
                """,
                """
                CREATE TABLE message (
                    seq BIGSERIAL PRIMARY KEY,
                    sender TEXT NOT NULL,
                    received_at BIGINT NOT NULL,
                    size BIGINT NOT NULL CHECK (size >= 0),
                    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                    message_id TEXT,
                    body BYTEA NOT NULL,
                    CHECK (octet_length(body) = size)
                )
                """,
                "CREATE INDEX message_by_message_id ON message(message_id) WHERE message_id IS NOT NULL",
                """
                CREATE TABLE recipient (
                    seq BIGINT NOT NULL REFERENCES message(seq) ON DELETE CASCADE,
                    position INTEGER NOT NULL CHECK (position >= 0),
                    address TEXT NOT NULL,
                    username TEXT NOT NULL REFERENCES spool_user(name),
                    PRIMARY KEY (seq, position)
                )
                """,
                "CREATE INDEX recipient_by_user ON recipient(username, seq)",
                """
                CREATE TABLE delivery (
                    seq BIGINT NOT NULL REFERENCES message(seq) ON DELETE CASCADE,
                    username TEXT NOT NULL REFERENCES spool_user(name),
                    target TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('delivering', 'delivered')),
                    attempts INTEGER NOT NULL CHECK (attempts >= 1),
                    first_attempt_at BIGINT NOT NULL,
                    last_attempt_at BIGINT NOT NULL,
                    delivered_at BIGINT,
                    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL)),
                    PRIMARY KEY (seq, username, target)
                )
                """,
                """
                CREATE TABLE spool_document (
                    name TEXT PRIMARY KEY,
                    body BYTEA
                )
                """,
            ]
        )
    ]

    static var latest: Int { migrations.last!.version }

    /// Applies the missing migrations. Refuses a database whose schema is newer than this program's.
    static func migrate(_ connections: PostgresConnections) throws {
        try PostgresMigrator(versionTable: "schema_version", lock: migrationLock, migrations: migrations).migrate(connections)
    }
}

/// Applies a schema's migrations, each version once: the missing ones in one transaction under an advisory lock
/// (so processes starting together apply each once), each recorded in a version table. The shared spool
/// (`schema_version`) and the plan's store (`plan_schema_version`, MigrationPlan) each keep their own table, so
/// one database may hold both.
package struct PostgresMigrator: Sendable {
    package var versionTable: String
    package var lock: Int64
    package var migrations: [(version: Int, sql: [String])]

    package init(versionTable: String, lock: Int64, migrations: [(version: Int, sql: [String])]) {
        self.versionTable = versionTable
        self.lock = lock
        self.migrations = migrations
    }

    package var latest: Int { migrations.last?.version ?? 0 }

    /// Applies the missing migrations; throws `PostgresSpoolError.newerSchema` for a schema newer than `latest`.
    package func migrate(_ connections: PostgresConnections) throws {
        try connections.transaction { session in
            try session.execute(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(\(lock))"))
            try session.execute(
                PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(versionTable) (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"))
            let current = try session.query(PostgresQuery(unsafeSQL: "SELECT COALESCE(MAX(version), 0) FROM \(versionTable)")).first?
                .decode(Int.self) ?? 0
            if current > latest { throw PostgresSpoolError.newerSchema(found: current, known: latest) }
            for migration in migrations where migration.version > current {
                for statement in migration.sql { try session.execute(PostgresQuery(unsafeSQL: statement)) }
                try session.execute(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(versionTable) (version, applied_at) VALUES (\(migration.version), \(PostgresClock.milliseconds()))"))
            }
        }
    }
}

package enum PostgresClock {
    package static func milliseconds(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    package static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
