import Foundation
import Testing

@testable import BufferSpool
import SystemLayer

@Suite struct MessageWriterTests {
    @Test func storedMessagesReadBackWithBytesHashEnvelopeAndOrder() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        try spool.hold(user: "bob")
        var stored: [(HeldMessage, [UInt8])] = []
        for number in 0..<5 {
            let bytes = sampleMessage(number, size: [0, 1, 4096, 70_000, 200_001][number])
            let env = Envelope(
                sender: number == 0 ? "" : "s\(number)@example.org",
                recipients: [
                    Recipient(address: "alice@example.test", user: "alice"),
                    Recipient(address: "Alice.Alias@example.test", user: "alice"),
                    Recipient(address: "bob@example.test", user: "bob"),
                ], messageID: "<\(number)@example.test>")
            stored.append((try store(spool, env, bytes, chunk: 3000), bytes))
        }
        #expect(stored.map(\.0.id) == stored.map(\.0.id).sorted())
        for (message, bytes) in stored {
            #expect(message.size == Int64(bytes.count))
            #expect(message.sha256 == SHA256.hex(bytes))
            #expect(try readBack(spool, message.id) == bytes)
            #expect(try readBack(spool, message.id, chunkSize: 4096) == bytes)
            #expect(try spool.message(message.id) == message)
        }
        try spool.close()

        let reopened = try temp.open()
        #expect(reopened.recovery.isClean)
        let held = try reopened.heldMessages(for: "alice")
        #expect(held.map(\.id) == stored.map(\.0.id))
        #expect(held.map(\.envelope) == stored.map(\.0.envelope))
        #expect(held.map(\.sha256) == stored.map(\.0.sha256))
        let paged = try reopened.heldMessages(for: "bob", after: stored[1].0.id, limit: 2)
        #expect(paged.map(\.id) == [stored[2].0.id, stored[3].0.id])
        for (message, bytes) in stored { #expect(try readBack(reopened, message.id) == bytes) }
        #expect(try reopened.hasPassedThrough(messageID: "<3@example.test>"))
        #expect(try !reopened.hasPassedThrough(messageID: "<99@example.test>"))
    }

    @Test func asyncCommitReturnsTheCommittedMessage() async throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let writer = try spool.openMessage(envelope(["alice"]))
        try writer.append(sampleMessage(1, size: 10_000))
        let message = try await writer.commit()
        #expect(try spool.heldMessages(for: "alice").map(\.id) == [message.id])
        #expect(throws: SpoolError.writerNotOpen) { try writer.append([1, 2, 3]) }
    }

    @Test func abortedMessageLeavesNothing() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        let writer = try spool.openMessage(envelope(["alice"]))
        try writer.append(sampleMessage(1, size: 50_000))
        #expect(temp.files(in: temp.incomingDirectory).count == 1)
        writer.abort()
        #expect(temp.files(in: temp.incomingDirectory).isEmpty)
        #expect(temp.files(in: temp.messagesDirectory).isEmpty)
        #expect(throws: SpoolError.writerNotOpen) { _ = try writer.commitAndWait() }

        do {  // dropped without commit: the same
            let dropped = try spool.openMessage(envelope(["alice"]))
            try dropped.append([1, 2, 3])
        }
        #expect(temp.files(in: temp.incomingDirectory).isEmpty)
        #expect(try spool.heldMessages(for: "alice").isEmpty)
        #expect(try spool.status(user: "alice")?.heldCount == 0)
    }

    @Test func recipientsOutsideTheMigrationSetAreRefused() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        #expect(throws: SpoolError.userNotHeld(user: "mallory")) {
            try spool.openMessage(envelope(["alice", "mallory"]))
        }
        #expect(throws: SpoolError.invalidEnvelope(reason: "no recipients")) { try spool.openMessage(envelope([])) }
        let tooMany = Envelope(
            sender: "", recipients: Array(repeating: Recipient(address: "a@x", user: "alice"), count: 101))
        #expect(throws: SpoolError.self) { try spool.openMessage(tooMany) }

        // Unheld between RCPT and the end of DATA: the commit is refused and the file removed.
        let writer = try spool.openMessage(envelope(["alice"]))
        try writer.append([1, 2, 3])
        try spool.unhold(user: "alice")
        #expect(throws: SpoolError.userNotHeld(user: "alice")) { _ = try writer.commitAndWait() }
        #expect(temp.files(in: temp.messagesDirectory).isEmpty)
        #expect(temp.files(in: temp.incomingDirectory).isEmpty)
    }

    @Test func writingToAFullDeviceIsInsufficientStorage() throws {
        // /dev/full fails every write with ENOSPC: the same write path a full file system takes.
        let file = try FileDescriptor(opening: "/dev/full", O_WRONLY)
        let bytes = [UInt8](repeating: 0x41, count: 100)
        #expect(throws: SpoolError.insufficientStorage(path: "/dev/full")) {
            try bytes.withUnsafeBytes { raw in try SpoolError.io { try file.writeAll(raw) } }
        }
    }

    @Test func spoolIsLockedAgainstASecondOpener() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        #expect(throws: SpoolError.locked(path: temp.directory + "/spool.lock")) { _ = try temp.open() }
        try spool.close()
        #expect(throws: SpoolError.closed) { try spool.openMessage(envelope(["alice"])) }
        _ = try temp.open()
    }
}
