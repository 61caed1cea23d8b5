import Connectors
import Foundation
import MailModel
import SystemLayer
import Testing
import TestSupport

/// A delta import finds every earlier message through the import journal of the archive that carried it. The
/// journal must be read once per user and archive, whatever the number of messages the delta changes: it was read
/// (and every line decoded) once per message, which made a delta over a large mailbox quadratic. Counted, not
/// timed: the mailbox grows fourfold and the reads stay at one.
@Suite(.serialized, .blocking) struct IMAPDeltaLookupTests {
    static let password = "delta-lookup-pass-17"
    static let archiveID = String(repeating: "ab", count: 16)

    /// `count` messages imported for `user` (LF line endings, so the server holds their CRLF form and the journal
    /// records its size and hash), then every one reflagged through a fresh target as a delta import does, and
    /// once more, when nothing is left to change. Returns the journal reads of each pass.
    func reflag(_ count: Int, user: String, server: DovecotIMAPServer, journal: String) throws -> (Int, Int) {
        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(user)\t\(Self.password)\n", origin: "test"))
        let inbox = FolderInfo(path: ["INBOX"])
        var keys: [ItemKey] = []
        do {
            let target = try IMAPTarget(access: access, journalDirectory: journal, maxBadItems: 0).open(user: UserInfo(address: user))
            let folder = try target.folder(inbox)
            for i in 0..<count {
                let bytes = Array("From: a@example.com\nSubject: message \(i)\n\nbody \(i)\n".utf8)
                let key = ItemKey(archiveID: Self.archiveID, entryPath: "u/1/m/1/\(i + 1).eml", sha256: SHA256.hex(bytes), size: Int64(bytes.count))
                let info = MessageInfo(internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(i)))
                #expect(try target.writeMessage(info, inFolder: folder, key: key, body: MemoryBody(bytes), check: {}))
                keys.append(key)
            }
            try target.finish(settings: UserSettings())
        }
        var reads: [Int] = []
        for expected in [ItemUpdate.changed, .unchanged] {
            let target = IMAPTarget(access: access, journalDirectory: journal, maxBadItems: 0)
            let user = try target.open(user: UserInfo(address: user))
            let delta = try #require(user as? any DeltaTarget)
            let folder = try user.folder(inbox)
            for (i, key) in keys.enumerated() {
                let info = MessageInfo(flags: .seen, keywords: ["$label\(i % 3)"], internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(i)))
                let update = try delta.updateMessage(key: key, info: info, inFolder: folder)
                #expect(update == expected, "message \(i + 1) of \(count)")
            }
            try user.finish(settings: UserSettings())
            reads.append(target.journalReads)
        }
        return (reads[0], reads[1])
    }

    @Test func aDeltaReadsEachImportJournalOncePerUserWhateverTheNumberOfMessages() throws {
        let users = ["small@example.com", "large@example.com"]
        let server = try DovecotIMAPServer(users: users.map { .init($0, Self.password) })
        let journal = try TemporaryDirectory()
        do {
            let small = try reflag(10, user: users[0], server: server, journal: journal.path)
            let large = try reflag(40, user: users[1], server: server, journal: journal.path)
            #expect(small == (1, 1) && large == (1, 1), "journal reads: 10 messages \(small), 40 messages \(large)")
        } catch {
            Issue.record("\(error)\n\(server.log)")
        }
    }
}
