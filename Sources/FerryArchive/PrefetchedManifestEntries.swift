import Dispatch
import Foundation

/// Where `ArchiveItemStream` takes its manifest entry records from, in manifest order.
protocol EntryRecordSource: AnyObject {
    /// The manifest the records belong to (its counts are checked against them at the end).
    var manifest: VerifiedManifest { get }
    /// The next record, checked as `ManifestEntryIterator.next()` checks it; nil after the last.
    func next() throws -> EntryRecord?
}

extension ManifestEntryIterator: EntryRecordSource {}

/// The manifest's entry records decoded (JSON) and checked on a thread of their own, handed over in order in small
/// batches through a bounded queue: for `verify`, where decoding the entry lines costs more than decompressing the
/// items, so the three parts of the walk (zstd, the manifest, tar and SHA-256) share the cores.
///
/// The records, and the error that stops them, are exactly what a `ManifestEntryIterator` over the same signed
/// manifest gives, in the same order: the other thread reads the verified manifest through an iterator of its own
/// (`pread` at its own offsets; the manifest does not change once loaded).
final class PrefetchedManifestEntries: EntryRecordSource {
    enum Batch: Sendable {
        case records([EntryRecord])
        case end
        case failure(any Error)
    }

    let manifest: VerifiedManifest
    private let queue: HandOffQueue<Batch>
    /// Signalled when the other thread has ended.
    private let finished: DispatchSemaphore
    private var batch: [EntryRecord] = []
    private var index = 0
    /// The end or the error, once taken: every later call gives it again.
    private var outcome: Result<Void, any Error>?

    /// Records per hand-over, and hand-overs waiting at most: 512 records in flight (a few hundred KB).
    static let batchSize = 64
    static let queueCapacity = 8

    /// `manifest` gives the counts checked at the end; `open` makes the iterator the other thread reads, there.
    init(manifest: VerifiedManifest, open: @escaping @Sendable () throws -> ManifestEntryIterator) {
        self.manifest = manifest
        let queue = HandOffQueue<Batch>(capacity: Self.queueCapacity)
        self.queue = queue
        let finished = DispatchSemaphore(value: 0)
        self.finished = finished
        let thread = Thread {
            Self.produce(open, into: queue)
            finished.signal()
        }
        thread.start()
    }

    /// Wakes the other thread and waits for it to end (after the batch it is decoding, at most), so that it never
    /// runs on while the process exits (OpenSSL's exit handler frees what the manifest's hash there may be using).
    deinit {
        queue.cancel()
        finished.wait()
    }

    private static func produce(_ open: () throws -> ManifestEntryIterator, into queue: HandOffQueue<Batch>) {
        var records: [EntryRecord] = []
        do {
            let entries = try open()
            records.reserveCapacity(Self.batchSize)
            while let record = try entries.next() {
                records.append(record)
                if records.count == Self.batchSize {
                    guard queue.put(.records(records)) else { return }
                    records.removeAll(keepingCapacity: true)
                }
            }
            if !records.isEmpty { guard queue.put(.records(records)) else { return } }
            _ = queue.put(.end)
        } catch {
            // The records before the error first, as an iterator read on one thread would give them.
            if !records.isEmpty { guard queue.put(.records(records)) else { return } }
            _ = queue.put(.failure(error))
        }
    }

    func next() throws -> EntryRecord? {
        while index == batch.count {
            if let outcome {
                try outcome.get()
                return nil
            }
            switch queue.take() {
            case .records(let records):
                batch = records
                index = 0
            case .end:
                outcome = .success(())
            case .failure(let error):
                outcome = .failure(error)
            }
        }
        defer { index += 1 }
        return batch[index]
    }
}
