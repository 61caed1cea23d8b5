import Foundation
import Testing
import TestSupport

/// One migration over several servers: mail from a Dovecot's IMAP, contacts and calendars from Radicale and filters
/// from the same Dovecot's ManageSieve go into one archive (`--source` three times), and from it into another
/// Dovecot (IMAP and ManageSieve) and Xandikos (`--target` three times), with one reconcile and one receipt per user
/// over every type. Independent clients read both sides back: imaplib, a raw-`http.client` DAV client and a raw
/// ManageSieve client.
@Suite(.serialized) struct SeveralSystemsMigrationTests {
    static let user = "alice@example.com"
    static let password = "alice-several-4711"

    final class Stations {
        let work: Workspace
        let mailSource: DovecotIMAPServer
        let mailTarget: DovecotIMAPServer
        let davSource: DAVTestServer
        let davTarget: DAVTestServer
        let credentials: String
        /// Both source CAs in one PEM file, as an organisation's bundle would be.
        let sourceCAs: String

        init() throws {
            work = try Workspace()
            let users: [DovecotIMAPServer.User] = [.init(SeveralSystemsMigrationTests.user, SeveralSystemsMigrationTests.password)]
            mailSource = try DovecotIMAPServer(users: users, sieve: true)
            mailTarget = try DovecotIMAPServer(users: users, sieve: true)
            davSource = try DAVTestServer.radicale(users: [(SeveralSystemsMigrationTests.user, SeveralSystemsMigrationTests.password)])
            davTarget = try DAVTestServer.xandikos(principal: SeveralSystemsMigrationTests.user)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("\(SeveralSystemsMigrationTests.user)\t\(SeveralSystemsMigrationTests.password)\n", to: credentials)
            sourceCAs = work.file("source-cas.pem")
            let bundle = try String(contentsOfFile: mailSource.caFile, encoding: .utf8) + String(contentsOfFile: davSource.caFile, encoding: .utf8)
            try bundle.write(toFile: sourceCAs, atomically: true, encoding: .utf8)
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        var sources: [String] {
            ["--source", "imap://127.0.0.1:\(mailSource.imapPort)", "--source", "davs://127.0.0.1:\(davSource.port)",
             "--source", "sieve://127.0.0.1:\(mailSource.sievePort)"]
        }

        var targets: [String] {
            ["--target", "imap://127.0.0.1:\(mailTarget.imapPort)", "--target", "dav://127.0.0.1:\(davTarget.port)",
             "--target", "sieve://127.0.0.1:\(mailTarget.sievePort)"]
        }

        func export(_ extra: [String] = [], out: String) throws -> CLI.Result {
            try CLI.run(["export"] + sources + [
                "--user", SeveralSystemsMigrationTests.user, "--credentials", credentials, "--ca-file", sourceCAs,
                "--sign-key", work.file("k.key.pem"), "--out", out,
            ] + extra)
        }

        func importArguments(_ archive: String, targets: [String], journal: String = "journal") -> [String] {
            ["import", archive, "--trust", work.file("k.pub.pem")] + targets + [
                "--allow-plaintext", "--credentials", credentials, "--ca-file", mailTarget.caFile, "--journal", work.file(journal),
            ]
        }

        func mailDump(_ server: DovecotIMAPServer) throws -> String {
            let r = try Python.run([
                IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(server.imapPort)", SeveralSystemsMigrationTests.user,
                SeveralSystemsMigrationTests.password, server.caFile,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }

        func davDump(_ server: DAVTestServer) throws -> [String: [String: Any]] {
            let r = try ProcessRunner.run(
                "/usr/bin/python3",
                [DAVRoundTripTests.client, server.base, SeveralSystemsMigrationTests.user, SeveralSystemsMigrationTests.password, "dump"],
                adding: ["DAV_CA": server.caFile])
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
        }

        func sieve(_ server: DovecotIMAPServer, _ arguments: [String]) throws -> CLI.Result {
            try Python.run([
                SieveRoundTripTests.client, "127.0.0.1", "\(server.sievePort)", server.caFile, SeveralSystemsMigrationTests.user,
                SeveralSystemsMigrationTests.password,
            ] + arguments)
        }

        /// The user's scripts on `server`: name to (active, SHA-256).
        func sieveDump(_ server: DovecotIMAPServer) throws -> [String: String] {
            let directory = work.file("sieve-dump-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let r = try sieve(server, ["dump", directory])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
            return object.mapValues { "\($0["active"] as? Bool ?? false) \($0["sha256"] as? String ?? "")" }
        }

        /// Mail, contacts, calendars and two scripts (one active) at the source.
        func seed() throws {
            let load = try Python.run([
                IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(mailSource.imapPort)", SeveralSystemsMigrationTests.user,
                SeveralSystemsMigrationTests.password, mailSource.caFile, "5", "30", "0",
            ])
            #expect(load.status == 0, "\(load.stderr)")
            let dav = try ProcessRunner.run(
                "/usr/bin/python3",
                [DAVRoundTripTests.client, davSource.base, SeveralSystemsMigrationTests.user, SeveralSystemsMigrationTests.password, "seed"],
                adding: ["DAV_CA": davSource.caFile])
            #expect(dav.status == 0, "\(dav.stderr)")
            for (name, text, active) in [
                ("filters", "require \"fileinto\";\r\nif header :contains \"subject\" \"[list]\" {\r\n  fileinto \"INBOX\";\r\n}\r\n", true),
                ("spare", "keep;\r\n", false),
            ] {
                let file = work.file("script-\(name)")
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let put = try sieve(mailSource, ["put", name, file] + (active ? ["active"] : []))
                #expect(put.status == 0, "\(put.stderr)")
            }
        }
    }

    static func json(_ output: CLI.Result) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Three sources into one archive, the archive into three targets: every message (bytes, flags, keywords,
    /// date), every contact and task byte for byte, every event with the same content lines, every script with the
    /// active one; one reconcile passes over all of it and one receipt per user counts every type.
    @Test func mailContactsCalendarsAndFiltersTravelTogether() throws {
        let s = try Stations()
        try s.seed()
        let archive = s.work.file("all.mfa")
        let export = try s.export(out: archive)
        #expect(export.status == 0, "\(export.stdout) \(export.stderr)")
        #expect(export.stdout.contains("contacts 3 in 3 files, events 5, tasks 3") && export.stdout.contains("sieve scripts 2"), "\(export.stdout)")

        let receipts = s.work.file("receipts")
        let imported = try CLI.run(
            s.importArguments(archive, targets: s.targets) + ["--report", s.work.file("r.json"), "--receipt", receipts, "--sign-key", s.work.file("k.key.pem")])
        #expect(imported.status == 0, "\(imported.stdout.suffix(3000)) \(imported.stderr)")
        #expect(imported.stdout.contains("verdict: PASS"), "\(imported.stdout.suffix(2000))")
        #expect(!imported.stdout.contains("not imported"), "\(imported.stdout.suffix(2000))")

        #expect(try s.mailDump(s.mailTarget) == s.mailDump(s.mailSource))
        let before = try s.davDump(s.davSource)
        let after = try s.davDump(s.davTarget)
        #expect(Set(after.keys) == Set(before.keys) && before.count == 3, "\(before.keys) \(after.keys)")
        for name in ["contacts", "tasks"] {
            #expect(DAVRoundTripTests.objects(after[name]) == DAVRoundTripTests.objects(before[name]), "\(name)")
        }
        #expect(DAVRoundTripTests.objects(after["work"], "lines") == DAVRoundTripTests.objects(before["work"], "lines"))
        let scripts = try s.sieveDump(s.mailTarget)
        #expect(scripts == (try s.sieveDump(s.mailSource)) && scripts.count == 2 && scripts["filters"]?.hasPrefix("true") == true, "\(scripts)")

        // One receipt for the user, counting every type.
        let receipt = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: receipts + "/\(Self.user).receipt.json"))) as? [String: Any] ?? [:]
        #expect(receipt["verdict"] as? String == "pass", "\(receipt)")
        // The receipt names which system holds which types, so its counts are per target.
        #expect(receipt["target"] as? String == "imap://127.0.0.1:\(s.mailTarget.imapPort) (mail) + dav://127.0.0.1:\(s.davTarget.port) (contacts,calendars) + sieve://127.0.0.1:\(s.mailTarget.sievePort) (sieve)", "\(receipt)")
        let held = (receipt["counts"] as? [String: Any])?["target"] as? [String: Any] ?? [:]
        #expect(
            held["messages"] as? Int == 30 && held["contacts"] as? Int == 3 && held["events"] as? Int == 5 && held["tasks"] as? Int == 3
                && held["sieveScripts"] as? Int == 2, "\(receipt)")

        // Run again: everything is recognised at every target, nothing written twice.
        let again = try CLI.run(s.importArguments(archive, targets: s.targets) + ["--reimport", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let written = (try Self.json(again)["imported"] as? [String: Any])?["written"] as? Int
        #expect(written == 0, "\(again.stdout.prefix(1500))")
        #expect(try s.sieveDump(s.mailTarget).count == 2)

        // A delta over all three: new mail, a contact deleted, a script deleted and another added.
        let more = try Python.run([
            IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(s.mailSource.imapPort)", Self.user, Self.password, s.mailSource.caFile, "6", "4", "0",
        ])
        #expect(more.status == 0, "\(more.stderr)")
        let contact = try #require(DAVRoundTripTests.objects(before["contacts"]).keys.sorted().first)
        let deleted = try ProcessRunner.run(
            "/usr/bin/python3", [DAVRoundTripTests.client, s.davSource.base, Self.user, Self.password, "delete", "contacts", contact],
            adding: ["DAV_CA": s.davSource.caFile])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try s.sieve(s.mailSource, ["delete", "spare"]).status == 0)
        let extra = s.work.file("script-extra")
        try "discard;\r\n".write(toFile: extra, atomically: true, encoding: .utf8)
        #expect(try s.sieve(s.mailSource, ["put", "extra", extra]).status == 0)
        let delta = s.work.file("all-2.mfa")
        let exported = try s.export(["--since", archive], out: delta)
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        let applied = try CLI.run(s.importArguments(delta, targets: s.targets))
        #expect(applied.status == 0 && applied.stdout.contains("verdict: PASS"), "\(applied.stdout.suffix(3000)) \(applied.stderr)")
        #expect(try s.mailDump(s.mailTarget) == s.mailDump(s.mailSource))
        #expect(DAVRoundTripTests.objects(try s.davDump(s.davTarget)["contacts"]) == DAVRoundTripTests.objects(try s.davDump(s.davSource)["contacts"]))
        let scriptsNow = try s.sieveDump(s.mailTarget)
        #expect(scriptsNow == (try s.sieveDump(s.mailSource)) && Set(scriptsNow.keys) == ["filters", "extra"], "\(scriptsNow)")
    }

    /// The archive holding all types into a mail-only target: without --types, the contacts, events and scripts
    /// are listed as not imported and the user fails (a receipt must not pass while they are left behind); with
    /// --types mail they are named as left out by the operator and the user passes. Two targets that would both
    /// take mail, or a target with no type of the run, are refused before anything is written.
    @Test func typesNarrowARunAndWhatNoTargetHoldsFailsTheUser() throws {
        let s = try Stations()
        try s.seed()
        let archive = s.work.file("all.mfa")
        #expect(try s.export(out: archive).status == 0)
        let mailOnly = ["--target", "imap://127.0.0.1:\(s.mailTarget.imapPort)"]

        let failing = try CLI.run(s.importArguments(archive, targets: mailOnly))
        #expect(failing.status == 1, "\(failing.stdout.suffix(2000)) \(failing.stderr)")
        #expect(failing.stdout.contains("not imported (the target holds no such items): 13 items"), "\(failing.stdout.suffix(2000))")
        #expect(failing.stdout.contains("verdict: FAIL"))

        // The same run narrowed: the messages the failed run wrote are recognised, not written twice.
        let narrowed = try CLI.run(s.importArguments(archive, targets: mailOnly) + ["--types", "mail", "--json"])
        #expect(narrowed.status == 0, "\(narrowed.stdout.suffix(2000)) \(narrowed.stderr)")
        let report = try Self.json(narrowed)
        let counts = report["imported"] as? [String: Any]
        #expect(counts?["written"] as? Int == 0 && counts?["alreadyPresent"] as? Int == 30, "\(String(describing: counts))")
        let notImported = counts?["notImported"] as? [[String: Any]] ?? []
        #expect(notImported.count == 13 && notImported.allSatisfy { $0["reason"] as? String == "left out of this run by --types" })
        let problems = "\(((report["users"] as? [[String: Any]])?.first?["problems"]) ?? "")"
        #expect(problems.contains("3 contacts left out of this run by --types") && problems.contains("2 Sieve scripts left out"), "\(problems)")
        #expect(report["verdict"] as? String == "pass")
        #expect(try s.mailDump(s.mailTarget) == s.mailDump(s.mailSource))

        // Contacts and calendars later, into Xandikos, from the same archive: a separate import for the ledger.
        let later = try CLI.run(
            s.importArguments(archive, targets: ["--target", "dav://127.0.0.1:\(s.davTarget.port)"])
                + ["--types", "contacts,calendars"])
        #expect(later.status == 0, "\(later.stdout.suffix(2000)) \(later.stderr)")
        #expect(later.stdout.contains("11 items written") && later.stdout.contains("verdict: PASS"), "\(later.stdout.suffix(2000))")

        let twice = try CLI.run(s.importArguments(archive, targets: [
            "--target", "imap://127.0.0.1:\(s.mailTarget.imapPort)", "--target", "maildir:\(s.work.file("m"))",
        ], journal: "journal-3") + ["--user", Self.user])
        #expect(twice.status == 2 && twice.stderr.contains("mail would come from both"), "\(twice.stderr)")
        let idle = try CLI.run(s.importArguments(archive, targets: [
            "--target", "imap://127.0.0.1:\(s.mailTarget.imapPort)", "--target", "sieve://127.0.0.1:\(s.mailTarget.sievePort)",
        ], journal: "journal-3") + ["--types", "mail"])
        #expect(idle.status == 2 && idle.stderr.contains("serves none of the types of this run"), "\(idle.stderr)")
        let unknown = try CLI.run(s.importArguments(archive, targets: mailOnly, journal: "journal-3") + ["--types", "mail,notes"])
        #expect(unknown.status == 2 && unknown.stderr.contains("\"notes\" is not a type"), "\(unknown.stderr)")
    }
}
