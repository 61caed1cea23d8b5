import Connectors
import Foundation
import MailModel
import SystemLayer
import Testing
import TestSupport

/// After an import into IMAP, each placement carries the message's id on the server (Dovecot's X-GUID), read back a
/// window of UIDs at a time (`IMAPTarget.idWindow`). In windows of 7, 30 messages in two folders must each get the
/// id the server gives the message at its UID, as a read of the same mailbox shows it.
@Suite(.blocking) struct IMAPPlacementIDsTests {
    static let user = "ids@example.com", password = "placement-ids-pass-41"

    @Test func everyPlacementGetsTheServersIdForItsUID() throws {
        let server = try DovecotIMAPServer(users: [.init(Self.user, Self.password)])
        let journal = try TemporaryDirectory()
        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(Self.user)\t\(Self.password)\n", origin: "test"))
        let imap = IMAPTarget(access: access, journalDirectory: journal.path, maxBadItems: 0)
        imap.idWindow = 7
        let target = try imap.open(user: UserInfo(address: Self.user))
        let folders = try ["INBOX", "Archive"].map { try target.folder(FolderInfo(path: [$0])) }
        for i in 0..<30 {
            let bytes = Array("Subject: message \(i)\r\n\r\nbody \(i)\r\n".utf8)
            let key = ItemKey(archiveID: String(repeating: "ef", count: 16), entryPath: "u/1/m/\(i % 2 + 1)/\(i + 1).eml", sha256: SHA256.hex(bytes), size: Int64(bytes.count))
            let info = MessageInfo(internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(i)))
            #expect(try target.writeMessage(info, inFolder: folders[i % 2], key: key, body: MemoryBody(bytes), check: {}))
        }
        try target.finish(settings: UserSettings())
        let (placements, _) = try target.readPlacements()

        let read = RecordingSink()
        try IMAPSource(access: access, users: [Self.user]).read(user: UserInfo(address: Self.user), into: read)
        var ids: [String: String] = [:]
        for m in read.messages {
            if let uid = m.info.uid, let guid = m.info.guid { ids["\(m.folder.joined(separator: "/")) \(uid)"] = guid }
        }
        #expect(ids.count == 30)
        var checked = 0
        try placements.forEach { p in
            let uid = try #require(p.uid)
            #expect(p.targetGUID != nil && p.targetGUID == ids["\(p.folder) \(uid)"], "\(p.entry) at \(p.folder) \(uid)")
            checked += 1
        }
        #expect(checked == 30)
    }

    /// A journal that places two entries at one UID vouches for neither (the reconcile then reads both); every other
    /// entry keeps its place, and the answer has one element per key, in the keys' order.
    @Test func aUIDTwoEntriesClaimVouchesForNeither() throws {
        let server = try DovecotIMAPServer(users: [.init(Self.user, Self.password)])
        let journal = try TemporaryDirectory()
        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(Self.user)\t\(Self.password)\n", origin: "test"))
        let archive = String(repeating: "ab", count: 16)
        do {
            let log = try IMAPImportJournal(
                directory: journal.path, archiveID: archive, user: Self.user, server: "127.0.0.1:\(server.imapPort)", window: 1)
            for (entry, uid) in [("m/1", 3), ("m/2", 3), ("m/3", 4), ("m/4", 3), ("m/5", 5)] {
                try log.recordDone(entry, at: .init(folder: "INBOX", uidValidity: 9, uid: UInt32(uid)))
            }
            try log.recordFinished()
        }
        let keys = ItemKeyList((1...6).map { ItemKey(archiveID: archive, entryPath: "m/\($0)", sha256: String(repeating: "0", count: 64), size: 10) })
        let found = try IMAPSource(access: access, users: [Self.user]).placedMessages(of: keys, user: Self.user, journalDirectory: journal.path)
        #expect(found.map { $0?.uid } == [nil, nil, 4, nil, 5, nil])
        #expect(found[2]?.path == ["INBOX"] && found[2]?.uidValidity == 9)
    }
}
