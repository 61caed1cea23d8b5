import Connectors
import FerryArchive
import FerryKit
import Foundation
import MailModel
import Reporting
import Testing

@Suite struct RoundTripTests {
    let scratch: Scratch
    let keyPath: String
    let pubPath: String

    init() throws {
        scratch = try Scratch()
        let keys = try KeyGenerator.generate(prefix: scratch.file("key"))
        keyPath = keys.privatePath
        pubPath = keys.publicPath
    }

    func export(_ source: String, users: [String] = [], to name: String = "a.mfa") throws -> String {
        try exportWithWarnings(source, users: users, to: name).archive
    }

    func exportWithWarnings(_ source: String, users: [String] = [], to name: String = "a.mfa") throws -> (archive: String, summary: ExportSummary) {
        let out = scratch.file(name)
        let summary = try Exporter(source: ConnectorSet(ConnectorURL(parsing: source)), users: users, signingKeyPath: keyPath, outputPath: out, quiet: true).run { _ in }
        return (out, summary)
    }

    func importArchive(_ archive: String, into target: String, users: [String] = []) throws -> ReconcileReport {
        try Importer(archivePath: archive, trustedKeyPath: pubPath, target: ConnectorSet(ConnectorURL(parsing: target)), users: users, quiet: true).run()
    }

