import BufferSpool
import Foundation
import PostgresNIO

/// The migration set and the user state machine, as in `BufferSpool+Users`: each change is one transaction that
/// first locks the user's row (`FOR UPDATE`), so two hosts asking at once are served one after the other and the
/// second sees the first's outcome.
extension PostgresSpool {
    public func hold(user: String) throws {
        guard !user.isEmpty else { throw SpoolError.invalidEnvelope(reason: "empty user name") }
        try changeUsers { session in
            let now = PostgresClock.milliseconds()
            try session.execute(
                """
                INSERT INTO spool_user (name, in_migration_set, state, created_at, state_changed_at)
                VALUES (\(user), true, 'holding', \(now), \(now)) ON CONFLICT (name) DO NOTHING
                """)
            let current = try Self.lockState(session, user)
            if current.acceptsMail {
                try session.execute("UPDATE spool_user SET in_migration_set = true WHERE name = \(user)")
            } else {
                try session.execute(
                    """
                    UPDATE spool_user SET in_migration_set = true, state = 'holding', state_changed_at = \(now),
                        release_direction = NULL, release_target = NULL
                    WHERE name = \(user)
                    """)
            }
            try Self.logEvent(session, user, "hold", at: now)
        }
    }

    public func unhold(user: String) throws {
        try changeUsers { session in
            _ = try Self.lockState(session, user)
            try session.execute("UPDATE spool_user SET in_migration_set = false WHERE name = \(user)")
            try Self.logEvent(session, user, "unhold", at: PostgresClock.milliseconds())
        }
    }

    public func migrationSet() throws -> [String] {
        try read { session in
            try session.query("SELECT name FROM spool_user WHERE in_migration_set ORDER BY name").map {
                try $0.decode(String.self)
            }
        }
    }

    public func beginRelease(user: String, to target: ReleaseTarget) throws {
        try changeUsers { session in
            let state = try Self.lockState(session, user)
            switch state {
            case .holding:
                let now = PostgresClock.milliseconds()
                try session.execute(
                    """
                    UPDATE spool_user SET state = 'releasing', state_changed_at = \(now),
                        release_direction = \(target.direction.rawValue), release_target = \(target.address)
                    WHERE name = \(user)
                    """)
                try Self.logEvent(session, user, "release-begin", at: now, detail: "\(target)")
            case .releasing:
                let recorded = try Self.fetchReleaseTarget(session, user)
                if recorded != target {
                    throw SpoolError.releaseTargetConflict(user: user, recorded: recorded!, requested: target)
                }
            default:
                throw SpoolError.invalidTransition(user: user, from: state, to: .releasing)
            }
        }
    }

    @discardableResult
    public func finishRelease(user: String) throws -> UserState {
        try changeUsers { session in
            let state = try Self.lockState(session, user)
            guard state == .releasing, let target = try Self.fetchReleaseTarget(session, user) else {
                throw SpoolError.invalidTransition(user: user, from: state, to: .released)
            }
            _ = target
            let remaining = try session.query(
                """
                SELECT COUNT(DISTINCT r.seq) FROM recipient r
                WHERE r.username = \(user) AND NOT EXISTS (
                    SELECT 1 FROM delivery d WHERE d.seq = r.seq AND d.username = r.username AND d.state = 'delivered')
                """
            ).first?.decode(Int64.self) ?? 0
            if remaining > 0 { throw SpoolError.undeliveredMessagesRemain(user: user, count: Int(remaining)) }
            let next: UserState = target.direction == .target ? .released : .reverted
            let now = PostgresClock.milliseconds()
            try session.execute(
                "UPDATE spool_user SET state = \(next.rawValue), state_changed_at = \(now) WHERE name = \(user)")
            try Self.logEvent(session, user, "release-finish", at: now)
            return next
        }
    }

