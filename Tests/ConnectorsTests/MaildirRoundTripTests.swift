import Connectors
import Foundation
import MailModel
import TestSupport
import Testing

@Suite(.blocking) struct MaildirRoundTripTests {
    let user = UserInfo(address: "alice@example.org")

    /// A Dovecot-like tree: keywords, P, a name without info, new/ mail, nested and Unicode and escaped folders.
    func makeSource(_ tree: TemporaryDirectory) throws -> String {
        let root = "src"
        for folder in ["", "/.Sent", "/.Archive.2024", "/.R&AOk-sum&AOk-.&ZeVnLIqe-", "/.a\\2eb.x\\2fy", "/.Bad&Zm9v"] {
            for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("\(root)\(folder)/\(sub)") }
        }
        try tree.write("\(root)/dovecot-keywords", "0 Work\n1 $Junk\n")
        try tree.write("\(root)/subscriptions", "V\t2\n\nSent\nR\u{e9}sum\u{e9}\t\u{65E5}\u{672C}\u{8A9E}\n")
        try tree.write(
            "\(root)/cur/1700000000.M1P1.host,S=40:2,RSa", "Subject: one\r\nFrom: a@b\r\n\r\nbody one\r\n",
            mtime: InternalDate(epochSeconds: 1_700_000_000, nanoseconds: 123_456_789))
        try tree.write(
            "\(root)/cur/1700000002.M3P1.host:2,Sbz", "Subject: unknown letter\r\n\r\nx\r\n",
            mtime: InternalDate(epochSeconds: 1_700_000_002, nanoseconds: 5))
        try tree.write(
            "\(root)/cur/1600000000.noinfo.host", "Subject: no info\r\n\r\ny\r\n",
            mtime: InternalDate(epochSeconds: 1_600_000_000, nanoseconds: 999_999_999))
        try tree.write(
            "\(root)/new/1700000001.M2P1.host", "Subject: new\r\n\r\nunseen\r\n",
            mtime: InternalDate(epochSeconds: 1_700_000_001, nanoseconds: 1))
        try tree.write("\(root)/tmp/1700000003.M4P1.host", "half written")
        try tree.write(
            "\(root)/.Archive.2024/cur/1500000000.M9.host:2,FP", "Subject: archived\r\n\r\nold\r\n",
            mtime: InternalDate(epochSeconds: 1_500_000_000, nanoseconds: 42))
        try tree.write(
            "\(root)/.R&AOk-sum&AOk-.&ZeVnLIqe-/cur/1.M1.host:2,T", "Subject: unicode\r\n\r\n\u{65E5}\r\n",
            mtime: InternalDate(epochSeconds: 1, nanoseconds: 0))
        try tree.write(
            "\(root)/.a\\2eb.x\\2fy/cur/2.M1.host:2,D", "Subject: dots\r\n\r\n.\r\n",
            mtime: InternalDate(epochSeconds: 2, nanoseconds: 2))
        try tree.write("\(root)/.Sent/cur/3.M1.host:2,S", "Subject: sent\r\n\r\ns\r\n")
        return tree.file(root)
    }

    func read(_ path: String) throws -> RecordingSink {
        let sink = RecordingSink()
        try MaildirSource(path: path, user: user).read(user: user, into: sink)
        return sink
    }

    @Test func sourceReadsFoldersFlagsKeywordsAndDates() throws {
        let tree = try TemporaryDirectory()
        let sink = try read(try makeSource(tree))
        #expect(sink.folderSummary == [
            "[\"INBOX\"] sub=false use=\\Inbox",
            "[\"Sent\"] sub=true use=\\Sent",
            "[\"Archive\", \"2024\"] sub=false use=-",
            "[\"Résumé\", \"日本語\"] sub=true use=-",
            "[\"a.b\", \"x/y\"] sub=false use=-",
            "[\"Bad&Zm9v\"] sub=false use=-",
        ])
        let inbox = sink.messages.filter { $0.folder == ["INBOX"] }
        // Time prefix order, tmp/ ignored.
        #expect(inbox.map(\.info.subject) == ["no info", "one", "new", "unknown letter"])
        #expect(inbox[1].info.flags == [.answered, .seen])
        #expect(inbox[1].info.keywords == ["Work"])
        #expect(inbox[1].info.internalDate == InternalDate(epochSeconds: 1_700_000_000, nanoseconds: 123_456_789))
        #expect(inbox[2].info.flags == [])
        #expect(inbox[3].info.keywords == ["$Junk"])
        let archived = try #require(sink.messages.first { $0.folder == ["Archive", "2024"] })
        #expect(archived.info.flags == [.flagged])
        // P is no IMAP flag (Dovecot shows none): carried as itself, not as a keyword, and said once per folder.
        #expect(archived.info.keywords == [])
        #expect(archived.info.maildirPassed)
        let warnings = sink.warnings.map(\.description)
        #expect(warnings.contains { $0.contains(".Archive.2024") && $0.contains("1 message(s) carry the Maildir P") })
        #expect(warnings.contains { $0.contains("1600000000.noinfo.host") && $0.contains(":2,") })
        #expect(warnings.contains { $0.contains("letter \"z\"") })
        #expect(warnings.contains { $0.contains(".Bad&Zm9v") && $0.contains("modified UTF-7") })
    }

    @Test func roundTripThroughTargetWithOtherKeywordLetters() throws {
        let tree = try TemporaryDirectory()
        let original = try read(try makeSource(tree))
        // The target already uses letter a, so Work and $Junk get other letters there.
        try tree.write("dst/dovecot-keywords", "0 Other\n")
        let target = try MaildirTarget(path: tree.file("dst"))
        let feeder = TargetFeeder(target: target)
        try MaildirSource(path: tree.file("src"), user: user).read(user: user, into: feeder)
        #expect(feeder.results.count == original.messages.count)
        #expect(feeder.results.allSatisfy { $0 })
        let copy = try read(tree.file("dst"))
        #expect(copy.messageSummary == original.messageSummary)
        // The undecodable name was kept raw at the source and is now stored properly encoded.
        #expect(copy.folderSummary == original.folderSummary)
        let keywords = try String(contentsOfFile: tree.file("dst/dovecot-keywords"), encoding: .utf8)
        #expect(keywords == "0 Other\n1 Work\n2 $Junk\n")
        // The unknown letter z was dropped at the source, so only warnings about the source remain; the P letter
        // was carried and is said again for the copy.
        #expect(copy.warnings.map(\.message) == [
            "1 message(s) carry the Maildir P (passed) letter, which Dovecot shows as no IMAP flag; carried as that "
                + "letter, which only a Maildir target can hold",
        ], "\(copy.warnings)")
        // Folder names with dots and slashes are stored with listescape escapes.
        #expect(try tree.files(in: "dst").contains(".a\\2eb.x\\2fy"))
        #expect(try tree.files(in: "dst").contains(".R&AOk-sum&AOk-.&ZeVnLIqe-"))
    }

    @Test func secondRunWritesNothing() throws {
        let tree = try TemporaryDirectory()
        let source = MaildirSource(path: try makeSource(tree), user: user)
        let first = TargetFeeder(target: try MaildirTarget(path: tree.file("dst")))
        try source.read(user: user, into: first)
        let before = try tree.files(in: "dst/cur")
        let second = TargetFeeder(target: try MaildirTarget(path: tree.file("dst")))
        try source.read(user: user, into: second)
        #expect(second.results.count == first.results.count)
        #expect(second.results.allSatisfy { !$0 })
        #expect(try tree.files(in: "dst/cur") == before)
    }

    @Test func truncatedCommittedMessageIsWrittenAgain() throws {
        let tree = try TemporaryDirectory()
        let source = MaildirSource(path: try makeSource(tree), user: user)
        try source.read(user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        let name = try #require(try tree.files(in: "dst/cur").first)
        try tree.write("dst/cur/\(name)", "")  // as a power loss before the data reached the disk might leave it
        let again = TargetFeeder(target: try MaildirTarget(path: tree.file("dst")))
        try source.read(user: user, into: again)
        #expect(again.results.filter { $0 }.count == 1)
        #expect(try read(tree.file("dst")).messageSummary == (try read(tree.file("src"))).messageSummary)
    }

    @Test func failedCheckLeavesNothing() throws {
        let tree = try TemporaryDirectory()
        let target = try MaildirTarget(path: tree.file("dst"))
        let inbox = try target.folder(FolderInfo(path: ["INBOX"]))
        struct Mismatch: Error {}
        let key = ItemKey(archiveID: "a", entryPath: "m/1", sha256: "", size: 5)
        #expect(throws: Mismatch.self) {
            try target.writeMessage(
                MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: inbox, key: key,
                body: MemoryBody(Array("hello".utf8)), check: { throw Mismatch() })
        }
        #expect(try tree.files(in: "dst/cur").isEmpty)
        #expect(try tree.files(in: "dst/new").isEmpty)
        #expect(try tree.files(in: "dst/tmp").isEmpty)
        // The same key then succeeds: nothing was taken as committed.
        #expect(try target.writeMessage(
            MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: inbox, key: key,
            body: MemoryBody(Array("hello".utf8)), check: {}))
        // A body that gives fewer bytes than the key says is refused too.
        let short = ItemKey(archiveID: "a", entryPath: "m/2", sha256: "", size: 9)
        #expect(throws: ConnectorError.self) {
            try target.writeMessage(
                MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: inbox, key: short,
                body: MemoryBody(Array("hello".utf8)), check: {})
        }
        // The message that passed is moved into cur/ with its batch, when the import finishes.
        try target.finish(settings: UserSettings())
        #expect(try tree.files(in: "dst/cur").count == 1)
        #expect(try tree.files(in: "dst/tmp").isEmpty)
    }

    @Test func leftoverTemporaryFilesAreNotMessages() throws {
        let tree = try TemporaryDirectory()
        let target = try MaildirTarget(path: tree.file("dst"))
        try tree.write("dst/tmp/0123.99.1.mailferry-tmp", "killed mid-write")
        try tree.write("dst/tmp/1700000000.M1.other-writer", "someone else's delivery")
        let inbox = try target.folder(FolderInfo(path: ["INBOX"]))
        #expect(try target.writeMessage(
            MessageInfo(internalDate: InternalDate(epochSeconds: 7, nanoseconds: 7)), inFolder: inbox,
            key: ItemKey(archiveID: "a", entryPath: "m/1", sha256: "", size: 2), body: MemoryBody([1, 2]), check: {}))
        try target.finish(settings: UserSettings())
        #expect(try tree.files(in: "dst/tmp") == ["1700000000.M1.other-writer"])
        let copy = try read(tree.file("dst"))
        #expect(copy.messages.count == 1)
        #expect(copy.messages[0].info.internalDate == InternalDate(epochSeconds: 7, nanoseconds: 7))
    }

    @Test func folderNamesSurviveExactly() throws {
        let tree = try TemporaryDirectory()
        let target = try MaildirTarget(path: tree.file("dst"))
        let names: [[String]] = [
            ["Résumé", "日本語"], ["a.b", "c/d"], ["back\\slash", "\\2e"], ["~home"], ["Tom & Jerry"], ["x", "y", "z"],
        ]
        for name in names { _ = try target.folder(FolderInfo(path: name, subscribed: true)) }
        try target.finish(settings: UserSettings())
        let copy = try read(tree.file("dst"))
        #expect(Set(copy.folders.map(\.path)) == Set(names + [["INBOX"]]))
        #expect(copy.folders.allSatisfy(\.subscribed) == false)  // INBOX was never subscribed at the target
        #expect(Set(copy.folders.filter(\.subscribed).map(\.path)) == Set(names))
        #expect(copy.warnings.isEmpty, "\(copy.warnings)")
    }
}

