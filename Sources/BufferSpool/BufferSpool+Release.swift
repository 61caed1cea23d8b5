import Foundation
import GRDB
import SystemLayer

/// What the releaser needs: held messages in arrival order, their bytes checked against the committed SHA-256,
/// and the delivery journal.
extension BufferSpool {
    /// Messages held for `user` (not yet delivered for that user to any target), in arrival order, a page at a
    /// time: pass the last id of a page as `after` to get the next.
    public func heldMessages(for user: String, after: MessageID? = nil, limit: Int = 500) throws -> [HeldMessage] {
        try read { db in
            try Self.fetchMessages(
                db,
                where: """
                    m.seq > ? AND m.seq IN (
                        SELECT r.seq FROM recipient r WHERE r.user = ? AND NOT EXISTS (
                            SELECT 1 FROM delivery d
                            WHERE d.seq = r.seq AND d.user = r.user AND d.state = 'delivered'))
                    ORDER BY m.seq LIMIT ?
                    """,
                arguments: [after?.rawValue ?? 0, user, limit])
        }
    }

    /// One committed message.
    public func message(_ id: MessageID) throws -> HeldMessage {
        guard let message = try read({ db in try Self.fetchMessages(db, where: "m.seq = ?", arguments: [id.rawValue]) })
            .first
        else { throw SpoolError.unknownMessage(id: id) }
        return message
    }

