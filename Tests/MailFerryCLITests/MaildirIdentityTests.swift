import Foundation
import Testing
import TestSupport

/// A Dovecot Maildir's identity through an archive: made by a real Dovecot (LMTP delivery, IMAP flags), exported from
/// its files, imported into a fresh Maildir and served by a second Dovecot, which must show the same UIDVALIDITY,
/// UIDNEXT and folder GUID, and the same UIDs, X-GUIDs, flags and keywords message by message, to imaplib.
@Suite(.serialized, .blocking) struct MaildirIdentityTests {
    static let user = "alice"
    static let password = "alice-Secret-4711"
    static let script = CLI.repositoryRoot + "/Tests/MailFerryCLITests/maildir_identity.py"

    func identity(_ server: DovecotIMAPServer) throws -> [String: Any] {
        let r = try Python.run([Self.script, "identity", "127.0.0.1", "\(server.imapPort)", Self.user, Self.password])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// A source Dovecot (LMTP for delivery) whose mail was seeded and whose folders all have their identity, a target
    /// Dovecot, the keys, and export and import through the binary.
    final class Stations {
        let work: Workspace
        let source: DovecotIMAPServer
        let target: DovecotIMAPServer

        init() throws {
            work = try Workspace()
            let users = [DovecotIMAPServer.User(MaildirIdentityTests.user, MaildirIdentityTests.password)]
            source = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false, lmtp: true)
            target = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false)
            let seeded = try Python.run([
                MaildirIdentityTests.script, "seed", "127.0.0.1", "\(source.imapPort)", "\(source.lmtpPort)",
                MaildirIdentityTests.user, MaildirIdentityTests.password,
            ])
            #expect(seeded.status == 0, "\(seeded.stderr)\n\(source.log)")
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        var targetMaildir: String { target.maildir(MaildirIdentityTests.user) }

        func deliver(_ count: Int, from start: Int) throws {
            let r = try Python.run([
                MaildirIdentityTests.script, "deliver", "127.0.0.1", "\(source.lmtpPort)", MaildirIdentityTests.user,
                "\(count)", "\(start)",
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }

        @discardableResult
        func export(_ name: String, since: String? = nil) throws -> CLI.Result {
            let r = try CLI.run([
                "export", "--source", "maildir:" + source.maildir(MaildirIdentityTests.user), "--user", MaildirIdentityTests.user,
                "--sign-key", work.file("k.key.pem"), "--out", work.file(name),
            ] + (since.map { ["--since", work.file($0)] } ?? []))
            #expect(r.status == 0, "\(r.stderr)")
            return r
        }

        @discardableResult
        func importArchive(_ name: String, report: String? = nil) throws -> CLI.Result {
            let r = try CLI.run([
                "import", work.file(name), "--trust", work.file("k.pub.pem"), "--target", "maildir:" + targetMaildir,
                "--user", MaildirIdentityTests.user, "--journal", work.file("journal"),
            ] + (report.map { ["--report", work.file($0)] } ?? []))
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
            return r
        }

        /// Gives the target's Maildir to the mail user, as on a server: what a later import run as root writes into
        /// it must take that owner, or Dovecot could not read it.
        func handTargetToTheMailUser() throws {
            try ProcessRunner.run("/bin/chown", ["-R", "nobody:nogroup", target.root + "/mail/" + MaildirIdentityTests.user])
        }
    }

    @Test func dovecotServesTheImportedMaildirWithTheSourcesIdentity() throws {
        let s = try Stations()
        let (work, source, target) = (s.work, s.source, s.target)
        let before = try identity(source)
        // INBOX and Work, and the empty special-use folders the test Dovecot makes for every user.
        #expect(Set(before.keys) == ["INBOX", "Work", "Drafts", "Sent", "Trash"])
        try s.export("a.mfa")
        let imported = try s.importArchive("a.mfa", report: "report.json")
        try s.handTargetToTheMailUser()

        let after = try identity(target)
        #expect(NSDictionary(dictionary: after) == NSDictionary(dictionary: before), "\(after)\nsource: \(before)")
        #expect(!target.log.contains("Error"), "\(target.log)")

        // The UIDs and GUIDs Dovecot shows, by folder, for the identity map below.
        var shown: Set<String> = []
        for (folder, value) in before {
            for message in ((value as? [String: Any])?["messages"] as? [[String: Any]]) ?? [] {
                shown.insert("\(folder) \(message["uid"] ?? "") \(message["guid"] ?? "")")
            }
        }

        // The identity map beside the report, read by Python's csv module: source and target columns both equal
        // what Dovecot shows, for every message and folder.
        #expect(imported.stdout.contains("identity map of alice: \(work.file("report.alice.map.csv"))"), "\(imported.stdout)")
        let read = try Python.run([Self.script, "csvmap", work.file("report.alice.map.csv")])
        #expect(read.status == 0, "\(read.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [[String: String]])
        var mapped: Set<String> = []
        for row in rows where row["kind"] == "message" {
            #expect(row["source_uid"] == row["target_uid"] && row["source_uidvalidity"] == row["target_uidvalidity"], "\(row)")
            #expect(row["source_folder"] == row["target_folder"] && !(row["target_file"] ?? "").isEmpty, "\(row)")
            #expect(row["target_guid"] == row["source_guid"], "\(row)")  // what the target Dovecot shows as X-GUID
            mapped.insert("\(row["target_folder"] ?? "") \(row["target_uid"] ?? "") \(row["source_guid"] ?? "")")
        }
        #expect(mapped == shown)
        let folderRows = rows.filter { $0["kind"] == "folder" }
        #expect(folderRows.count == before.count)
        for row in folderRows {
            let shownFolder = before[row["source_folder"] ?? ""] as? [String: Any]
            #expect(row["source_folder_guid"] == shownFolder?["guid"] as? String, "\(row)")
            #expect(row["target_folder_guid"] == shownFolder?["guid"] as? String, "\(row)")
            #expect(row["target_uidvalidity"] == (shownFolder?["uidValidity"] as? Int).map(String.init), "\(row)")
        }
    }

    /// A delta into a Maildir that a Dovecot serves while the import runs, with a mail client looking at the inbox
    /// over and over: every message is shown once, only ever under the UID the source gave it, and Dovecot logs no
    /// error (no index or uidlist it had to rebuild).
    @Test func aDovecotServingTheTargetDuringADeltaSeesEachMessageOnceWithItsKeptUID() throws {
        let s = try Stations()
        let (work, source, target) = (s.work, s.source, s.target)
        // Dovecot gives a folder its identity when a client first opens it: every folder here has one.
        #expect(try identity(source).count == 5)
        try s.export("full.mfa")
        try s.importArchive("full.mfa")
        try s.handTargetToTheMailUser()
        #expect(try identity(target)["INBOX"] != nil)

        // 1,200 new messages at the source, carried by a delta while a client watches the target's inbox.
        try s.deliver(1200, from: 100)
        try s.export("delta.mfa", since: "full.mfa")
        let stop = work.file("stop")
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        watcher.arguments = [Self.script, "watch", "127.0.0.1", "\(target.imapPort)", Self.user, Self.password, stop, work.file("seen.json")]
        try watcher.run()
        usleep(300_000)
        try s.importArchive("delta.mfa")
        FileManager.default.createFile(atPath: stop, contents: nil)
        watcher.waitUntilExit()
        #expect(watcher.terminationStatus == 0)

        let before = try identity(source)
        let after = try identity(target)
        #expect(NSDictionary(dictionary: after) == NSDictionary(dictionary: before))
        let finalPairs = Set(((after["INBOX"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []).map {
            "\($0["uid"] ?? "") \($0["guid"] ?? "")"
        })
        #expect(finalPairs.count == 1_205)
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.file("seen.json")))) as? [String: Any])
        let pairs = (seen["pairs"] as? [[Any]] ?? []).map { "\($0[0]) \($0[1])" }
        // Every pair the client was ever shown is one of the final ones: no message under another UID, none twice.
        #expect(!pairs.isEmpty && Set(pairs).isSubset(of: finalPairs), "\(Set(pairs).subtracting(finalPairs).prefix(10))")
        #expect((seen["looks"] as? Int ?? 0) > 1)
        for word in ["Error", "Panic", "Fatal", "corrupt"] {
            #expect(!target.log.contains(word), "\(target.log)")
        }
    }