/// Thousands of subscribed folders: the subscriptions file is written once, when the user is finished (it was
/// rewritten for every folder), and Dovecot reads every subscription from it.
@Suite(.blocking) struct MaildirSubscriptionsTests {
    @Test func manySubscribedFoldersAreWrittenOnceAndDovecotListsThem() throws {
        let user = "u@example.com", password = "subscriptions-pass-31"
        let server = try DovecotIMAPServer(users: [.init(user, password)])
        let maildir = server.maildir(user)
        let target = try MaildirTarget(path: maildir)
        let names = (0..<500).map { ["Projects", "p\($0)"] } + [["Sent"]]
        for name in names { _ = try target.folder(FolderInfo(path: name, subscribed: true)) }
        let file = maildir + "/subscriptions"
        #expect(!FileManager.default.fileExists(atPath: file), "written before the user was finished")
        try target.finish(settings: UserSettings())
        #expect(FileManager.default.fileExists(atPath: file))
        // Written here as this user; Dovecot's mail processes run as nobody when the tests run as root.
        if getuid() == 0 {
            try ProcessRunner.run("/bin/chown", ["-R", "nobody:nogroup", server.root + "/mail/\(user)"])
        }

        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(user)\t\(password)\n", origin: "test"))
        let sink = RecordingSink()
        do {
            try IMAPSource(access: access, users: [user]).read(user: UserInfo(address: user), into: sink)
        } catch {
            Issue.record("\(error)\n\(server.log)")
        }
        let listed = Set(sink.folders.filter(\.subscribed).map(\.path))
        // Besides the folders written, the test Dovecot subscribes its own special folders (Drafts) by itself.
        #expect(Set(names).isSubset(of: listed), "missing \(Set(names).subtracting(listed))")
    }
}

