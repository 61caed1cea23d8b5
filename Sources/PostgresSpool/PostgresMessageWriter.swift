import BufferSpool
import Dispatch
import Foundation
import Synchronization
import SystemLayer

/// One message for the shared spool: the bytes are gathered in memory (they go into the database as one BYTEA
/// value, in the commit's transaction), hashed as they come. At most the server's message size limit.
final class PostgresMessageWriter: SpoolMessageWriter {
    private(set) var envelope: Envelope
    private(set) var size: Int64 = 0
    private var bytes: [UInt8] = []
    private var open = true
    private let hasher = SHA256()
    private let committer: PostgresGroupCommitter

    init(committer: PostgresGroupCommitter, envelope: Envelope) {
        self.committer = committer
        self.envelope = envelope
    }

    func append(_ chunk: [UInt8]) throws {
        guard open else { throw SpoolError.writerNotOpen }
        bytes += chunk
        chunk.withUnsafeBytes { hasher.update($0) }
        size += Int64(chunk.count)
    }

    func setMessageID(_ messageID: String?) { envelope.messageID = messageID }

    func abort() {
        open = false
        bytes = []
    }

    private func stage() throws -> PostgresStagedMessage {
        guard open else { throw SpoolError.writerNotOpen }
        try envelope.validate()
        open = false
        defer { bytes = [] }
        return PostgresStagedMessage(
            envelope: envelope, receivedAt: PostgresClock.date(PostgresClock.milliseconds()), size: size,
            sha256: hasher.finalizeHex(), body: bytes)
    }

    nonisolated(nonsending) func commit() async throws -> HeldMessage {
        let staged = try stage()
        let committer = self.committer
        return try await withCheckedThrowingContinuation { continuation in
            committer.submit(staged) { continuation.resume(with: $0) }
        }
    }

    func commitAndWait() throws -> HeldMessage {
        let staged = try stage()
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<HeldMessage, any Error>?>(nil)
        committer.submit(staged) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}

struct PostgresStagedMessage: Sendable {
    let envelope: Envelope
    let receivedAt: Date
    let size: Int64
    let sha256: String
    let body: [UInt8]
}