    /// Whether a message with this Message-ID passed through the buffer already (loop avoidance).
    public func hasPassedThrough(messageID: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM message WHERE message_id = ?)", arguments: [messageID])
                ?? false
        }
    }

    /// Reads a held message's bytes in chunks of `chunkSize`, hashing them as it goes. Throws `fileMissing`, or
    /// `hashMismatch` when the bytes differ from what was committed. The last chunk is handed over only after the
    /// hash matched, so a consumer that forwards chunks as they come never passes on a complete corrupt message;
    /// it must still end its delivery (the final "." of DATA) only after this function returned.
    public func readMessage(
        _ id: MessageID, chunkSize: Int = 64 * 1024, _ consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        precondition(chunkSize > 0, "chunkSize must be positive")
        let stored = try message(id)
        let token = try read { db in
            try String.fetchOne(db, sql: "SELECT token FROM message WHERE seq = ?", arguments: [id.rawValue])
        }
        let path = layout.messageFile(token ?? "")
        let file: FileDescriptor
        do {
            file = try SpoolError.io { try FileDescriptor(opening: path, O_RDONLY) }
        } catch SpoolError.io(_, _, let code, _) where code == ENOENT {
            throw SpoolError.fileMissing(id: id, path: path)
        }
        let hasher = SHA256()
        var current = [UInt8](repeating: 0, count: chunkSize)
        var next = [UInt8](repeating: 0, count: chunkSize)
        var currentCount = try current.withUnsafeMutableBytes { buffer in try SpoolError.io { try file.readFully(into: buffer) } }
        var total = Int64(currentCount)
        current.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<currentCount])) }
        while currentCount == chunkSize {
            let nextCount = try next.withUnsafeMutableBytes { buffer in try SpoolError.io { try file.readFully(into: buffer) } }
            if nextCount == 0 { break }
            try current.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[..<currentCount])) }
            swap(&current, &next)
            currentCount = nextCount
            total += Int64(nextCount)
            current.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<currentCount])) }
        }
        let actual = hasher.finalizeHex()
        guard actual == stored.sha256, total == stored.size else {
            throw SpoolError.hashMismatch(
                id: id, path: path, expected: stored.sha256, actual: actual, expectedSize: stored.size,
                actualSize: total)
        }
        if currentCount > 0 {
            try current.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[..<currentCount])) }
        }
    }

    /// Re-hashes a held message without handing its bytes to anyone.
    public func verifyMessage(_ id: MessageID) throws {
        try readMessage(id) { _ in }
    }

    /// Journal: an attempt to deliver message `id` for `user` to `target` starts now. Call before sending. The
    /// user must be releasing. Throws `alreadyDelivered` if that delivery is already recorded (exactly once).
    public func markDelivering(_ id: MessageID, user: String, target: String) throws {
        try write { db in
            try Self.requireRecipient(db, id, user)
            let state = try Self.requireState(db, user)
            // Releasing, or lingering after the release (mail that arrived since is passed on the same way).
            guard state == .releasing || state.lingers else { throw SpoolError.notReleasing(user: user, state: state) }
            let now = Timestamp.milliseconds(Date())
            switch try Self.fetchDeliveryState(db, id, user, target) {
            case .delivered?:
                throw SpoolError.alreadyDelivered(id: id, user: user, target: target)
            case .delivering?:
                try db.execute(
                    sql: """
                        UPDATE delivery SET attempts = attempts + 1, last_attempt_at = ?
                        WHERE seq = ? AND user = ? AND target = ?
                        """,
                    arguments: [now, id.rawValue, user, target])
            case nil:
                try db.execute(
                    sql: """
                        INSERT INTO delivery (seq, user, target, state, attempts, first_attempt_at, last_attempt_at)
                        VALUES (?, ?, ?, 'delivering', 1, ?, ?)
                        """,
                    arguments: [id.rawValue, user, target, now, now])
            }
        }
    }

    /// Journal: the target accepted message `id` for `user`. Requires a preceding `markDelivering`.
    public func markDelivered(_ id: MessageID, user: String, target: String) throws {
        try write { db in
            switch try Self.fetchDeliveryState(db, id, user, target) {
            case .delivered?:
                throw SpoolError.alreadyDelivered(id: id, user: user, target: target)
            case nil:
                throw SpoolError.notDelivering(id: id, user: user, target: target)
            case .delivering?:
                try db.execute(
                    sql: """
                        UPDATE delivery SET state = 'delivered', delivered_at = ?
                        WHERE seq = ? AND user = ? AND target = ?
                        """,
                    arguments: [Timestamp.milliseconds(Date()), id.rawValue, user, target])
            }
        }
    }

    /// Deliveries whose outcome is unknown (attempt started, success not recorded): after a crash, look each up
    /// at its target before delivering again.
    public func unknownOutcomes(for user: String) throws -> [DeliveryRecord] {
        try read { db in try Self.fetchDeliveries(db, where: "user = ? AND state = 'delivering'", arguments: [user]) }
    }

    /// The journal of one message.
    public func deliveries(of id: MessageID) throws -> [DeliveryRecord] {
        try read { db in try Self.fetchDeliveries(db, where: "seq = ?", arguments: [id.rawValue]) }
    }

    // MARK: - Helpers

    private static func requireRecipient(_ db: Database, _ id: MessageID, _ user: String) throws {
        let exists = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM recipient WHERE seq = ? AND user = ?)",
            arguments: [id.rawValue, user]) ?? false
        if !exists { throw SpoolError.unknownMessage(id: id) }
    }

    private static func fetchDeliveryState(_ db: Database, _ id: MessageID, _ user: String, _ target: String) throws
        -> DeliveryRecord.State?
    {
        try String.fetchOne(
            db, sql: "SELECT state FROM delivery WHERE seq = ? AND user = ? AND target = ?",
            arguments: [id.rawValue, user, target]
        ).flatMap(DeliveryRecord.State.init(rawValue:))
    }

    private static func fetchDeliveries(_ db: Database, where condition: String, arguments: StatementArguments)
        throws -> [DeliveryRecord]
    {
        try Row.fetchAll(
            db, sql: "SELECT * FROM delivery WHERE \(condition) ORDER BY seq, user, target", arguments: arguments
        ).map { row in
            DeliveryRecord(
                id: MessageID(rawValue: row["seq"]), user: row["user"], target: row["target"],
                state: DeliveryRecord.State(rawValue: row["state"]) ?? .delivering, attempts: row["attempts"],
                firstAttemptAt: Timestamp.date(row["first_attempt_at"]),
                lastAttemptAt: Timestamp.date(row["last_attempt_at"]),
                deliveredAt: (row["delivered_at"] as Int64?).map(Timestamp.date))
        }
    }

    static func fetchMessages(_ db: Database, where condition: String, arguments: StatementArguments) throws
        -> [HeldMessage]
    {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT m.seq, m.sender, m.received_at, m.size, m.sha256, m.message_id
                FROM message m WHERE \(condition)
                """,
            arguments: arguments)
        return try rows.map { row in
            let seq: Int64 = row["seq"]
            let recipients = try Row.fetchAll(
                db, sql: "SELECT address, user FROM recipient WHERE seq = ? ORDER BY position", arguments: [seq]
            ).map { Recipient(address: $0["address"], user: $0["user"]) }
            return HeldMessage(
                id: MessageID(rawValue: seq),
                envelope: Envelope(sender: row["sender"], recipients: recipients, messageID: row["message_id"]),
                receivedAt: Timestamp.date(row["received_at"]), size: row["size"], sha256: row["sha256"])
        }
    }
}
