/// Counters of the group committer since the spool was opened.
public struct CommitStatistics: Hashable, Sendable {
    /// Batches flushed: each is one directory fsync plus one SQLite transaction (one WAL fsync).
    public var batches: Int = 0
    /// Messages committed by those batches.
    public var messages: Int = 0
    /// The largest batch seen.
    public var largestBatch: Int = 0

    public init() {}
}
