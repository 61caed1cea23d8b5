import Foundation
import Testing

@testable import BufferSpool
import SystemLayer

@Suite struct BufferSpoolReleaseTests {
    private func tokenPath(_ spool: BufferSpool, _ id: MessageID) throws -> String {
        let token = try spool.database.read { db in
            try String.fetchOne(db, sql: "SELECT token FROM message WHERE seq = ?", arguments: [id.rawValue])
        }
        return spool.layout.messageFile(try #require(token))
    }

    @Test func flippedByteIsAHashMismatchAndTheLastChunkIsWithheld() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let bytes = sampleMessage(1, size: 10_000)
        let message = try store(spool, envelope(["alice"]), bytes)
        let path = try tokenPath(spool, message.id)
        var onDisk = try #require(FileManager.default.contents(atPath: path))
        onDisk[5000] ^= 0x01
        try onDisk.write(to: URL(fileURLWithPath: path))

        var handedOver = 0
        let error = #expect(throws: SpoolError.self) {
            try spool.readMessage(message.id, chunkSize: 1000) { handedOver += $0.count }
        }
        guard case .hashMismatch(let id, let errorPath, let expected, let actual, _, _)? = error else {
            Issue.record("expected hashMismatch, got \(String(describing: error))")
            return
        }
        #expect(id == message.id)
        #expect(errorPath == path)
        #expect(expected == SHA256.hex(bytes))
        #expect(actual != expected)
        #expect(handedOver < bytes.count, "a corrupt message is never handed over complete")
        #expect(throws: SpoolError.self) { try spool.verifyMessage(message.id) }
    }

    @Test func deliveryJournalIsExactlyOncePerMessageUserAndTarget() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let first = try store(spool, envelope(["alice"]), sampleMessage(1, size: 500))
        let second = try store(spool, envelope(["alice"]), sampleMessage(2, size: 700))
        let target = "lmtp://new:24"
        #expect(throws: SpoolError.notReleasing(user: "alice", state: .holding)) {
            try spool.markDelivering(first.id, user: "alice", target: target)
        }
        try spool.beginRelease(user: "alice", to: ReleaseTarget(direction: .target, address: target))

        try spool.markDelivering(first.id, user: "alice", target: target)
        try spool.markDelivered(first.id, user: "alice", target: target)
        #expect(throws: SpoolError.alreadyDelivered(id: first.id, user: "alice", target: target)) {
            try spool.markDelivering(first.id, user: "alice", target: target)
        }
        #expect(throws: SpoolError.notDelivering(id: second.id, user: "alice", target: target)) {
            try spool.markDelivered(second.id, user: "alice", target: target)
        }
        #expect(throws: SpoolError.unknownMessage(id: second.id)) {
            try spool.markDelivering(second.id, user: "bob", target: target)
        }
        // The releaser crashes in the middle of the second delivery.
        try spool.markDelivering(second.id, user: "alice", target: target)
        #expect(throws: SpoolError.undeliveredMessagesRemain(user: "alice", count: 1)) {
            try spool.finishRelease(user: "alice")
        }
        try spool.close()

        let reopened = try temp.open()
        #expect(try reopened.heldMessages(for: "alice").map(\.id) == [second.id])
        let unknown = try reopened.unknownOutcomes(for: "alice")
        #expect(unknown.map(\.id) == [second.id])
        #expect(unknown.first?.state == .delivering)
        // Looked up at the target, not found: try again.
        try reopened.markDelivering(second.id, user: "alice", target: target)
        #expect(try reopened.deliveries(of: second.id).first?.attempts == 2)
        try reopened.markDelivered(second.id, user: "alice", target: target)
        #expect(try reopened.unknownOutcomes(for: "alice").isEmpty)
        #expect(try reopened.status(user: "alice")?.heldCount == 0)
        #expect(try reopened.finishRelease(user: "alice") == .released)
    }

    @Test func releaseToSourceEndsReverted() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let message = try store(spool, envelope(["alice"]), sampleMessage(1, size: 10))
        try spool.beginRelease(user: "alice", to: ReleaseTarget(direction: .source, address: "imap://old"))
        // Mail still arrives while releasing, and holds up the end of the release.
        let late = try store(spool, envelope(["alice"]), sampleMessage(2, size: 10))
        for id in [message.id, late.id] {
            try spool.markDelivering(id, user: "alice", target: "imap://old")
            try spool.markDelivered(id, user: "alice", target: "imap://old")
        }
        #expect(try spool.finishRelease(user: "alice") == .reverted)
    }
}
