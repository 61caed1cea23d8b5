import Foundation
import Synchronization
import Testing

@testable import BufferSpool
import SystemLayer

@Suite struct GroupCommitterTests {
    @Test func concurrentWritersShareFsyncBatches() async throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        let clients = 16
        let perClient = 20
        for client in 0..<clients { try spool.hold(user: "user\(client)") }

        let results = try await withThrowingTaskGroup(of: [(HeldMessage, String)].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var mine: [(HeldMessage, String)] = []
                    for number in 0..<perClient {
                        let bytes = sampleMessage(client * 1000 + number, size: 2_000 + 37 * number)
                        let writer = try spool.openMessage(envelope(["user\(client)"]))
                        try writer.append(bytes[..<1000])
                        try writer.append(bytes[1000...])
                        let message = try await writer.commit()
                        mine.append((message, SHA256.hex(bytes)))
                    }
                    return mine
                }
            }
            var all: [(HeldMessage, String)] = []
            for try await mine in group { all += mine }
            return all
        }

        #expect(results.count == clients * perClient)
        #expect(Set(results.map(\.0.id)).count == clients * perClient)
        for (message, hash) in results { #expect(message.sha256 == hash) }
        let statistics = spool.commitStatistics
        #expect(statistics.messages == clients * perClient)
        #expect(statistics.batches < statistics.messages, "\(statistics)")
        #expect(statistics.largestBatch > 1)

        // Each client's messages are in its own order of arrival.
        for client in 0..<clients {
            let held = try spool.heldMessages(for: "user\(client)")
            #expect(held.count == perClient)
            #expect(held.map(\.id) == held.map(\.id).sorted())
        }
        #expect(try spool.status().map(\.heldCount).reduce(0, +) == clients * perClient)
    }

    @Test func blockingCommitsFromThreadsAlsoShareBatches() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let threads = 8
        let perThread = 10
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                for number in 0..<perThread {
                    _ = try store(spool, envelope(["alice"]), sampleMessage(thread * 100 + number, size: 3000))
                }
            } catch {
                failures.record(error)
            }
        }
        #expect(failures.count == 0)
        #expect(try spool.heldMessages(for: "alice").count == threads * perThread)
        #expect(spool.commitStatistics.messages == threads * perThread)
    }

    @Test func closingCommitsWhatIsStagedAndRefusesMore() async throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let writer = try spool.openMessage(envelope(["alice"]))
        try writer.append([1, 2, 3])
        try spool.close()
        #expect(throws: SpoolError.closed) { _ = try writer.commitAndWait() }
        #expect(temp.files(in: temp.messagesDirectory).isEmpty)
    }
}

private final class Failures: Sendable {
    private let errors = Mutex<[String]>([])
    func record(_ error: any Error) { errors.withLock { $0.append(String(describing: error)) } }
    var count: Int { errors.withLock { $0.count } }
}
