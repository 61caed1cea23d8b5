import Dispatch
import Foundation
import MailModel
import Synchronization
import SystemLayer

/// Reads, decompresses and checks an archive's items on a thread of its own, handing each item's
/// bytes over through a bounded queue, so that an importer writing files on the calling thread uses
/// the second core for zstd, tar and SHA-256. Every check of `ArchiveItemStream` still applies (it
/// is what runs on the other thread); an item's `check()` waits for that thread's verdict on it. A large item's
/// SHA-256 is computed on the consumer's side, over exactly the bytes it was given, and `check()` compares it.
///
/// The other thread opens the archive again through `VerifiedArchive`, so both threads read the same signed
/// archive.
public final class PrefetchingItemStream {
    private let queue: HandOffQueue<HandOff>
    private let pool: ChunkPool
    private var current: PrefetchedItemBody?
    private var finished = false
    /// Signalled when the other thread has ended.
    private let ended: DispatchSemaphore

    /// At most this many hand-offs wait in the queue.
    static let queueCapacity = 32
    /// Chunks are read straight into these recycled buffers and handed over without a copy; their number bounds the
    /// memory the bytes in flight take (8 MiB).
    static let chunkCount = 32
    static let chunkSize = ArchiveItemBody.chunkSize
    /// Items at least this large are hashed on the consumer's thread instead: for them decompression alone keeps the
    /// reading thread busy while writing leaves the consumer idle, and hashing there balances the two. Smaller items
    /// cost the consumer a file each, so the reading thread keeps hashing them.
    static let consumerHashedSize: Int64 = 4 << 20

    init(archive: VerifiedArchive, manifest: VerifiedManifest) {
        let queue = HandOffQueue<HandOff>(capacity: Self.queueCapacity)
        let pool = ChunkPool(count: Self.chunkCount, size: Self.chunkSize)
        let ended = DispatchSemaphore(value: 0)
        self.queue = queue
        self.pool = pool
        self.ended = ended
        let thread = Thread {
            Self.produce(archive, manifest, into: queue, pool: pool)
            ended.signal()
        }
        thread.start()
    }

    /// Wakes the other thread and waits for it to end (after the chunk it is reading, at most), so that it never
    /// runs on while the process exits after a failure: OpenSSL's exit handler would pull away the state of a
    /// signature check or hash it is in the middle of (a crash instead of the failure's exit status).
    deinit {
        queue.cancel()
        pool.cancel()
        ended.wait()
    }

    private static func produce(
        _ archive: VerifiedArchive, _ manifest: VerifiedManifest, into queue: HandOffQueue<HandOff>, pool: ChunkPool
    ) {
        let archivePath = archive.path
        do {
            // The reader checks the signature again and must see the same statement, so the consumer's manifest
            // (hash-checked against that statement) is this reader's: read through `pread`, shared safely.
            let reader = try archive.openReader()
            let items = try reader.items(manifest)
            while let (record, body) = try items.next() {
                let consumerHashes = record.size >= Self.consumerHashedSize
                guard queue.put(.item(record, consumerHashes: consumerHashes)) else { return }
                var cancelled = false
                // The buffer being filled; it becomes the consumer's once sent (the last read of an item, which
                // finds no bytes, leaves it here to be given back).
                var held: Int?
                let nextBuffer = { () throws -> UnsafeMutableRawBufferPointer in
                    if held == nil {
                        guard let index = pool.acquire() else { throw ChunkPool.Cancelled() }
                        held = index
                    }
                    return pool.buffer(held!)
                }
                let send = { (filled: UnsafeMutableRawBufferPointer) in
                    guard let index = held else { return }
                    held = nil
                    if !cancelled { cancelled = !queue.put(.chunk(index, filled.count)) }
                    if cancelled { pool.release(index) }
                }
                do {
                    if consumerHashes {
                        try body.streamUnhashed(through: nextBuffer, send)
                    } else {
                        try body.stream(through: nextBuffer, send)
                    }
                } catch is ChunkPool.Cancelled {
                    return
                }
                if let index = held { pool.release(index) }
                if cancelled { return }
                do {
                    try body.check()
                    guard queue.put(.itemChecked(nil)) else { return }
                } catch {
                    _ = queue.put(.itemChecked(ArchiveError.wrap(error, archivePath)))
                    return
                }
            }
            _ = queue.put(.end)
        } catch {
            _ = queue.put(.failure(ArchiveError.wrap(error, archivePath)))
        }
    }

    /// The next item and a body that streams its bytes once; nil after the last item.
    public func next() throws -> (EntryRecord, PrefetchedItemBody)? {
        if let current {
            try current.drain()
            try current.check()
        }
        current = nil
        guard !finished else { return nil }
        switch queue.take() {
        case .item(let record, consumerHashes: let consumerHashes):
            let body = PrefetchedItemBody(record: record, queue: queue, pool: pool, hashing: consumerHashes)
            current = body
            return (record, body)
        case .end:
            finished = true
            return nil
        case .failure(let error):
            finished = true
            throw error
        case .chunk, .itemChecked:
            throw ArchiveError(.io, "", "archive reader hand-off out of step")
        }
    }
}