    public func close(user: String) throws {
        try changeUsers { session in
            let state = try Self.lockState(session, user)
            guard state == .released || state == .reverted else {
                throw SpoolError.invalidTransition(user: user, from: state, to: .closed)
            }
            let now = PostgresClock.milliseconds()
            try session.execute(
                """
                UPDATE spool_user SET state = 'closed', state_changed_at = \(now), in_migration_set = false
                WHERE name = \(user)
                """)
            try Self.logEvent(session, user, "close", at: now)
        }
    }

    public func status() throws -> [UserStatus] {
        try read { session in try Self.fetchStatus(session, user: nil) }
    }

    public func status(user: String) throws -> UserStatus? {
        try read { session in try Self.fetchStatus(session, user: user).first }
    }

    public func state(of user: String) throws -> UserState? {
        try read { session in
            try session.query("SELECT state FROM spool_user WHERE name = \(user)").first
                .flatMap { UserState(rawValue: try $0.decode(String.self)) }
        }
    }

    // MARK: - Helpers

    /// The user's state, its row locked until the transaction ends.
    static func lockState(_ session: PostgresSession, _ user: String) throws -> UserState {
        guard
            let text = try session.query("SELECT state FROM spool_user WHERE name = \(user) FOR UPDATE").first?
                .decode(String.self),
            let state = UserState(rawValue: text)
        else { throw SpoolError.unknownUser(user: user) }
        return state
    }

    static func fetchReleaseTarget(_ session: PostgresSession, _ user: String) throws -> ReleaseTarget? {
        guard let row = try session.query(
            "SELECT release_direction, release_target FROM spool_user WHERE name = \(user)").first
        else { return nil }
        let (direction, address) = try row.decode((String?, String?).self)
        guard let direction = direction.flatMap(ReleaseDirection.init(rawValue:)), let address else { return nil }
        return ReleaseTarget(direction: direction, address: address)
    }

    private static func logEvent(
        _ session: PostgresSession, _ user: String, _ event: String, at time: Int64, detail: String? = nil
    ) throws {
        try session.execute(
            """
            INSERT INTO user_event (username, at, event, state, in_migration_set, detail)
            SELECT name, \(time), \(event), state, in_migration_set, \(detail) FROM spool_user WHERE name = \(user)
            """)
    }

    private static func fetchStatus(_ session: PostgresSession, user: String?) throws -> [UserStatus] {
        let rows = try session.query(
            """
            SELECT u.name, u.state, u.in_migration_set, u.created_at, u.state_changed_at,
                u.release_direction, u.release_target,
                COUNT(m.seq) AS held_count, COALESCE(SUM(m.size), 0)::BIGINT AS held_bytes,
                MIN(m.received_at) AS oldest, MAX(m.received_at) AS newest
            FROM spool_user u
            LEFT JOIN (
                SELECT DISTINCT r.username, r.seq FROM recipient r
                WHERE NOT EXISTS (
                    SELECT 1 FROM delivery d WHERE d.seq = r.seq AND d.username = r.username AND d.state = 'delivered')
            ) h ON h.username = u.name
            LEFT JOIN message m ON m.seq = h.seq
            WHERE \(user)::TEXT IS NULL OR u.name = \(user)
            GROUP BY u.name
            ORDER BY u.name
            """)
        return try rows.map { row in
            let (name, state, inSet, created, changed, direction, address, count, bytes, oldest, newest) =
                try row.decode(
                    (String, String, Bool, Int64, Int64, String?, String?, Int64, Int64, Int64?, Int64?).self)
            let releaseDirection = direction.flatMap(ReleaseDirection.init(rawValue:))
            return UserStatus(
                user: name, state: UserState(rawValue: state) ?? .closed, inMigrationSet: inSet,
                heldCount: Int(count), heldBytes: bytes, oldestArrival: oldest.map(PostgresClock.date),
                newestArrival: newest.map(PostgresClock.date),
                releaseTarget: releaseDirection.flatMap { d in address.map { ReleaseTarget(direction: d, address: $0) } },
                createdAt: PostgresClock.date(created), stateChangedAt: PostgresClock.date(changed))
        }
    }
}