/// `dovecot-uidlist` read by the source and written by the target (the Dovecot-served checks are in
/// `MailFerryCLITests.MaildirIdentityTests`).
@Suite(.blocking) struct MaildirUIDListTests {
    let user = UserInfo(address: "alice@example.org")

    func read(_ path: String) throws -> RecordingSink {
        let sink = RecordingSink()
        try MaildirSource(path: path, user: user).read(user: user, into: sink)
        return sink
    }

    /// A folder as Dovecot leaves it: listed messages with and without a `G` field, one unlisted message in new/.
    func makeSource(_ tree: TemporaryDirectory) throws -> String {
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("src/\(sub)") }
        try tree.write("src/dovecot-uidlist", """
            3 V1234 N40 G00112233445566778899aabbccddeeff
            7 W99 G0123456789abcdef0123456789abcdef :1700000005.M1.host,S=20
            12 :1700000001.M2.host,S=20

            """)
        try tree.write("src/cur/1700000005.M1.host,S=20:2,S", "Subject: a\r\n\r\nfirst\r\n")
        try tree.write("src/cur/1700000001.M2.host,S=20:2,F", "Subject: b\r\n\r\nsecond\r\n")
        try tree.write("src/new/1700000000.M3.host", "Subject: c\r\n\r\nunlisted\r\n")
        return tree.file("src")
    }

    @Test func sourceReadsUIDsAndGUIDsInUIDOrder() throws {
        let tree = try TemporaryDirectory()
        let sink = try read(try makeSource(tree))
        let folder = try #require(sink.folders.first)
        #expect(folder.uidValidity == 1234)
        #expect(folder.guid == "00112233445566778899aabbccddeeff")
        // Listed messages by UID, though their delivery times run the other way; then the unlisted one.
        #expect(sink.messages.map(\.info.uid) == [7, 12, nil])
        #expect(sink.messages.map(\.info.guid) == [
            "0123456789abcdef0123456789abcdef", "1700000001.M2.host,S=20", nil,
        ])
    }

    @Test func targetKeepsIdentityInANewFolderAndNeverReusesAUID() throws {
        let tree = try TemporaryDirectory()
        let source = MaildirSource(path: try makeSource(tree), user: user)
        let target = try MaildirTarget(path: tree.file("dst"))
        try source.read(user: user, into: TargetFeeder(target: target))
        let copy = try read(tree.file("dst"))
        #expect(copy.folders.first?.uidValidity == 1234)
        #expect(copy.folders.first?.guid == "00112233445566778899aabbccddeeff")
        // Kept UIDs and GUIDs; the unlisted message gets the source's next UID (N40), not 13, which the source
        // may have given to a message it expunged since.
        #expect(copy.folders.first?.uidNext == 41)
        #expect(copy.messages.map(\.info.uid) == [7, 12, 40])
        #expect(copy.messages.prefix(2).map(\.info.guid) == ["0123456789abcdef0123456789abcdef", "1700000001.M2.host,S=20"])
        #expect(try target.placements.all().map(\.uid) == [7, 12, 40])
        #expect(try target.placements.all().allSatisfy { $0.uidValidity == 1234 && $0.folder == "INBOX" })
        #expect(try target.placements.all().map(\.entry) == ["message/1", "message/2", "message/3"])

        // Another source folder with the same UIDs into the same target folder: new UIDs, never 7 or 12 again.
        try tree.write("src2/dovecot-uidlist", "3 V1234 N8 G00112233445566778899aabbccddeeff\n7 :1.M9.host\n")
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("src2/\(sub)") }
        try tree.write("src2/cur/1.M9.host:2,", "Subject: d\r\n\r\nother\r\n")
        let second = try MaildirTarget(path: tree.file("dst"))
        try MaildirSource(path: tree.file("src2"), user: user).read(user: user, into: TargetFeeder(target: second, archiveID: "archive-2"))
        #expect(try second.placements.all().map(\.uid) == [41])
        #expect(try read(tree.file("dst")).messages.map(\.info.uid) == [7, 12, 40, 41])
    }

    @Test func aFolderHoldingOtherMailGetsItsOwnUIDValidity() throws {
        let tree = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("dst/\(sub)") }
        try tree.write("dst/cur/1600000000.M0.other:2,S", "Subject: there before\r\n\r\nx\r\n")
        let target = try MaildirTarget(path: tree.file("dst"))
        try MaildirSource(path: try makeSource(tree), user: user).read(user: user, into: TargetFeeder(target: target))
        let placed = try #require(try target.placements.all().first)
        #expect(placed.uidValidity != 1234)
        #expect(try target.placements.all().map(\.uid) == [1, 2, 3])
    }

    @Test func aResumedRunListsWhatACrashLeftUnlistedOnce() throws {
        let tree = try TemporaryDirectory()
        let source = MaildirSource(path: try makeSource(tree), user: user)
        try source.read(user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        let listed = try String(contentsOfFile: tree.file("dst/dovecot-uidlist"), encoding: .utf8)
        // As if the run had been killed after its renames and before the list was written.
        try FileManager.default.removeItem(atPath: tree.file("dst/dovecot-uidlist"))
        let again = try MaildirTarget(path: tree.file("dst"))
        let feeder = TargetFeeder(target: again)
        try source.read(user: user, into: feeder)
        #expect(feeder.results.allSatisfy { !$0 })
        #expect(try String(contentsOfFile: tree.file("dst/dovecot-uidlist"), encoding: .utf8) == listed)
        // And a run over a complete list adds no line.
        try source.read(user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        #expect(try String(contentsOfFile: tree.file("dst/dovecot-uidlist"), encoding: .utf8) == listed)
    }

    @Test func linesAreAppendedOnALineOfTheirOwnAfterALineACrashCutShort() throws {
        let tree = try TemporaryDirectory()
        let source = MaildirSource(path: try makeSource(tree), user: user)
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("dst/\(sub)") }
        try tree.write("dst/cur/1.torn.name:2,S", "Subject: there\r\n\r\nx\r\n")
        try tree.write("dst/dovecot-uidlist", "3 V1234 N2 G00112233445566778899aabbccddeeff\n1 :1.torn.name")
        try source.read(user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        let list = try String(contentsOfFile: tree.file("dst/dovecot-uidlist"), encoding: .utf8)
        #expect(list.hasPrefix("3 V1234 N41 G00112233445566778899aabbccddeeff\n1 :1.torn.name\n7 G0123456789abcdef"), "\(list)")
        #expect(try read(tree.file("dst")).messages.map(\.info.uid) == [1, 7, 12, 40])
    }

    @Test func aVersion1ListIsKeptAndWrittenAsVersion3() throws {
        let tree = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("dst/\(sub)") }
        try tree.write("dst/cur/1.M1.host:2,S", "Subject: there\r\n\r\nx\r\n")
        try tree.write("dst/dovecot-uidlist", "1 77 3\n2 1.M1.host\n")
        let target = try MaildirTarget(path: tree.file("dst"))
        try MaildirSource(path: try makeSource(tree), user: user).read(user: user, into: TargetFeeder(target: target))
        let list = try String(contentsOfFile: tree.file("dst/dovecot-uidlist"), encoding: .utf8)
        // Another UIDVALIDITY than the source's: the list's UIDs go on after its own.
        #expect(list.hasPrefix("3 V77 N3\n2 :1.M1.host\n"), "\(list)")
        #expect(list.contains("\n2 :1.M1.host\n3 G0123456789abcdef0123456789abcdef :"), "\(list)")
        #expect(try read(tree.file("dst")).messages.map(\.info.uid) == [2, 3, 4, 5])
    }

    @Test func aTargetListWithNoUIDLeftIsAClearError() throws {
        let tree = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("dst/\(sub)") }
        try tree.write("dst/cur/1.last.name:2,S", "Subject: there\r\n\r\nx\r\n")
        try tree.write("dst/dovecot-uidlist", "3 V1234 N1 G00112233445566778899aabbccddeeff\n4294967295 :1.last.name\n")
        let error = #expect(throws: ConnectorError.self) {
            try MaildirSource(path: try makeSource(tree), user: user).read(
                user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        }
        #expect(error?.description.contains("dovecot-uidlist: has given UID 4294967295") == true, "\(String(describing: error))")
        // Nothing was left in tmp/ or moved into cur/ for it.
        #expect(try tree.files(in: "dst/tmp").isEmpty)
        #expect(try tree.files(in: "dst/cur") == ["1.last.name:2,S"])
    }

    @Test func forwardedIsAKeywordLetterAndPStaysP() throws {
        let tree = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("src/\(sub)") }
        try tree.write("src/dovecot-keywords", "0 $Forwarded\n")
        try tree.write("src/cur/1.M1.host:2,Sa", "Subject: forwarded\r\n\r\nx\r\n")
        try tree.write("src/cur/2.M2.host:2,PS", "Subject: passed\r\n\r\ny\r\n")
        try MaildirSource(path: tree.file("src"), user: user).read(
            user: user, into: TargetFeeder(target: try MaildirTarget(path: tree.file("dst"))))
        let names = try tree.files(in: "dst/cur").sorted()
        #expect(names.map { String($0.split(separator: ",").last ?? "") } == ["Sa", "PS"])
        #expect(try String(contentsOfFile: tree.file("dst/dovecot-keywords"), encoding: .utf8) == "0 $Forwarded\n")
    }
}

