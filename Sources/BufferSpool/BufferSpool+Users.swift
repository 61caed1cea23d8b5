import Foundation
import GRDB

/// The migration set and the per-user state machine. Every change is one write transaction that also appends to
/// `user_event`.
extension BufferSpool {
    /// Puts `user` in the migration set: mail for the user is accepted and held from now on. A closed user starts
    /// a new holding period; a holding, releasing or lingering (released, reverted) user is unchanged.
    public func hold(user: String) throws {
        guard !user.isEmpty else { throw SpoolError.invalidEnvelope(reason: "empty user name") }
        try changeUsers { db in
            let now = Timestamp.milliseconds(Date())
            if let current = try Self.fetchState(db, user) {
                if current.acceptsMail {
                    try db.execute(sql: "UPDATE spool_user SET in_migration_set = 1 WHERE name = ?", arguments: [user])
                } else {
                    try db.execute(
                        sql: """
                            UPDATE spool_user SET in_migration_set = 1, state = 'holding', state_changed_at = ?,
                                release_direction = NULL, release_target = NULL
                            WHERE name = ?
                            """,
                        arguments: [now, user])
                }
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO spool_user (name, in_migration_set, state, created_at, state_changed_at)
                        VALUES (?, 1, 'holding', ?, ?)
                        """,
                    arguments: [user, now, now])
            }
            try Self.logEvent(db, user, "hold", at: now)
        }
    }

    /// Takes `user` out of the migration set: the server rejects new mail for the user. Held mail and the state
    /// are unchanged.
    public func unhold(user: String) throws {
        try changeUsers { db in
            guard try Self.fetchState(db, user) != nil else { throw SpoolError.unknownUser(user: user) }
            try db.execute(sql: "UPDATE spool_user SET in_migration_set = 0 WHERE name = ?", arguments: [user])
            try Self.logEvent(db, user, "unhold", at: Timestamp.milliseconds(Date()))
        }
    }

    /// The migration set: users the server should accept mail for (while their state allows it).
    public func migrationSet() throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT name FROM spool_user WHERE in_migration_set = 1 ORDER BY name")
        }
    }

    /// holding → releasing, recording where to. Repeating it with the same target is a no-op (a restarted
    /// releaser); another target throws `releaseTargetConflict`.
    public func beginRelease(user: String, to target: ReleaseTarget) throws {
        try changeUsers { db in
            let state = try Self.requireState(db, user)
            switch state {
            case .holding:
                try db.execute(
                    sql: """
                        UPDATE spool_user SET state = 'releasing', state_changed_at = ?, release_direction = ?,
                            release_target = ?
                        WHERE name = ?
                        """,
                    arguments: [Timestamp.milliseconds(Date()), target.direction.rawValue, target.address, user])
                try Self.logEvent(db, user, "release-begin", at: Timestamp.milliseconds(Date()), detail: "\(target)")
            case .releasing:
                let recorded = try Self.fetchReleaseTarget(db, user)
                if recorded != target {
                    throw SpoolError.releaseTargetConflict(user: user, recorded: recorded!, requested: target)
                }
            default:
                throw SpoolError.invalidTransition(user: user, from: state, to: .releasing)
            }
        }
    }

    /// releasing → released (direction target) or reverted (direction source), only once no message is held for
    /// the user any more: each is recorded as delivered, to this release's target or, for mail of an earlier
    /// migration of the same user (released, closed, then held again), to that migration's target. This is the
    /// same rule `heldMessages(for:)` follows, so what the release delivers is what this check waits for. Checked
    /// in the same transaction, so a message committed meanwhile keeps the user releasing. Returns the new state.
    @discardableResult
    public func finishRelease(user: String) throws -> UserState {
        try changeUsers { db in
            let state = try Self.requireState(db, user)
            guard state == .releasing, let target = try Self.fetchReleaseTarget(db, user) else {
                throw SpoolError.invalidTransition(user: user, from: state, to: .released)
            }
            let remaining = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT r.seq) FROM recipient r
                    WHERE r.user = ? AND NOT EXISTS (
                        SELECT 1 FROM delivery d
                        WHERE d.seq = r.seq AND d.user = r.user AND d.state = 'delivered')
                    """,
                arguments: [user]) ?? 0
            if remaining > 0 { throw SpoolError.undeliveredMessagesRemain(user: user, count: remaining) }
            let next: UserState = target.direction == .target ? .released : .reverted
            let now = Timestamp.milliseconds(Date())
            try db.execute(
                sql: "UPDATE spool_user SET state = ?, state_changed_at = ? WHERE name = ?",
                arguments: [next.rawValue, now, user])
            try Self.logEvent(db, user, "release-finish", at: now)
            return next
        }
    }

