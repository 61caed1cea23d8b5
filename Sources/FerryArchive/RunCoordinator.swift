import Foundation

/// What the runs of one archive written side by side (`export --jobs N`) share, under one lock: where each run's
/// entries go, how many read-ahead bytes wait to be copied, how far ahead of the archive a job may start, and the
/// error that stopped the export, if one did.
final class RunCoordinator {
    let condition = NSCondition()
    /// Read-ahead bytes (all runs together) at which a run ahead of the archive waits before its next entry.
    let readAheadLimit: Int64
    /// How many runs after the one being written into the archive may be started.
    let window: Int
    /// Bytes in the read-ahead files of runs not yet copied into the archive.
    var readAheadBytes: Int64 = 0
    /// The index (0-based) of the run the archive is taking now.
    var head = 0
    var stopped: (any Error)?

    init(readAheadLimit: Int64, window: Int) {
        self.readAheadLimit = readAheadLimit
        self.window = window
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
