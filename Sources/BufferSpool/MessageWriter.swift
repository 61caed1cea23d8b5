import Dispatch
import Foundation
import Synchronization
import SystemLayer

/// Streams one message into the spool: `append` chunks as DATA arrives, then `commit()` (answer 250 when it
/// returns) or `abort()`. Only the current chunk is ever in memory.
///
/// Not thread-safe: one SMTP session owns one writer. Dropping an uncommitted writer aborts it.
public final class MessageWriter {
    private enum Phase {
        case open(FileDescriptor)
        case staged
        case finished
    }

    public private(set) var envelope: Envelope
    /// Bytes appended so far.
    public private(set) var size: Int64 = 0

    let spool: BufferSpool
    let token: String
    private let hasher = SHA256()
    private var phase: Phase

    init(spool: BufferSpool, envelope: Envelope) throws {
        self.spool = spool
        self.envelope = envelope
        let token = SpoolLayout.newToken()
        self.token = token
        switch spool.incomingFiles {
        case .spoolDirectory: phase = .open(try SpoolError.io { try FileDescriptor(opening: spool.layout.incomingFile(token), O_WRONLY | O_CREAT | O_EXCL, mode: 0o600) })
        case .existingFile(let path): phase = .open(try SpoolError.io { try FileDescriptor(opening: path, O_WRONLY) })
        }
    }

    deinit {
        if case .open = phase { abort() }
    }

    var temporaryPath: String { spool.layout.incomingFile(token) }
    var finalPath: String { spool.layout.messageFile(token) }

    /// Writes a chunk to the temporary file. On any failure (ENOSPC is `SpoolError.insufficientStorage`) the
    /// writer is aborted: the temporary file is removed and later calls throw `writerNotOpen`.
    public func append(_ chunk: UnsafeRawBufferPointer) throws {
        guard case .open(let file) = phase else { throw SpoolError.writerNotOpen }
        do {
            guard file.isOpen else { throw SpoolError.writerNotOpen }
            try SpoolError.io { try file.writeAll(chunk) }
        } catch {
            abort()
            throw error
        }
        hasher.update(chunk)
        size += Int64(chunk.count)
    }

    public func append(_ chunk: [UInt8]) throws {
        try chunk.withUnsafeBytes { try append($0) }
    }

    public func append(_ chunk: ArraySlice<UInt8>) throws {
        try chunk.withUnsafeBytes { try append($0) }
    }

    /// Sets the envelope's Message-ID before the commit: the server finds it late when a header section is longer
    /// than what it keeps in memory before the writer opens.
    public func setMessageID(_ messageID: String?) {
        envelope.messageID = messageID
    }

    /// Drops the message: closes and removes the temporary file. Safe to call more than once.
    public func abort() {
        guard case .open(let file) = phase else { return }
        file.closeQuietly()
        _ = try? SystemCall.unlinkIfPresent(temporaryPath)
        phase = .finished
    }

    /// Makes the message durable and committed, sharing the directory fsync and the SQLite commit with every
    /// other message committed at the same time. Returns only once the row is committed: answer 250 then.
    /// Cancellation is not honoured: once staged, the outcome is decided by the committer.
    nonisolated(nonsending) public func commit() async throws -> HeldMessage {
        let staged = try stage()
        let committer = spool.committer
        return try await withCheckedThrowingContinuation { continuation in
            committer.submit(staged, waiter: .continuation(continuation))
        }
    }

    /// `commit()` for threads that may block (a thread-per-session server, tools, tests).
    public func commitAndWait() throws -> HeldMessage {
        let staged = try stage()
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        spool.committer.submit(
            staged,
            waiter: .callback { result in
                outcome.value.withLock { $0 = result }
                done.signal()
            })
        done.wait()
        return try outcome.value.withLock { $0! }.get()
    }

    /// Step 1 of a commit: fsync the temporary file, close it, rename it to `messages/<token>.eml`. After this a
    /// crash leaves a file without a row, which recovery deletes.
    func stage() throws -> StagedMessage {
        guard case .open(let file) = phase else { throw SpoolError.writerNotOpen }
        do {
            try envelope.validate()
            try SpoolError.io { try file.sync() }
            file.closeQuietly()
            try SpoolError.io { try SystemCall.rename(temporaryPath, to: finalPath) }
        } catch {
            abort()
            throw error
        }
        phase = .staged
        return StagedMessage(
            token: token, path: finalPath, envelope: envelope, receivedAt: Timestamp.now(), size: size,
            sha256: hasher.finalizeHex())
    }

    /// For crash tests: stop here as `kill -9` would, leaving the files as they are.
    func abandonAsIfKilled() {
        if case .open(let file) = phase { file.closeQuietly() }
        phase = .finished
    }
}

/// Carries the committer's answer to a thread blocked in `commitAndWait`.
private final class OutcomeBox: Sendable {
    let value = Mutex<Result<HeldMessage, any Error>?>(nil)
}