/// One item's bytes as the reading thread hands them over.
public final class PrefetchedItemBody: CheckedItemBody {
    public let record: EntryRecord
    private let queue: HandOffQueue<HandOff>
    private let pool: ChunkPool
    /// Set when this thread hashes the bytes (a large item): `check()` then also compares that digest.
    private let hasher: SHA256?
    private var verdict: Result<Void, ArchiveError>?

    init(record: EntryRecord, queue: HandOffQueue<HandOff>, pool: ChunkPool, hashing: Bool) {
        self.record = record
        self.queue = queue
        self.pool = pool
        self.hasher = hashing ? SHA256() : nil
    }

    public var byteCount: Int64 { record.size }
    public var origin: String { record.path }

    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard verdict == nil else { throw ArchiveError(.io, origin, "an archive entry can be read only once") }
        while true {
            switch queue.take() {
            case .chunk(let index, let count):
                defer { pool.release(index) }
                let bytes = UnsafeRawBufferPointer(rebasing: pool.buffer(index).prefix(count))
                hasher?.update(bytes)
                try consume(bytes)
            case .itemChecked(let error):
                if let error {
                    verdict = .failure(error)
                } else if let hasher {
                    let digest = hasher.finalizeHex()
                    verdict = digest == record.sha256 ? .success(()) : .failure(ArchiveError(
                        .verification, origin,
                        "SHA-256 \(digest) does not match the manifest's \(record.sha256) (the entry was altered)"))
                } else {
                    verdict = .success(())
                }
                return
            case .failure(let error):
                verdict = .failure(error)
                throw error
            case .item, .end:
                throw ArchiveError(.io, origin, "archive reader hand-off out of step")
            }
        }
    }

    func drain() throws {
        if verdict == nil { try stream { _ in } }
    }

    /// Throws unless the whole item arrived and its SHA-256 is what the manifest says.
    public func check() throws {
        guard let verdict else { throw ArchiveError(.verification, origin, "was not read completely") }
        try verdict.get()
    }
}

/// What the reading thread hands over, in order.
enum HandOff: Sendable {
    /// `consumerHashes`: the item's bytes come unhashed and the consumer hashes them.
    case item(EntryRecord, consumerHashes: Bool)
    /// A `ChunkPool` buffer (by index) holding this many bytes; the consumer gives it back once used.
    case chunk(Int, Int)
    case itemChecked(ArchiveError?)
    case end
    case failure(ArchiveError)
}

/// Fixed buffers passed between the reading thread and the consumer, so no chunk is allocated or copied on its way.
/// `acquire` blocks while every buffer is in use and returns nil once the consumer has gone away.
final class ChunkPool: @unchecked Sendable {
    struct Cancelled: Error {}

    // The buffers are made once and freed with the pool; only their indices move, under the lock.
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let available = DispatchSemaphore(value: 0)
    private let state: Mutex<(free: [Int], cancelled: Bool)>

    init(count: Int, size: Int) {
        buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
        state = Mutex((Array(0..<count), false))
        // Raised from 0 rather than made at `count`, for the reason `HandOffQueue` gives.
        for _ in 0..<count { available.signal() }
    }

    deinit { for b in buffers { b.deallocate() } }

    func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer { buffers[index] }

    func acquire() -> Int? {
        available.wait()
        return state.withLock { s -> Int? in s.cancelled ? nil : s.free.removeLast() }
    }

    func release(_ index: Int) {
        state.withLock { $0.free.append(index) }
        available.signal()
    }

    /// The consumer is gone: wake the reading thread and make every later `acquire` fail.
    func cancel() {
        state.withLock { $0.cancelled = true }
        available.signal()
    }
}

/// A bounded single-producer, single-consumer queue. `put` blocks while it is full and returns false
/// once the consumer has gone away, so the producer stops instead of waiting forever.
final class HandOffQueue<Element: Sendable>: Sendable {
    private let capacity: Int
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)
    private let state = Mutex<(items: [Element], head: Int, cancelled: Bool)>(([], 0, false))

    init(capacity: Int) {
        self.capacity = capacity
        // Made at 0 and raised, not made at `capacity`: libdispatch traps when a semaphore is freed below the value
        // it was made with, which is where `free` is when the consumer stops early (an import that fails part way).
        self.free = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { free.signal() }
    }

    func put(_ value: Element) -> Bool {
        free.wait()
        let accepted = state.withLock { s -> Bool in
            guard !s.cancelled else { return false }
            s.items.append(value)
            return true
        }
        if accepted { filled.signal() }
        return accepted
    }

    func take() -> Element {
        filled.wait()
        let value = state.withLock { s -> Element in
            let v = s.items[s.head]
            s.head += 1
            if s.head > 64 && s.head * 2 > s.items.count {
                s.items.removeFirst(s.head)
                s.head = 0
            }
            return v
        }
        free.signal()
        return value
    }

    /// The consumer is gone: wake the producer and make every later `put` fail.
    func cancel() {
        state.withLock { $0.cancelled = true }
        for _ in 0..<capacity { free.signal() }
    }
}

extension ArchiveError {
    static func wrap(_ error: any Error, _ location: String) -> ArchiveError {
        (error as? ArchiveError) ?? ArchiveError(.io, location, "\(error)")
    }
}
