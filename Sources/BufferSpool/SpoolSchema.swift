import GRDB

/// The spool's SQL schema, applied by `DatabaseMigrator`. Changing it means a new migration and a new section in
/// format-spec/buffer-spool.md; never edit a registered migration.
enum SpoolSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        return migrator
    }

    static let v1 = """
        CREATE TABLE spool_user (
            name TEXT PRIMARY KEY NOT NULL CHECK (length(name) > 0),
            in_migration_set INTEGER NOT NULL CHECK (in_migration_set IN (0, 1)),
            state TEXT NOT NULL CHECK (state IN ('holding', 'releasing', 'released', 'reverted', 'closed')),
            created_at INTEGER NOT NULL,
            state_changed_at INTEGER NOT NULL,
            release_direction TEXT CHECK (release_direction IN ('target', 'source')),
            release_target TEXT,
            CHECK ((state = 'holding') = (release_direction IS NULL)),
            CHECK ((release_direction IS NULL) = (release_target IS NULL)),
            CHECK (state <> 'released' OR release_direction = 'target'),
            CHECK (state <> 'reverted' OR release_direction = 'source')
        );
        CREATE TABLE user_event (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user TEXT NOT NULL REFERENCES spool_user(name),
            at INTEGER NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('hold', 'unhold', 'release-begin', 'release-finish', 'close')),
            state TEXT NOT NULL,
            in_migration_set INTEGER NOT NULL,
            detail TEXT
        );
        CREATE TABLE message (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            token TEXT NOT NULL UNIQUE CHECK (length(token) = 32),
            sender TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            size INTEGER NOT NULL CHECK (size >= 0),
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
            message_id TEXT
        );
        CREATE INDEX message_by_message_id ON message(message_id) WHERE message_id IS NOT NULL;
        CREATE TABLE recipient (
            seq INTEGER NOT NULL REFERENCES message(seq) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 0),
            address TEXT NOT NULL,
            user TEXT NOT NULL REFERENCES spool_user(name),
            PRIMARY KEY (seq, position)
        );
        CREATE INDEX recipient_by_user ON recipient(user, seq);
        CREATE TABLE delivery (
            seq INTEGER NOT NULL REFERENCES message(seq) ON DELETE CASCADE,
            user TEXT NOT NULL REFERENCES spool_user(name),
            target TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('delivering', 'delivered')),
            attempts INTEGER NOT NULL CHECK (attempts >= 1),
            first_attempt_at INTEGER NOT NULL,
            last_attempt_at INTEGER NOT NULL,
            delivered_at INTEGER,
            CHECK ((state = 'delivered') = (delivered_at IS NOT NULL)),
            PRIMARY KEY (seq, user, target)
        );
        """
}
