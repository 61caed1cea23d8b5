import Foundation
import Testing
import TestSupport

/// A Dovecot Maildir's identity through an archive: made by a real Dovecot (LMTP delivery, IMAP flags), exported from
/// its files, imported into a fresh Maildir and served by a second Dovecot, which must show the same UIDVALIDITY,
/// UIDNEXT and folder GUID, and the same UIDs, X-GUIDs, flags and keywords message by message, to imaplib.
@Suite(.serialized) struct MaildirIdentityTests {
    static let user = "alice"
    static let password = "alice-Secret-4711"
    static let script = CLI.repositoryRoot + "/Tests/MailFerryCLITests/maildir_identity.py"

    func identity(_ server: DovecotIMAPServer) throws -> [String: Any] {
        let r = try Python.run([Self.script, "identity", "127.0.0.1", "\(server.imapPort)", Self.user, Self.password])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test func dovecotServesTheImportedMaildirWithTheSourcesIdentity() throws {
        let work = try Workspace()
        let users = [DovecotIMAPServer.User(Self.user, Self.password)]
        let source = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false, lmtp: true)
        let seeded = try Python.run([
            Self.script, "seed", "127.0.0.1", "\(source.imapPort)", "\(source.lmtpPort)", Self.user, Self.password,
        ])
        #expect(seeded.status == 0, "\(seeded.stderr)\n\(source.log)")
        let before = try identity(source)
        // INBOX and Work, and the empty special-use folders the test Dovecot makes for every user.
        #expect(Set(before.keys) == ["INBOX", "Work", "Drafts", "Sent", "Trash"])

        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let export = try CLI.run([
            "export", "--source", "maildir:" + source.maildir(Self.user), "--user", Self.user,
            "--sign-key", work.file("k.key.pem"), "--out", work.file("a.mfa"),
        ])
        #expect(export.status == 0, "\(export.stderr)")

        let target = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false)
        let imported = try CLI.run([
            "import", work.file("a.mfa"), "--trust", work.file("k.pub.pem"), "--target", "maildir:" + target.maildir(Self.user),
            "--user", Self.user, "--report", work.file("report.json"),
        ])
        #expect(imported.status == 0, "\(imported.stdout)\n\(imported.stderr)")
        // Dovecot reads and writes mail as nobody; the import ran as whoever runs the tests.
        try ProcessRunner.run("/bin/chmod", ["-R", "a+rwX", target.root + "/mail"])

        let after = try identity(target)
        #expect(NSDictionary(dictionary: after) == NSDictionary(dictionary: before), "\(after)\nsource: \(before)")
        #expect(!target.log.contains("Error"), "\(target.log)")

        // The report's placements are the UIDs Dovecot shows, with the source's GUIDs.
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.file("report.json")))) as? [String: Any])
        let placements = (report["imported"] as? [String: Any])?["placements"] as? [[String: Any]] ?? []
        var shown: Set<String> = []
        for (folder, value) in before {
            for message in ((value as? [String: Any])?["messages"] as? [[String: Any]]) ?? [] {
                shown.insert("\(folder) \(message["uid"] ?? "") \(message["guid"] ?? "")")
            }
        }
        let placed = Set(placements.map { "\($0["folder"] ?? "") \($0["uid"] ?? "") \($0["guid"] ?? "")" })
        #expect(placed == shown)

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
        let work = try Workspace()
        let users = [DovecotIMAPServer.User(Self.user, Self.password)]
        let source = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false, lmtp: true)
        let lmtp = ["127.0.0.1", "\(source.lmtpPort)", Self.user]
        #expect(try Python.run([Self.script, "seed", "127.0.0.1", "\(source.imapPort)", "\(source.lmtpPort)", Self.user, Self.password]).status == 0)
        // Dovecot gives a folder its identity when a client first opens it: every folder here has one.
        #expect(try identity(source).count == 5)
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        func export(_ name: String, since: String? = nil) throws {
            let r = try CLI.run([
                "export", "--source", "maildir:" + source.maildir(Self.user), "--user", Self.user,
                "--sign-key", work.file("k.key.pem"), "--out", work.file(name),
            ] + (since.map { ["--since", work.file($0)] } ?? []))
            #expect(r.status == 0, "\(r.stderr)")
        }
        let target = try DovecotIMAPServer(users: users, allowPlaintextAuth: true, tls: false)
        func importArchive(_ name: String) throws {
            let r = try CLI.run([
                "import", work.file(name), "--trust", work.file("k.pub.pem"), "--target", "maildir:" + target.maildir(Self.user),
                "--user", Self.user, "--journal", work.file("journal"),
            ])
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        }
        try export("full.mfa")
        try importArchive("full.mfa")
        // The Maildir becomes the mail user's, as on a server: what the delta import (run as root here) writes into
        // it must take that owner, or Dovecot could not read it.
        try ProcessRunner.run("/bin/chown", ["-R", "nobody:nogroup", target.root + "/mail/" + Self.user])
        #expect(try identity(target)["INBOX"] != nil)

        // 1,200 new messages at the source, carried by a delta while a client watches the target's inbox.
        #expect(try Python.run([Self.script, "deliver"] + lmtp + ["1200", "100"]).status == 0)
        try export("delta.mfa", since: "full.mfa")
        let stop = work.file("stop")
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        watcher.arguments = [Self.script, "watch", "127.0.0.1", "\(target.imapPort)", Self.user, Self.password, stop, work.file("seen.json")]
        try watcher.run()
        usleep(300_000)
        try importArchive("delta.mfa")
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
}