    /// The source's inbox got a new UIDVALIDITY between two passes (Dovecot rebuilt a lost dovecot-uidlist): the
    /// delta carries the inbox again, and the target, whose UIDs clients already know, keeps its UIDVALIDITY and gives
    /// the messages new UIDs after every UID it gave before. Each message is there once, with its flags.
    @Test func aSourceInboxWithANewUIDValidityIsCarriedAgainWithoutReusingAUID() throws {
        let s = try Stations()
        #expect(try identity(s.source).count == 5)
        try s.export("full.mfa")
        try s.importArchive("full.mfa")
        try s.handTargetToTheMailUser()
        let first = try identity(s.target)
        let firstInbox = try #require(first["INBOX"] as? [String: Any])

        let inbox = s.source.maildir(Self.user)
        for name in try FileManager.default.contentsOfDirectory(atPath: inbox)
        where name.hasPrefix("dovecot-uidlist") || name.hasPrefix("dovecot.index") {
            try FileManager.default.removeItem(atPath: inbox + "/" + name)
        }
        try s.deliver(3, from: 500)
        let rebuilt = try identity(s.source)
        let rebuiltInbox = try #require(rebuilt["INBOX"] as? [String: Any])
        #expect(rebuiltInbox["uidValidity"] as? Int != firstInbox["uidValidity"] as? Int)
        let delta = try s.export("delta.mfa", since: "full.mfa")
        #expect(delta.stdout.contains("1 folders have a new UIDVALIDITY: carried whole again"), "\(delta.stdout)")
        try s.importArchive("delta.mfa")

        let after = try identity(s.target)
        let inboxAfter = try #require(after["INBOX"] as? [String: Any])
        #expect(inboxAfter["uidValidity"] as? Int == firstInbox["uidValidity"] as? Int)
        let messages = { (folder: [String: Any]) in folder["messages"] as? [[String: Any]] ?? [] }
        let oldNext = try #require(firstInbox["uidNext"] as? Int)
        #expect(messages(inboxAfter).allSatisfy { ($0["uid"] as? Int ?? 0) >= oldNext }, "\(inboxAfter)")
        let content = { (folder: [String: Any]) in
            messages(folder).map { "\($0["sha256"] ?? "") \($0["flags"] ?? "")" }.sorted()
        }
        #expect(content(inboxAfter) == content(rebuiltInbox))
        #expect(messages(inboxAfter).count == 8)
        #expect(NSDictionary(dictionary: after["Work"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: first["Work"] as? [String: Any] ?? [:]))
        for word in ["Error", "Panic", "Fatal", "corrupt"] {
            #expect(!s.target.log.contains(word), "\(s.target.log)")
        }
    }
}
