import BufferSpool
import Dispatch
import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// One thread that commits the messages staged since its last batch in one PostgreSQL transaction (one WAL
/// flush for all of them), then answers every waiter: the shared spool's group commit. A batch whose
/// transaction fails answers every message in it with the error (451 to the client); none of it is committed,
/// except when the connection is lost during COMMIT itself, where the outcome is unknown and the client's retry
/// may store the message twice (never zero times after a 250).
final class PostgresGroupCommitter: Sendable {
    typealias Waiter = @Sendable (Result<HeldMessage, any Error>) -> Void

    private struct Pending: Sendable {
        let staged: PostgresStagedMessage
        let waiter: Waiter
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        var stopping = false
        var statistics = CommitStatistics()
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let connections: PostgresConnections
    /// Bytes of message bodies in one transaction at most; the rest waits for the next batch.
    static let batchBytes = 64 * 1024 * 1024

    init(connections: PostgresConnections) {
        self.connections = connections
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "PostgresSpool.GroupCommitter"
        thread.start()
    }

    var statistics: CommitStatistics { state.withLock { $0.statistics } }

    func submit(_ staged: PostgresStagedMessage, waiter: @escaping Waiter) {
        let accepted = state.withLock { state in
            if state.stopping { return false }
            state.queue.append(Pending(staged: staged, waiter: waiter))
            return true
        }
        if accepted { wake.signal() } else { waiter(.failure(SpoolError.closed)) }
    }

    func stop() {
        let first = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        wake.signal()
        exited.wait()
    }

    private func run() {
        while true {
            wake.wait()
            while true {
                let (batch, stopping, more) = state.withLock { state -> ([Pending], Bool, Bool) in
                    var bytes = 0
                    var count = 0
                    for pending in state.queue {
                        if count > 0 && bytes + pending.staged.body.count > Self.batchBytes { break }
                        bytes += pending.staged.body.count
                        count += 1
                    }
                    let batch = Array(state.queue.prefix(count))
                    state.queue.removeFirst(count)
                    return (batch, state.stopping, !state.queue.isEmpty)
                }
                if !batch.isEmpty { flush(batch) }
                if stopping && !more {
                    exited.signal()
                    return
                }
                if !more { break }
            }
        }
    }

    private func flush(_ batch: [Pending]) {
        let outcomes: [Result<HeldMessage, any Error>]
        do {
            outcomes = try connections.transaction { session in
                // Share locks on the users' rows: a state change (FOR UPDATE) waits for this commit, and this
                // commit sees a change committed before it.
                let users = Array(Set(batch.flatMap { $0.staged.envelope.users })).sorted()
                let accepting = Set(
                    try session.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT name FROM spool_user WHERE name = ANY($1) AND \(PostgresSpool.acceptingCondition)
                                ORDER BY name FOR SHARE
                                """,
                            binds: try Self.binds(users))
                    ).map { try $0.decode(String.self) })
                return try batch.map { pending -> Result<HeldMessage, any Error> in
                    if let user = pending.staged.envelope.users.first(where: { !accepting.contains($0) }) {
                        return .failure(SpoolError.userNotHeld(user: user))
                    }
                    return .success(try Self.insert(pending.staged, session))
                }
            }
        } catch {
            finish(batch, outcomes: batch.map { _ in .failure(error) }, committed: 0)
            return
        }
        let committed = outcomes.filter { if case .success = $0 { return true } else { return false } }.count
        finish(batch, outcomes: outcomes, committed: committed)
    }

    private func finish(_ batch: [Pending], outcomes: [Result<HeldMessage, any Error>], committed: Int) {
        state.withLock { state in
            state.statistics.batches += 1
            state.statistics.messages += committed
            state.statistics.largestBatch = max(state.statistics.largestBatch, batch.count)
        }
        for (pending, outcome) in zip(batch, outcomes) { pending.waiter(outcome) }
    }

    static func binds(_ values: [String]) throws -> PostgresBindings {
        var binds = PostgresBindings()
        try binds.append(values)
        return binds
    }

    /// The message and its recipients in one statement; returns its sequence number.
    private static func insert(_ staged: PostgresStagedMessage, _ session: PostgresSession) throws -> HeldMessage {
        let envelope = staged.envelope
        let body = ByteBuffer(bytes: staged.body)
        let addresses = envelope.recipients.map(\.address)
        let users = envelope.recipients.map(\.user)
        let received = PostgresClock.milliseconds(staged.receivedAt)
        let rows = try session.query(
            """
            WITH m AS (
                INSERT INTO message (sender, received_at, size, sha256, message_id, body)
                VALUES (\(envelope.sender), \(received), \(staged.size), \(staged.sha256), \(envelope.messageID), \(body))
                RETURNING seq)
            INSERT INTO recipient (seq, position, address, username)
            SELECT m.seq, r.position - 1, r.address, r.username
            FROM m, unnest(\(addresses)::text[], \(users)::text[]) WITH ORDINALITY AS r(address, username, position)
            RETURNING seq
            """)
        guard let seq = try rows.first?.decode(Int64.self) else {
            throw SpoolError.database(path: "message", reason: "the insert returned no sequence number")
        }
        return HeldMessage(
            id: MessageID(rawValue: seq), envelope: envelope, receivedAt: staged.receivedAt, size: staged.size,
            sha256: staged.sha256)
    }
}
