import Dispatch

/// Where spool work runs: file writes, fsync and SQLite commits block their thread, so they must not run on
/// the event loops nor on Swift's cooperative pool (a few threads, one per core: two blocked fsyncs would stall
/// every task in the process). Jobs go to a concurrent dispatch queue, whose threads may block.
final class SpoolExecutor: TaskExecutor {
    static let shared = SpoolExecutor()

    private let queue = DispatchQueue(label: "mailferry.buffer.spool", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