/// How a folder's files are listed before they are read: in UID order, then delivery time, then name, whatever order
/// the directory gives them; a name that is not UTF-8 is named in a warning and skipped.
@Suite(.blocking) struct MaildirListingTests {
    let user = UserInfo(address: "alice@example.org")

    @Test func filesComeInListOrderThenTimeThenNameAndAnUndecodableNameIsReported() throws {
        let tree = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("src/\(sub)") }
        try tree.write("src/dovecot-uidlist", "3 V7 N20\n5 :300.b.host\n9 G0123456789abcdef0123456789abcdef :100.z.host\n")
        let names = ["100.z.host:2,S", "300.b.host:2,", "200.c.host:2,", "200.a.host:2,F", "050.q.host"]
        for (i, name) in names.enumerated() {
            try tree.write("src/\(name.contains(":2,") ? "cur" : "new")/\(name)", "Subject: \(i)\n\nbody \(i)\n")
        }
        // A name with a byte that is not UTF-8 (0xFF), made through the C library.
        let bad = tree.file("src/cur/") + "400.x"
        let fd = (Array(bad.utf8) + [0xFF, 0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)

        let sink = RecordingSink()
        try MaildirSource(path: tree.file("src"), user: user).read(user: user, into: sink)
        // UID 5, UID 9 (its G field as GUID), then by time: 050 (new/), 200.a, 200.c.
        #expect(sink.messages.map(\.info.uid) == [5, 9, nil, nil, nil])
        #expect(sink.messages.map { String(decoding: $0.bytes, as: UTF8.self).split(separator: "\n").last! } == ["body 1", "body 0", "body 4", "body 3", "body 2"])
        #expect(sink.messages.map(\.info.guid) == ["300.b.host", "0123456789abcdef0123456789abcdef", nil, nil, nil])
        #expect(sink.warnings.contains { $0.message.contains("not UTF-8") && $0.location.contains("400.x") })
    }
}
