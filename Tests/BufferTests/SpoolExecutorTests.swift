@testable import Buffer
import Foundation
import Testing
import TestSupport

/// The spool executor's thread bound: blocking jobs beyond the limit queue, and a job that suspends (a commit
/// waiting for its group batch) gives its thread back.
@Suite(.blocking) struct SpoolExecutorTests {
    @Test func atMostTheLimitRunAtOnceAndTheRestQueue() async {
        let executor = SpoolExecutor(threadLimit: 2, name: "test.spool")
        let finished = await withTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask(executorPreference: executor) {
                    usleep(20_000)  // blocks its thread, as a write or an fsync does
                    return index
                }
            }
            var finished: [Int] = []
            for await index in group { finished.append(index) }
            return finished
        }
        #expect(finished.sorted() == Array(0..<12))
        #expect(executor.threadCount == 2)
        #expect(executor.mostConcurrentJobs == 2)
    }

    @Test func aSuspendedJobDoesNotHoldItsThread() async {
        let executor = SpoolExecutor(threadLimit: 1, name: "test.spool")
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let waiter = Task(executorPreference: executor) { () -> Int in
            for await value in stream { return value }
            return -1
        }
        // With one thread, this job runs only because the waiter suspended instead of blocking.
        Task(executorPreference: executor) { continuation.yield(7) }
        #expect(await waiter.value == 7)
        #expect(executor.threadCount == 1)
    }
}
