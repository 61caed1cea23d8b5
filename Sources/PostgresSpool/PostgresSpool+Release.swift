import BufferSpool
import Foundation
import NIOCore
import PostgresNIO
import SystemLayer

/// What the releaser needs, as in `BufferSpool+Release`: held messages in arrival order, their bytes checked
/// against the committed SHA-256, the delivery journal; and the locks that keep one release of a user running.
extension PostgresSpool {
    public func heldMessages(for user: String, after: MessageID?, limit: Int) throws -> [HeldMessage] {
        try read { session in
            try Self.fetchMessages(
                session,
                """
                SELECT m.seq, m.sender, m.received_at, m.size, m.sha256, m.message_id FROM message m
                WHERE m.seq > \(after?.rawValue ?? 0) AND m.seq IN (
                    SELECT r.seq FROM recipient r WHERE r.username = \(user) AND NOT EXISTS (
                        SELECT 1 FROM delivery d
                        WHERE d.seq = r.seq AND d.username = r.username AND d.state = 'delivered'))
                ORDER BY m.seq LIMIT \(Int64(limit))
                """)
        }
    }

    public func message(_ id: MessageID) throws -> HeldMessage {
        guard
            let message = try read({ session in
                try Self.fetchMessages(
                    session,
                    "SELECT seq, sender, received_at, size, sha256, message_id FROM message WHERE seq = \(id.rawValue)")
            }).first
        else { throw SpoolError.unknownMessage(id: id) }
        return message
    }