    /// released or reverted → closed; also leaves the migration set.
    public func close(user: String) throws {
        try changeUsers { db in
            let state = try Self.requireState(db, user)
            guard state == .released || state == .reverted else {
                throw SpoolError.invalidTransition(user: user, from: state, to: .closed)
            }
            let now = Timestamp.milliseconds(Date())
            try db.execute(
                sql: """
                    UPDATE spool_user SET state = 'closed', state_changed_at = ?, in_migration_set = 0
                    WHERE name = ?
                    """,
                arguments: [now, user])
            try Self.logEvent(db, user, "close", at: now)
        }
    }

    /// Per user: state, held count and bytes, oldest and newest arrival (for `mailferry buffer status`).
    public func status() throws -> [UserStatus] {
        try read { db in try Self.fetchStatus(db, where: "1", arguments: []) }
    }

    /// Just the user's state, by its key: cheap enough to ask after every commit (`status(user:)` counts the
    /// user's held mail, which grows with the spool).
    public func state(of user: String) throws -> UserState? {
        try database.read { try Self.fetchState($0, user) }
    }

    public func status(user: String) throws -> UserStatus? {
        try read { db in try Self.fetchStatus(db, where: "u.name = ?", arguments: [user]).first }
    }

    // MARK: - Helpers

    static func fetchState(_ db: Database, _ user: String) throws -> UserState? {
        try String.fetchOne(db, sql: "SELECT state FROM spool_user WHERE name = ?", arguments: [user])
            .flatMap(UserState.init(rawValue:))
    }

    static func requireState(_ db: Database, _ user: String) throws -> UserState {
        guard let state = try fetchState(db, user) else { throw SpoolError.unknownUser(user: user) }
        return state
    }

    static func fetchReleaseTarget(_ db: Database, _ user: String) throws -> ReleaseTarget? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT release_direction, release_target FROM spool_user WHERE name = ?", arguments: [user]),
            let direction = (row["release_direction"] as String?).flatMap(ReleaseDirection.init(rawValue:)),
            let address = row["release_target"] as String?
        else { return nil }
        return ReleaseTarget(direction: direction, address: address)
    }

    private static func logEvent(_ db: Database, _ user: String, _ event: String, at time: Int64, detail: String? = nil)
        throws
    {
        try db.execute(
            sql: """
                INSERT INTO user_event (user, at, event, state, in_migration_set, detail)
                SELECT name, ?, ?, state, in_migration_set, ? FROM spool_user WHERE name = ?
                """,
            arguments: [time, event, detail, user])
    }

    private static func fetchStatus(_ db: Database, where condition: String, arguments: StatementArguments) throws
        -> [UserStatus]
    {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT u.name, u.state, u.in_migration_set, u.created_at, u.state_changed_at,
                    u.release_direction, u.release_target,
                    COUNT(m.seq) AS held_count, COALESCE(SUM(m.size), 0) AS held_bytes,
                    MIN(m.received_at) AS oldest, MAX(m.received_at) AS newest
                FROM spool_user u
                LEFT JOIN (
                    SELECT DISTINCT r.user, r.seq FROM recipient r
                    WHERE NOT EXISTS (
                        SELECT 1 FROM delivery d WHERE d.seq = r.seq AND d.user = r.user AND d.state = 'delivered')
                ) h ON h.user = u.name
                LEFT JOIN message m ON m.seq = h.seq
                WHERE \(condition)
                GROUP BY u.name
                ORDER BY u.name
                """,
            arguments: arguments)
        return rows.map { row in
            let direction = (row["release_direction"] as String?).flatMap(ReleaseDirection.init(rawValue:))
            let address = row["release_target"] as String?
            return UserStatus(
                user: row["name"],
                state: UserState(rawValue: row["state"]) ?? .closed,
                inMigrationSet: (row["in_migration_set"] as Int) == 1,
                heldCount: row["held_count"],
                heldBytes: row["held_bytes"],
                oldestArrival: (row["oldest"] as Int64?).map(Timestamp.date),
                newestArrival: (row["newest"] as Int64?).map(Timestamp.date),
                releaseTarget: direction.flatMap { d in address.map { ReleaseTarget(direction: d, address: $0) } },
                createdAt: Timestamp.date(row["created_at"]),
                stateChangedAt: Timestamp.date(row["state_changed_at"]))
        }
    }
}
