import Foundation
import Testing

@testable import BufferSpool

/// Each crash point of a commit, left on disk exactly as `kill -9` would leave it, then the spool reopened.
@Suite struct SpoolRecoveryTests {
    @Test func eachCrashPointIsRecovered() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")

        // Killed while writing: a temporary file, no rename, no row.
        let writing = try spool.openMessage(envelope(["alice"]))
        try writing.append(sampleMessage(1, size: 5000))
        writing.abandonAsIfKilled()

        // Killed after the rename, before the row committed.
        let renamed = try spool.openMessage(envelope(["alice"]))
        try renamed.append(sampleMessage(2, size: 5000))
        let staged = try renamed.stage()
        renamed.abandonAsIfKilled()
        #expect(FileManager.default.fileExists(atPath: staged.path))

        // Killed after the commit (250 sent).
        let committedBytes = sampleMessage(3, size: 5000)
        let committed = try store(spool, envelope(["alice"]), committedBytes)

        // A committed message whose file was lost afterwards (disk trouble, an operator's rm).
        let lost = try store(spool, envelope(["alice"]), sampleMessage(4, size: 100))
        let lostToken = try spool.database.read { db in
            try String.fetchOne(db, sql: "SELECT token FROM message WHERE seq = ?", arguments: [lost.id.rawValue])
        }
        try FileManager.default.removeItem(atPath: temp.messagesDirectory + "/\(lostToken!).eml")

        // A truncated committed file.
        let truncated = try store(spool, envelope(["alice"]), sampleMessage(5, size: 3000))
        let truncatedToken = try spool.database.read { db in
            try String.fetchOne(db, sql: "SELECT token FROM message WHERE seq = ?", arguments: [truncated.id.rawValue])
        }
        #expect(truncate(temp.messagesDirectory + "/\(truncatedToken!).eml", 1000) == 0)

        // Something the spool never writes.
        #expect(FileManager.default.createFile(atPath: temp.messagesDirectory + "/README", contents: Data("x".utf8)))
        try spool.close()

        let reopened = try temp.open()
        let report = reopened.recovery
        #expect(report.discardedIncoming == ["\(writing.token).tmp"])
        #expect(report.discardedUncommitted == ["\(renamed.token).eml"])
        #expect(report.missingFiles == [lost.id])
        #expect(report.wrongSize == [truncated.id])
        #expect(report.unknownFiles == ["messages/README"])
        #expect(temp.files(in: temp.incomingDirectory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: staged.path))

        // The committed message is intact; the damaged ones can never be delivered.
        #expect(try reopened.heldMessages(for: "alice").map(\.id) == [committed.id, lost.id, truncated.id])
        #expect(try readBack(reopened, committed.id) == committedBytes)
        #expect(throws: SpoolError.fileMissing(id: lost.id, path: temp.messagesDirectory + "/\(lostToken!).eml")) {
            try reopened.verifyMessage(lost.id)
        }
        #expect(throws: SpoolError.self) { try reopened.verifyMessage(truncated.id) }
        try reopened.close()

        // A second start finds nothing more to discard (the damaged rows are reported again, not deleted).
        let again = try temp.open()
        #expect(again.recovery.discardedIncoming.isEmpty)
        #expect(again.recovery.discardedUncommitted.isEmpty)
        #expect(again.recovery.missingFiles == [lost.id])
    }

    @Test func cleanShutdownRecoversNothing() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        try spool.hold(user: "alice")
        _ = try store(spool, envelope(["alice"]), sampleMessage(1, size: 10))
        try spool.close()
        #expect(try temp.open().recovery.isClean)
    }
}
