import Foundation
import Testing

/// A suite whose test bodies block a thread: they run a CLI to its end, wait for a child process, fsync, sleep.
///
/// Swift Testing calls a test body from Swift's cooperative pool, which has one thread per core. Two blocking bodies
/// on a 2-core machine take the whole pool, and then every server under test in the same process (the buffer's
/// tasks, a `Task { await server.shutdown() }`) stands still until they end: a full `swift test` once stalled a
/// buffer test for 520 s that way. Under this trait the suite's bodies run on `TestBodyThreads`, threads of their
/// own, so the cooperative pool is left to the code being tested.
public struct BlockingBodies: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(TestBodyThreads.shared) { try await function() }
    }
}

extension Trait where Self == BlockingBodies {
    /// The suite's bodies block: run them apart from the cooperative pool (`BlockingBodies`).
    public static var blocking: Self { Self() }
}

/// A fixed set of threads that run test bodies, as many as the machine has cores (at least two): as many blocking
/// bodies at once as the cooperative pool allowed before, so the machine's load stays what it was.
public final class TestBodyThreads: TaskExecutor, @unchecked Sendable {
    public static let shared = TestBodyThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount))

    // Guarded by the condition's lock.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(count: Int) {
        for index in 0..<count {
            let thread = Thread { [self] in work(named: "test body \(index)") }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work(named name: String) {
        // Set here, on the thread itself: Foundation's `Thread.name` set before `start()` does not reach Linux.
        Thread.current.name = name
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
