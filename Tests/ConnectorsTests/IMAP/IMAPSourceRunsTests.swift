import Connectors
import Foundation
import MailModel
import Testing
import TestSupport

/// `IMAPSource` reads a folder's metadata a run of UIDs at a time (`metadataRun`), so that a folder of hundreds of
/// thousands of messages is never held whole. Read in runs of 5, a folder of 23 messages must give the same messages,
/// metadata and bytes in the same order as read in one run; and a delta read (CONDSTORE) must ask about every
/// unchanged message exactly once and read exactly the changed ones and the ones the sink does not take.
@Suite(.blocking) struct IMAPSourceRunsTests {
    static let user = "runs@example.com", password = "metadata-runs-pass-23"

    /// A sink for a delta read: it knows the folder at `modSeq` and takes the unchanged messages with even UIDs.
    final class DeltaSink: RecordingSink {
        let modSeq: UInt64
        var asked: [UInt32] = []
        init(modSeq: UInt64) { self.modSeq = modSeq }
        override func knownModSeq(of folder: FolderInfo) -> UInt64? { folder.path == ["INBOX"] ? modSeq : nil }
        override func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool {
            asked.append(uid)
            return uid % 2 == 0
        }
    }

    @Test func aFolderReadInRunsIsTheFolderReadWhole() throws {
        let server = try DovecotIMAPServer(users: [.init(Self.user, Self.password)])
        let target = try MaildirTarget(path: server.maildir(Self.user))
        let inbox = try target.folder(FolderInfo(path: ["INBOX"]))
        for i in 0..<23 {
            let flags: SystemFlags = i % 3 == 0 ? [.seen] : i % 3 == 1 ? [.flagged, .answered] : []
            let info = MessageInfo(
                flags: flags, keywords: i % 4 == 0 ? ["Work"] : [], internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(i)))
            let bytes = Array("Subject: message \(i)\r\n\r\nbody \(i)\r\n".utf8)
            let key = ItemKey(archiveID: "runs", entryPath: "m/\(i)", sha256: "", size: Int64(bytes.count))
            _ = try target.writeMessage(info, inFolder: inbox, key: key, body: MemoryBody(bytes), check: {})
        }
        try target.finish(settings: UserSettings())
        if getuid() == 0 {
            try ProcessRunner.run("/bin/chown", ["-R", "nobody:nogroup", server.root + "/mail/\(Self.user)"])
        }
        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(Self.user)\t\(Self.password)\n", origin: "test"))
        func read(run: Int, into sink: RecordingSink) throws {
            let source = IMAPSource(access: access, users: [Self.user])
            source.metadataRun = run
            try source.read(user: UserInfo(address: Self.user), into: sink)
        }
        let whole = RecordingSink(), inRuns = RecordingSink()
        try read(run: 2_000, into: whole)
        try read(run: 5, into: inRuns)
        #expect(whole.messages.count == 23)
        #expect(inRuns.messages == whole.messages)
        let wholeUIDs = whole.messages.compactMap(\.info.uid)
        #expect(wholeUIDs.count == 23 && wholeUIDs == wholeUIDs.sorted())

        // A delta read: two messages change after the folder's HIGHESTMODSEQ is taken, in different runs.
        let modSeq = try #require(whole.folders.first { $0.path == ["INBOX"] }?.highestModSeq)
        let uids = whole.messages.compactMap(\.info.uid)
        let changed: Set<UInt32> = [uids[2], uids[11]]
        let store = try ProcessRunner.run(tool: "python3", ["-c", """
            import imaplib, ssl, sys
            m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
            m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
            m.login(sys.argv[3], sys.argv[4])
            m.select('INBOX')
            for uid in sys.argv[5:]:
                assert m.uid('STORE', uid, '+FLAGS', '(\\\\Deleted)')[0] == 'OK'
            m.logout()
            """, "\(server.imapPort)", server.caFile, Self.user, Self.password] + changed.map(String.init))
        #expect(store.status == 0, "\(store.stderr)")
        let delta = DeltaSink(modSeq: modSeq)
        let source = IMAPSource(access: access, users: [Self.user])
        source.metadataRun = 5
        try source.read(user: UserInfo(address: Self.user), into: delta)
        #expect(delta.asked == uids.filter { !changed.contains($0) }, "each unchanged message asked about once, in order")
        let read = delta.messages.compactMap(\.info.uid)
        #expect(read == uids.filter { changed.contains($0) || $0 % 2 == 1 })
        for message in delta.messages {
            let before = try #require(whole.messages.first { $0.info.uid == message.info.uid })
            #expect(message.bytes == before.bytes)
            #expect(message.info.flags.contains(.deleted) == changed.contains(message.info.uid!))
        }
    }
}
