import Dispatch
import Foundation
import MailModel
import Synchronization

/// Reads, decompresses and checks an archive's items on a thread of its own, handing each item's
/// bytes over through a bounded queue, so that an importer writing files on the calling thread uses
/// the second core for zstd, tar and SHA-256. Every check of `ArchiveItemStream` still applies (it
/// is what runs on the other thread); an item's `check()` waits for that thread's verdict on it.
///
/// The other thread opens the archive again through `VerifiedArchive`, so both threads read the same signed
/// archive.
public final class PrefetchingItemStream {
    private let queue: HandOffQueue
    private var current: PrefetchedItemBody?
    private var finished = false

    /// At most this many chunks (of at most 256 KiB) wait in the queue: bounded memory.
    static let queueCapacity = 32

    init(archive: VerifiedArchive) {
        let queue = HandOffQueue(capacity: Self.queueCapacity)
        self.queue = queue
        let thread = Thread { Self.produce(archive, into: queue) }
        thread.start()
    }

    deinit { queue.cancel() }

    private static func produce(_ archive: VerifiedArchive, into queue: HandOffQueue) {
        let archivePath = archive.path
        do {
            let reader = try archive.openReader()
            let items = try reader.items(reader.loadManifest())
            while let (record, body) = try items.next() {
                guard queue.put(.item(record)) else { return }
                var cancelled = false
                try body.stream { chunk in
                    if !cancelled { cancelled = !queue.put(.chunk(Array(chunk))) }
                }
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
        case .item(let record):
            let body = PrefetchedItemBody(record: record, queue: queue)
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
    private let queue: HandOffQueue
    private var verdict: Result<Void, ArchiveError>?

    init(record: EntryRecord, queue: HandOffQueue) {
        self.record = record
        self.queue = queue
    }

    public var byteCount: Int64 { record.size }
    public var origin: String { record.path }

    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard verdict == nil else { throw ArchiveError(.io, origin, "an archive entry can be read only once") }
        while true {
            switch queue.take() {
            case .chunk(let bytes):
                try bytes.withUnsafeBytes { try consume($0) }
            case .itemChecked(let error):
                verdict = error.map { .failure($0) } ?? .success(())
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

    /// Throws unless the reading thread found the whole item and its SHA-256 as the manifest says.
    public func check() throws {
        guard let verdict else { throw ArchiveError(.verification, origin, "was not read completely") }
        try verdict.get()
    }
}

/// What the reading thread hands over, in order.
enum HandOff: Sendable {
    case item(EntryRecord)
    case chunk([UInt8])
    case itemChecked(ArchiveError?)
    case end
    case failure(ArchiveError)
}

/// A bounded single-producer, single-consumer queue. `put` blocks while it is full and returns false
/// once the consumer has gone away, so the producer stops instead of waiting forever.
final class HandOffQueue: Sendable {
    private let capacity: Int
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)
    private let state = Mutex<(items: [HandOff], head: Int, cancelled: Bool)>(([], 0, false))

    init(capacity: Int) {
        self.capacity = capacity
        // Made at 0 and raised, not made at `capacity`: libdispatch traps when a semaphore is freed below the value
        // it was made with, which is where `free` is when the consumer stops early (an import that fails part way).
        self.free = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { free.signal() }
    }

    func put(_ value: HandOff) -> Bool {
        free.wait()
        let accepted = state.withLock { s -> Bool in
            guard !s.cancelled else { return false }
            s.items.append(value)
            return true
        }
        if accepted { filled.signal() }
        return accepted
    }

    func take() -> HandOff {
        filled.wait()
        let value = state.withLock { s -> HandOff in
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
