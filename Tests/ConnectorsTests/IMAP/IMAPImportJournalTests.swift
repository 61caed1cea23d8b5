import Foundation
import Testing

@testable import Connectors

struct IMAPImportJournalTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "journal-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aCleanRunLooksNothingUpAndAnInterruptedOneLooksUpTheWindowAndTheUnsyncedLines() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let j = try IMAPImportJournal(directory: dir, archiveID: "A1", user: "alice@example.com", server: "127.0.0.1:143", window: 4, syncInterval: 8)
            #expect(j.itemsToLookUp == 0)
            try j.recordDone("m/1", at: .init(folder: "INBOX", uidValidity: 7, uid: 1))
            try j.recordDone("m/2", at: .init(folder: "INBOX", uidValidity: 7, uid: 2))
            // no recordFinished: as if killed
        }
        let resumed = try IMAPImportJournal(directory: dir, archiveID: "A1", user: "Alice@example.com", server: "127.0.0.1:143", window: 4, syncInterval: 8)
        #expect(resumed.done["m/2"] == .init(folder: "INBOX", uidValidity: 7, uid: 2))
        #expect(resumed.itemsToLookUp == 12)
        var taken = 0
        while resumed.takeLookUp() { taken += 1 }
        #expect(taken == 12)
        try resumed.recordFinished()
        let clean = try IMAPImportJournal(directory: dir, archiveID: "A1", user: "alice@example.com", server: "127.0.0.1:143", window: 4, syncInterval: 8)
        #expect(clean.itemsToLookUp == 0)
        #expect(clean.done.count == 2)
    }

    @Test func aTornLastLineIsIgnoredAndNamesAreSafe() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try IMAPImportJournal(directory: dir, archiveID: "../A", user: "a/b@example.com", server: "[::1]:143", window: 1)
        try j.recordDone("m/1", at: .init(folder: "X", uidValidity: nil, uid: nil))
        #expect(j.path.hasPrefix(dir + "/%2E.%2FA/"))
        #expect(!j.path.dropFirst(dir.count + 1).contains("/../"))
        let handle = try #require(FileHandle(forWritingAtPath: j.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"entry\":\"m/2\",\"loca".utf8))
        try handle.close()
        let again = try IMAPImportJournal(directory: dir, archiveID: "../A", user: "a/b@example.com", server: "[::1]:143", window: 1)
        #expect(Set(again.done.keys) == ["m/1"])
    }

    /// A refused item is not on the server: a resumed run tries it again without spending a lookup on it, and
    /// once it is stored it is no longer counted as refused.
    @Test func refusedItemsAreRememberedAndTriedAgain() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let j = try IMAPImportJournal(directory: dir, archiveID: "A2", user: "bob@example.com", server: "s:143", window: 2, syncInterval: 2)
            try j.recordRefused("m/1", reason: "NO [LIMIT] too large")
            try j.recordRefused("m/2", reason: "NO [LIMIT] too large")
            try j.recordDone("m/3", at: .init(folder: "INBOX", uidValidity: 1, uid: 1))
            try j.sync()
        }
        let resumed = try IMAPImportJournal(directory: dir, archiveID: "A2", user: "bob@example.com", server: "s:143", window: 2, syncInterval: 2)
        #expect(resumed.refused == ["m/1", "m/2"])
        #expect(resumed.done.keys.sorted() == ["m/3"])
        try resumed.recordDone("m/2", at: .init(folder: "INBOX", uidValidity: 1, uid: 2))
        try resumed.recordFinished()
        let again = try IMAPImportJournal(directory: dir, archiveID: "A2", user: "bob@example.com", server: "s:143", window: 2, syncInterval: 2)
        #expect(again.refused == ["m/1"])
        #expect(again.done.keys.sorted() == ["m/2", "m/3"])
    }
}