    /// Reads the whole body from the database, hashes it and hands it over in chunks only once the hash and
    /// length match what was committed.
    public func readMessage(_ id: MessageID, chunkSize: Int, _ consume: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        precondition(chunkSize > 0, "chunkSize must be positive")
        let stored = try message(id)
        let body = try read { session -> ByteBuffer? in
            try session.query("SELECT body FROM message WHERE seq = \(id.rawValue)").first?.decode(ByteBuffer.self)
        }
        let place = "\(location) message \(id.rawValue)"
        guard let body else { throw SpoolError.fileMissing(id: id, path: place) }
        let hasher = SHA256()
        body.withUnsafeReadableBytes { hasher.update($0) }
        let actual = hasher.finalizeHex()
        guard actual == stored.sha256, Int64(body.readableBytes) == stored.size else {
            throw SpoolError.hashMismatch(
                id: id, path: place, expected: stored.sha256, actual: actual, expectedSize: stored.size,
                actualSize: Int64(body.readableBytes))
        }
        try body.withUnsafeReadableBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(offset + chunkSize, all.count)
                try consume(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                offset = end
            }
        }
    }

    public func verifyMessage(_ id: MessageID) throws {
        try readMessage(id, chunkSize: 64 * 1024) { _ in }
    }

    public func markDelivering(_ id: MessageID, user: String, target: String) throws {
        try write { session in
            try Self.requireRecipient(session, id, user)
            let state = try Self.lockState(session, user)
            guard state == .releasing || state.lingers else { throw SpoolError.notReleasing(user: user, state: state) }
            let now = PostgresClock.milliseconds()
            switch try Self.fetchDeliveryState(session, id, user, target) {
            case .delivered?:
                throw SpoolError.alreadyDelivered(id: id, user: user, target: target)
            case .delivering?:
                try session.execute(
                    """
                    UPDATE delivery SET attempts = attempts + 1, last_attempt_at = \(now)
                    WHERE seq = \(id.rawValue) AND username = \(user) AND target = \(target)
                    """)
            case nil:
                try session.execute(
                    """
                    INSERT INTO delivery (seq, username, target, state, attempts, first_attempt_at, last_attempt_at)
                    VALUES (\(id.rawValue), \(user), \(target), 'delivering', 1, \(now), \(now))
                    """)
            }
        }
    }

    public func markDelivered(_ id: MessageID, user: String, target: String) throws {
        try write { session in
            switch try Self.fetchDeliveryState(session, id, user, target, lock: true) {
            case .delivered?:
                throw SpoolError.alreadyDelivered(id: id, user: user, target: target)
            case nil:
                throw SpoolError.notDelivering(id: id, user: user, target: target)
            case .delivering?:
                try session.execute(
                    """
                    UPDATE delivery SET state = 'delivered', delivered_at = \(PostgresClock.milliseconds())
                    WHERE seq = \(id.rawValue) AND username = \(user) AND target = \(target)
                    """)
            }
        }
    }

    public func unknownOutcomes(for user: String) throws -> [DeliveryRecord] {
        try read { session in
            try Self.fetchDeliveries(
                session,
                """
                SELECT seq, username, target, state, attempts, first_attempt_at, last_attempt_at, delivered_at
                FROM delivery WHERE username = \(user) AND state = 'delivering' ORDER BY seq, username, target
                """)
        }
    }

    public func deliveries(of id: MessageID) throws -> [DeliveryRecord] {
        try read { session in
            try Self.fetchDeliveries(
                session,
                """
                SELECT seq, username, target, state, attempts, first_attempt_at, last_attempt_at, delivered_at
                FROM delivery WHERE seq = \(id.rawValue) ORDER BY seq, username, target
                """)
        }
    }

    /// Holds a session-level advisory lock on the name's hash for as long as `body` runs, on a connection of
    /// its own; nil when another session (another host) holds it. A process that dies loses its session and so
    /// its lock.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T? {
        try read { session -> T? in
            let key = "mailferry: " + name
            let taken =
                try session.query("SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))").first?.decode(Bool.self)
                ?? false
            guard taken else { return nil }
            let result: T
            do {
                result = try body()
            } catch {
                try? session.execute("SELECT pg_advisory_unlock(hashtextextended(\(key), 0))")
                throw error
            }
            try session.execute("SELECT pg_advisory_unlock(hashtextextended(\(key), 0))")
            return result
        }
    }

    /// The document's row, created empty if missing, locked (`FOR UPDATE`) while `change` runs.
    public func updateDocument<T>(_ name: String, _ change: (Data?) throws -> (Data?, T)) throws -> T {
        try write { session in
            try session.execute("INSERT INTO spool_document (name, body) VALUES (\(name), NULL) ON CONFLICT DO NOTHING")
            let stored = try session.query("SELECT body FROM spool_document WHERE name = \(name) FOR UPDATE").first?
                .decode(ByteBuffer?.self)
            let (new, result) = try change(stored.flatMap { $0 }.map { Data($0.readableBytesView) })
            if let new {
                try session.execute(
                    "UPDATE spool_document SET body = \(ByteBuffer(bytes: new)) WHERE name = \(name)")
            }
            return result
        }
    }

    // MARK: - Helpers

    private static func requireRecipient(_ session: PostgresSession, _ id: MessageID, _ user: String) throws {
        let exists = try session.query(
            "SELECT EXISTS (SELECT 1 FROM recipient WHERE seq = \(id.rawValue) AND username = \(user))"
        ).first?.decode(Bool.self) ?? false
        if !exists { throw SpoolError.unknownMessage(id: id) }
    }

    private static func fetchDeliveryState(
        _ session: PostgresSession, _ id: MessageID, _ user: String, _ target: String, lock: Bool = false
    ) throws -> DeliveryRecord.State? {
        let sql =
            "SELECT state FROM delivery WHERE seq = $1 AND username = $2 AND target = $3" + (lock ? " FOR UPDATE" : "")
        var binds = PostgresBindings()
        binds.append(id.rawValue)
        binds.append(user)
        binds.append(target)
        return try session.query(PostgresQuery(unsafeSQL: sql, binds: binds)).first
            .flatMap { DeliveryRecord.State(rawValue: try $0.decode(String.self)) }
    }

    private static func fetchDeliveries(_ session: PostgresSession, _ query: PostgresQuery) throws -> [DeliveryRecord] {
        try session.query(query).map { row in
            let (seq, user, target, state, attempts, first, last, delivered) = try row.decode(
                (Int64, String, String, String, Int32, Int64, Int64, Int64?).self)
            return DeliveryRecord(
                id: MessageID(rawValue: seq), user: user, target: target,
                state: DeliveryRecord.State(rawValue: state) ?? .delivering, attempts: Int(attempts),
                firstAttemptAt: PostgresClock.date(first), lastAttemptAt: PostgresClock.date(last),
                deliveredAt: delivered.map(PostgresClock.date))
        }
    }

    static func fetchMessages(_ session: PostgresSession, _ query: PostgresQuery) throws -> [HeldMessage] {
        let rows = try session.query(query)
        var messages = try rows.map { row in
            let (seq, sender, received, size, sha256, messageID) = try row.decode(
                (Int64, String, Int64, Int64, String, String?).self)
            return HeldMessage(
                id: MessageID(rawValue: seq), envelope: Envelope(sender: sender, recipients: [], messageID: messageID),
                receivedAt: PostgresClock.date(received), size: size, sha256: sha256)
        }
        guard !messages.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(messages.map(\.id.rawValue))
        var recipients: [Int64: [Recipient]] = [:]
        for row in try session.query(
            PostgresQuery(
                unsafeSQL: "SELECT seq, address, username FROM recipient WHERE seq = ANY($1) ORDER BY seq, position",
                binds: binds))
        {
            let (seq, address, user) = try row.decode((Int64, String, String).self)
            recipients[seq, default: []].append(Recipient(address: address, user: user))
        }
        for index in messages.indices {
            messages[index].envelope.recipients = recipients[messages[index].id.rawValue] ?? []
        }
        return messages
    }
}
