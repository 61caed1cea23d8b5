import Dispatch
import Foundation
import GRDB
import Synchronization
import SystemLayer

/// One thread that turns staged messages into committed ones, many at a time: it takes every message staged
/// since its last batch, fsyncs `messages/` once, inserts all rows in one SQLite transaction (one WAL fsync with
/// synchronous=FULL), then answers every waiter. Concurrent commits therefore share their fsyncs.
final class GroupCommitter: Sendable {
    /// How a committer answers the one who staged a message.
    enum Waiter: Sendable {
        case continuation(CheckedContinuation<HeldMessage, any Error>)
        case callback(@Sendable (Result<HeldMessage, any Error>) -> Void)

        func resume(_ result: Result<HeldMessage, any Error>) {
            switch self {
            case .continuation(let continuation): continuation.resume(with: result)
            case .callback(let callback): callback(result)
            }
        }
    }

    private struct Pending: Sendable {
        let staged: StagedMessage
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
    private let database: DatabaseQueue
    private let layout: SpoolLayout

    init(database: DatabaseQueue, layout: SpoolLayout) {
        self.database = database
        self.layout = layout
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "BufferSpool.GroupCommitter"
        thread.start()
    }

    var statistics: CommitStatistics { state.withLock { $0.statistics } }

    func submit(_ staged: StagedMessage, waiter: Waiter) {
        let accepted = state.withLock { state in
            if state.stopping { return false }
            state.queue.append(Pending(staged: staged, waiter: waiter))
            return true
        }
        if accepted {
            wake.signal()
        } else {
            _ = try? SystemCall.unlinkIfPresent(staged.path)
            waiter.resume(.failure(SpoolError.closed))
        }
    }

    /// Commits what is queued, then ends the thread. Returns once it has ended. Later submits fail with `.closed`.
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
            let (batch, stopping) = state.withLock { state in
                let batch = state.queue
                state.queue.removeAll()
                return (batch, state.stopping)
            }
            if !batch.isEmpty { flush(batch) }
            if stopping { break }
        }
        exited.signal()
    }

    private func flush(_ batch: [Pending]) {
        let outcomes: [Result<HeldMessage, any Error>]
        do {
            // The renames into messages/ become durable here, before any row can refer to them.
            try SpoolError.io { try SystemCall.syncDirectory(layout.messages) }
        } catch {
            for pending in batch { _ = try? SystemCall.unlinkIfPresent(pending.staged.path) }
            finish(batch, outcomes: batch.map { _ in .failure(error) }, committed: 0)
            return
        }
        do {
            outcomes = try database.write { db in
                try batch.map { pending in try Self.insert(pending.staged, db) }
            }
        } catch {
            // The transaction did not commit (as far as SQLite told us). The files stay: if the commit did reach
            // the disk after all, they are needed; if not, recovery deletes them on the next start.
            let mapped = SpoolError.from(error, databasePath: layout.database)
            finish(batch, outcomes: batch.map { _ in .failure(mapped) }, committed: 0)
            return
        }
        for (pending, outcome) in zip(batch, outcomes) {
            if case .failure = outcome { _ = try? SystemCall.unlinkIfPresent(pending.staged.path) }
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
        for (pending, outcome) in zip(batch, outcomes) { pending.waiter.resume(outcome) }
    }

    /// Inserts one message unless one of its users stopped accepting mail since the writer was opened; that
    /// refusal concerns this message only, the rest of the batch commits.
    private static func insert(_ staged: StagedMessage, _ db: Database) throws -> Result<HeldMessage, any Error> {
        for user in staged.envelope.users {
            let accepting = try Bool.fetchOne(
                db,
                sql: """
                    SELECT in_migration_set = 1 AND state IN ('holding', 'releasing', 'released', 'reverted')
                    FROM spool_user WHERE name = ?
                    """,
                arguments: [user]) ?? false
            if !accepting { return .failure(SpoolError.userNotHeld(user: user)) }
        }
        try db.execute(
            sql: "INSERT INTO message (token, sender, received_at, size, sha256, message_id) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                staged.token, staged.envelope.sender, Timestamp.milliseconds(staged.receivedAt), staged.size,
                staged.sha256, staged.envelope.messageID,
            ])
        let seq = db.lastInsertedRowID
        for (position, recipient) in staged.envelope.recipients.enumerated() {
            try db.execute(
                sql: "INSERT INTO recipient (seq, position, address, user) VALUES (?, ?, ?, ?)",
                arguments: [seq, position, recipient.address, recipient.user])
        }
        return .success(
            HeldMessage(
                id: MessageID(rawValue: seq), envelope: staged.envelope, receivedAt: staged.receivedAt,
                size: staged.size, sha256: staged.sha256))
    }
}