    @Test func directoryStoreSurvivesExportAndImportExactly() throws {
        try scratch.makeDirectoryStore("src")
        let (archive, summary) = try exportWithWarnings("dir:" + scratch.file("src"))
        // The vCard without END is reported with its path, and still carried byte for byte.
        #expect(summary.warnings.contains { $0.location.hasSuffix("contacts/broken.vcf") && $0.message.contains("END") },
                "\(summary.warnings)")
        let report = try importArchive(archive, into: "dir:" + scratch.file("dst"))
        #expect(report.verdict == .pass)
        #expect(report.imported?.written == 2 * 12 + 3 + 2 + 2)
        let before = try MailboxSnapshot.of(DirectorySource(path: scratch.file("src")), includeSpecialUse: true)
        let after = try MailboxSnapshot.of(DirectorySource(path: scratch.file("dst")), includeSpecialUse: true)
        #expect(before.count > 40)
        #expect(before == after)
        // Spot checks of what the snapshot lines encode.
        #expect(after.contains { $0.contains("folder [\"Résumé\"]") })
        #expect(after.contains { $0.contains("folder [\"v1.2\"]") })
        #expect(after.contains { $0.contains("folder [\"日本語\", \"Notes\"]") })
        #expect(after.contains { $0.contains("keywords=[\"$Label1\", \"Work\"]") })
        #expect(after.contains { $0.contains("sieve filters active=true") })
        #expect(after.contains { $0.hasPrefix("alice@example.com vacation") })
    }

    @Test func reimportAddsNothingAndStillPasses() throws {
        try scratch.makeDirectoryStore("src")
        let archive = try export("dir:" + scratch.file("src"))
        _ = try importArchive(archive, into: "dir:" + scratch.file("dst"))
        let first = try MailboxSnapshot.of(DirectorySource(path: scratch.file("dst")))
        let again = try importArchive(archive, into: "dir:" + scratch.file("dst"))
        #expect(again.imported?.written == 0)
        #expect(again.imported?.alreadyPresent == 2 * 12 + 3 + 2 + 2)
        #expect(again.verdict == .pass)
        #expect(try MailboxSnapshot.of(DirectorySource(path: scratch.file("dst"))) == first)
    }

    @Test func oneUserOfManyCanBeExportedAndImported() throws {
        try scratch.makeDirectoryStore("src")
        let archive = try export("dir:" + scratch.file("src"), users: ["bob@example.com"])
        let report = try importArchive(archive, into: "maildir:" + scratch.file("bob-maildir"), users: ["bob@example.com"])
        #expect(report.verdict == .pass)
        #expect(report.users.map(\.address) == ["bob@example.com"])
        let user = UserInfo(address: "bob@example.com")
        let before = try MailboxSnapshot.of(MaildirSource(path: scratch.file("src/bob@example.com/Maildir"), user: user))
        let after = try MailboxSnapshot.of(MaildirSource(path: scratch.file("bob-maildir"), user: user))
        #expect(before == after)
    }

    @Test func maildirToMaildir() throws {
        try scratch.makeMaildir("md")
        let user = UserInfo(address: "c@example.com")
        let archive = try export("maildir:" + scratch.file("md"), users: [user.address])
        let report = try importArchive(archive, into: "maildir:" + scratch.file("md2"), users: [user.address])
        #expect(report.verdict == .pass)
        #expect(try MailboxSnapshot.of(MaildirSource(path: scratch.file("md"), user: user))
            == MailboxSnapshot.of(MaildirSource(path: scratch.file("md2"), user: user)))
    }

    @Test func mboxToMaildirKeepsBytesFlagsAndDates() throws {
        let mbox = """
            From alice@example.com Thu Mar  7 10:00:00 2024
            From: alice@example.com
            Subject: first
            Status: RO
            X-Status: F

            Hello
            >From the quoted line

            From bob@example.com Fri Mar  8 11:30:00 2024
            From: bob@example.com
            Subject: second

            Body two

            """
        try scratch.write("mail/INBOX", mbox)
        try scratch.write("mail/Projects.mbox", "From c@example.com Sat Mar  9 09:00:00 2024\nSubject: third\n\nthree\n\n")
        let user = UserInfo(address: "m@example.com")
        let archive = try export("mbox:" + scratch.file("mail"), users: [user.address])
        let report = try importArchive(archive, into: "maildir:" + scratch.file("md"), users: [user.address])
        #expect(report.verdict == .pass)
        let before = try MailboxSnapshot.of(MboxSource(path: scratch.file("mail"), user: user)).filter { $0.contains(" message ") }
        let after = try MailboxSnapshot.of(MaildirSource(path: scratch.file("md"), user: user)).filter { $0.contains(" message ") }
        #expect(before.count == 3)
        #expect(before == after)
    }

    @Test func reconcileFailsWhenTheTargetLosesOrChangesAMessage() throws {
        try scratch.makeMaildir("md")
        let user = "c@example.com"
        let archive = try export("maildir:" + scratch.file("md"), users: [user])
        _ = try importArchive(archive, into: "maildir:" + scratch.file("md2"), users: [user])
        let cur = scratch.file("md2/cur")
        let files = try FileManager.default.contentsOfDirectory(atPath: cur).sorted()
        try FileManager.default.removeItem(atPath: cur + "/" + files[0])
        try Data("changed".utf8).write(to: URL(fileURLWithPath: cur + "/" + files[1]))
        let report = try ReconcileCommand(archivePath: archive, trustedKeyPath: pubPath, target: ConnectorSet(ConnectorURL(parsing: "maildir:" + scratch.file("md2"))), users: [user]).run()
        #expect(report.verdict == .fail)
        let inbox = report.users[0].containers.first { $0.name == "INBOX" }
        #expect(inbox?.missing.count == 2)
        #expect(inbox?.extra == 1)
    }

    /// A target that already held a large mailbox: every extra message is counted, the first 1,000 by date are
    /// listed (not all of them: the report and the reconcile's memory would grow with the target), and the verdict
    /// still passes.
    @Test func extraMessagesAtTheTargetAreCountedAndTheFirstThousandListed() throws {
        try scratch.makeMaildir("md")
        let user = "c@example.com"
        let archive = try export("maildir:" + scratch.file("md"), users: [user])
        for sub in ["cur", "new", "tmp"] { try scratch.mkdir("md2/\(sub)") }
        let cur = scratch.file("md2/cur")
        let held = ReconcileReport.listedExtraLimit + 10
        for n in 0..<held {
            // Dated newest first by file order, so that listing by date is not listing by name.
            let path = cur + "/\(2_000_000_000 - n).M\(n)P1.host:2,S"
            try Data("Subject: held \(n)\n\nalready here\n".utf8).write(to: URL(fileURLWithPath: path))
            let date = Date(timeIntervalSince1970: TimeInterval(1_600_000_000 - n * 60))
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        }
        let report = try importArchive(archive, into: "maildir:" + scratch.file("md2"), users: [user])
        #expect(report.verdict == .pass)
        let inbox = try #require(report.users[0].containers.first { $0.name == "INBOX" })
        #expect(inbox.extra == held)
        let listed = inbox.extraItems ?? []
        #expect(listed.count == ReconcileReport.listedExtraLimit)
        // The oldest first: the last files written.
        #expect(listed.first?.title == "held \(held - 1)")
        #expect(listed.last?.title == "held \(held - ReconcileReport.listedExtraLimit)")
    }

    /// A second copy of an archived message at the target is extra. Its header was not kept (its hash is an
    /// archived one: the inventory skips those), and the listing says what it is; a message the archive does not
    /// hold is listed with its subject.
    @Test func aSecondCopyOfAnArchivedMessageIsListedAsSuch() throws {
        try scratch.makeMaildir("md")
        let user = "c@example.com"
        let archive = try export("maildir:" + scratch.file("md"), users: [user])
        for sub in ["cur", "new", "tmp"] { try scratch.mkdir("md2/\(sub)") }
        let original = try FileManager.default.contentsOfDirectory(atPath: scratch.file("md/cur")).sorted().first!
        let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("md/cur/" + original)))
        try bytes.write(to: URL(fileURLWithPath: scratch.file("md2/cur/1700000000.Mcopy.host:2,S")))
        try Data("Subject: only here\n\nnot archived\n".utf8).write(to: URL(fileURLWithPath: scratch.file("md2/cur/1700000001.Mother.host:2,S")))
        let report = try importArchive(archive, into: "maildir:" + scratch.file("md2"), users: [user])
        #expect(report.verdict == .pass)
        let inbox = try #require(report.users[0].containers.first { $0.name == "INBOX" })
        #expect(inbox.extra == 2)
        #expect(Set((inbox.extraItems ?? []).map(\.title)) == ["(another copy of an archived message)", "only here"])
    }

    @Test func importRefusesAnArchiveFromAnUntrustedKeyBeforeWritingAnything() throws {
        try scratch.makeMaildir("md")
        let archive = try export("maildir:" + scratch.file("md"), users: ["c@example.com"])
        let other = try KeyGenerator.generate(prefix: scratch.file("other"))
        #expect(throws: ArchiveError.self) {
            _ = try Importer(archivePath: archive, trustedKeyPath: other.publicPath, target: ConnectorSet(ConnectorURL(parsing: "maildir:" + scratch.file("never"))), users: ["c@example.com"], quiet: true).run()
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("never")))
    }

    @Test func aFailedExportLeavesNothingUnderTheFinalName() throws {
        let out = scratch.file("fail.mfa")
        do {
            let writer = try ArchiveWriter(path: out, signingKey: SigningKey(pemFile: keyPath), options: ArchiveOptions(station: "t", tool: "t"))
            try writer.beginUser(UserInfo(address: "x@example.com"))
            let inbox = try writer.folder(FolderInfo(path: ["INBOX"]))
            try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 0)), inFolder: inbox, body: MemoryBody(Array(repeating: 65, count: 5 << 20)))
            #expect(FileManager.default.fileExists(atPath: out + ".partial"))
            #expect(throws: ConnectorError.self) {
                try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 0)), inFolder: inbox, body: FailingBody())
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("fail") }.isEmpty)
    }
}

/// A source file that breaks half-way through (a disk error, a file truncated while exporting).
struct FailingBody: ItemBody {
    var byteCount: Int64 { 1 << 20 }
    var origin: String { "failing-test-body" }
    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try [UInt8](repeating: 1, count: 1000).withUnsafeBytes { try consume($0) }
        throw ConnectorError(location: origin, message: "read failed half-way")
    }
}
