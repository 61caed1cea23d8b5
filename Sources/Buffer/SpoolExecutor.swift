import Foundation
import Synchronization

/// Where spool work runs: file writes, fsync and SQLite commits block their thread, so they must not run on
/// the event loops nor on Swift's cooperative pool (a few threads, one per core: two blocked fsyncs would stall
/// every task in the process).
///
/// A pool of at most `threadLimit` threads, started as work arrives and kept afterwards; jobs beyond the limit
/// wait in a queue, first in, first out. Group commit is not affected: a session's `commit()` waits for the
/// group committer's batch by suspending (a continuation), not by holding a pool thread, so a batch can gather
/// as many messages as there are sessions; the pool only bounds how many file writes and file fsyncs block at
/// once. A dispatch queue would instead start a new thread for every job that blocks, without limit.
final class SpoolExecutor: TaskExecutor, Sendable {
    static let shared = SpoolExecutor(threadLimit: BufferDefaults.spoolThreads)

    private struct State {
        var jobs: [UnownedJob] = []
        var head = 0
        var threads = 0
        /// Threads waiting for work that no `signal` has been sent to yet.
        var idle = 0
        var busy = 0
        var mostBusy = 0

        mutating func pop() -> UnownedJob? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head >= 64 && head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    let threadLimit: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let name: String

    init(threadLimit: Int, name: String = "mailferry.buffer.spool") {
        precondition(threadLimit > 0)
        self.threadLimit = threadLimit
        self.name = name
    }

    /// Threads started so far (never more than `threadLimit`).
    var threadCount: Int { state.withLock { $0.threads } }
    /// The most jobs that ever ran at the same time.
    var mostConcurrentJobs: Int { state.withLock { $0.mostBusy } }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        enum Then { case nothing, signal, spawn }
        let then: Then = state.withLock { state in
            state.jobs.append(job)
            if state.idle > 0 {
                state.idle -= 1
                return .signal
            }
            if state.threads < threadLimit {
                state.threads += 1
                return .spawn
            }
            return .nothing
        }
        switch then {
        case .nothing: break
        case .signal: wake.signal()
        case .spawn:
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.start()
        }
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            let job: UnownedJob? = state.withLock { state in
                guard let job = state.pop() else {
                    state.idle += 1
                    return nil
                }
                state.busy += 1
                state.mostBusy = max(state.mostBusy, state.busy)
                return job
            }
            guard let job else {
                wake.wait()
                continue
            }
            job.runSynchronously(on: executor)
            state.withLock { $0.busy -= 1 }
        }
    }
}
