import BufferSpool
import CoreMetrics
import Synchronization
import SystemLayer

/// What the buffer counts for its Prometheus endpoint (`[metrics] listen`), recorded through swift-metrics so the
/// buffer does not depend on the exporter. Without an endpoint the factory is swift-metrics' no-op one.
///
/// Counters change as mail arrives; the gauges of the spool (held mail per user, free space) are read from the
/// spool when scraped (`refresh`), so they are right after a restart and after `buffer release` too.
struct BufferMetrics: Sendable {
    static let acceptedMessagesLabel = "mailferry_buffer_accepted_messages_total"
    static let acceptedBytesLabel = "mailferry_buffer_accepted_bytes_total"
    static let refusedLabel = "mailferry_buffer_refused_total"
    static let commitLatencyLabel = "mailferry_buffer_commit_seconds"
    static let heldMessagesLabel = "mailferry_buffer_held_messages"
    static let heldBytesLabel = "mailferry_buffer_held_bytes"
    static let spoolFreeBytesLabel = "mailferry_buffer_spool_free_bytes"
    static let releaseDoneLabel = "mailferry_buffer_release_done_messages"
    static let releaseTotalLabel = "mailferry_buffer_release_total_messages"
    static let releaseDoneBytesLabel = "mailferry_buffer_release_done_bytes"
    static let commitBatchesLabel = "mailferry_buffer_commit_batches_total"
    static let largestBatchLabel = "mailferry_buffer_commit_largest_batch"

    /// Commit latency buckets: a group commit is one fsync of the batch's files and one SQLite commit, so
    /// milliseconds on local disks and up to seconds on a slow or busy one.
    static let commitLatencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    private let factory: any MetricsFactory
    private let acceptedMessages: Counter
    private let acceptedBytes: Counter
    private let refused: [RefusalReason: Counter]
    private let commitLatency: Timer
    private let spoolFreeBytes: Gauge
    private let commitBatches: Counter
    private let largestBatch: Gauge
    /// The group committer's batch count at the last scrape: it only grows, so each scrape adds the difference.
    private let seenBatches = SeenBatches()

    private final class SeenBatches: Sendable {
        let count = Mutex(0)
    }

    init(factory: any MetricsFactory) {
        self.factory = factory
        acceptedMessages = Counter(label: Self.acceptedMessagesLabel, factory: factory)
        acceptedBytes = Counter(label: Self.acceptedBytesLabel, factory: factory)
        // Every reason from the start, at 0: a rate over a series that appears only with its first refusal
        // misses that refusal.
        var refused: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            refused[reason] = Counter(label: Self.refusedLabel, dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.refused = refused
        commitLatency = Timer(label: Self.commitLatencyLabel, factory: factory)
        spoolFreeBytes = Gauge(label: Self.spoolFreeBytesLabel, factory: factory)
        commitBatches = Counter(label: Self.commitBatchesLabel, factory: factory)
        largestBatch = Gauge(label: Self.largestBatchLabel, factory: factory)
    }

    static let disabled = BufferMetrics(factory: NOOPMetricsHandler.instance)

    /// A message durable in the spool; `bytes`: its content as the client sent it (after dot-unstuffing).
    func accepted(bytes: Int) {
        acceptedMessages.increment()
        acceptedBytes.increment(by: bytes)
    }

    func refused(_ reason: RefusalReason, count: Int = 1) {
        refused[reason]?.increment(by: count)
    }

    func committed(after latency: Duration) {
        commitLatency.recordNanoseconds(Self.nanoseconds(latency))
    }

    /// One step of a release: how far it is, per user.
    func releaseProgressed(user: String, _ progress: ReleaseProgress) {
        let dimensions = [("user", user)]
        Gauge(label: Self.releaseDoneLabel, dimensions: dimensions, factory: factory).record(progress.done)
        Gauge(label: Self.releaseTotalLabel, dimensions: dimensions, factory: factory).record(progress.total)
        Gauge(label: Self.releaseDoneBytesLabel, dimensions: dimensions, factory: factory).record(progress.bytes)
    }

    /// Reads the spool's gauges: held messages and bytes per user, the free space of its file system, and the
    /// group committer's batches (messages per batch = accepted messages / batches). A failed read leaves the
    /// previous values (the scrape still answers).
    func refresh(from spool: any SpoolStore) {
        let statistics = spool.commitStatistics
        let added = seenBatches.count.withLock { seen in
            defer { seen = statistics.batches }
            return statistics.batches - seen
        }
        if added > 0 { commitBatches.increment(by: added) }
        largestBatch.record(statistics.largestBatch)
        if let users = try? spool.status() {
            for user in users {
                let dimensions = [("user", user.user)]
                Gauge(label: Self.heldMessagesLabel, dimensions: dimensions, factory: factory).record(user.heldCount)
                Gauge(label: Self.heldBytesLabel, dimensions: dimensions, factory: factory).record(user.heldBytes)
            }
        }
        if let directory = spool.localDirectory, let info = try? SystemCall.fileSystemInfo(of: directory) {
            spoolFreeBytes.record(info.availableBytes)
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
