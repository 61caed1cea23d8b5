import Foundation
import Testing
import TestSupport

/// One migration over several servers: mail from a Dovecot's IMAP, contacts and calendars from Radicale and filters
/// from the same Dovecot's ManageSieve go into one archive (`--source` three times), and from it into another
/// Dovecot (IMAP and ManageSieve) and Xandikos (`--target` three times), with one reconcile and one receipt per user
/// over every type. Independent clients read both sides back: imaplib, a raw-`http.client` DAV client and a raw
/// ManageSieve client.
@Suite(.serialized, .blocking) struct SeveralSystemsMigrationTests {
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

    /// Two users, one renamed (alice@example.com becomes alice.new@example.net), a meeting between them, a contact
    /// group naming alice, and bob's filters forwarding to her; mail, contacts, calendars and filters from Dovecot,
    /// Radicale and Pigeonhole into another Dovecot, Radicale and Pigeonhole in one run each way. At the target the
    /// meeting is in both calendars with the same UID, alice's new address as organizer in both copies and bob's
    /// PARTSTAT kept in his; the group and the script name her new address; mail arrives as it was; every user's
    /// reconcile passes. (The target's DAV server is a second Radicale here: Xandikos serves one principal.)
    @Test func twoUsersOneRenamedWithAMeetingBetweenThem() throws {
        let work = try Workspace()
        let alice = "alice@example.com", bob = "bob@example.com", renamed = "alice.new@example.net"
        let password = Self.password
        let mailSource = try DovecotIMAPServer(users: [.init(alice, password), .init(bob, password)], sieve: true)
        let mailTarget = try DovecotIMAPServer(users: [.init(renamed, password), .init(bob, password)], sieve: true)
        let davSource = try DAVTestServer.radicale(users: [(alice, password), (bob, password)])
        let davTarget = try DAVTestServer.radicale(users: [(renamed, password), (bob, password)])
        let credentials = work.file("credentials.tsv")
        try CredentialsFile.write([alice, bob, renamed].map { "\($0)\t\(password)\n" }.joined(), to: credentials)
        let cas = work.file("cas.pem")
        try ([mailSource.caFile, davSource.caFile, mailTarget.caFile, davTarget.caFile].map { try String(contentsOfFile: $0, encoding: .utf8) })
            .joined().write(toFile: cas, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        func dav(_ server: DAVTestServer, _ user: String, _ arguments: [String]) throws -> CLI.Result {
            try ProcessRunner.run("/usr/bin/python3", [DAVRoundTripTests.client, server.base, user, password] + arguments, adding: ["DAV_CA": server.caFile])
        }
        func file(_ name: String, _ text: String) throws -> String {
            let path = work.file(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        // The source: mail for both, the fixture collections for both, a meeting alice organises with bob (who
        // accepted) in both calendars, bob's contact group naming alice, bob's filter forwarding to her.
        for (user, seed) in [(alice, "11"), (bob, "12")] {
            let load = try Python.run([
                IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(mailSource.imapPort)", user, password, mailSource.caFile, seed, "12", "0",
            ])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(try dav(davSource, user, ["seed"]).status == 0)
        }
        let meeting = { (partstat: String) in
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:planning-2026\r\nDTSTAMP:20260101T000000Z\r\n"
                + "DTSTART:20260115T090000Z\r\nDTEND:20260115T100000Z\r\nSUMMARY:Planning\r\nORGANIZER;CN=Alice:mailto:\(alice)\r\n"
                + "ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:\(alice)\r\nATTENDEE;CN=Bob;PARTSTAT=\(partstat):mailto:\(bob)\r\n"
                + "END:VEVENT\r\nEND:VCALENDAR\r\n"
        }
        #expect(try dav(davSource, alice, ["put", "work", "planning.ics", file("alice-planning.ics", meeting("NEEDS-ACTION"))]).status == 0)
        #expect(try dav(davSource, bob, ["put", "work", "planning.ics", file("bob-planning.ics", meeting("ACCEPTED"))]).status == 0)
        let group = "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nUID:team-9\r\nFN:Team\r\nMEMBER:mailto:\(alice)\r\nMEMBER:urn:uuid:bob-1\r\nEND:VCARD\r\n"
        #expect(try dav(davSource, bob, ["put", "contacts", "team.vcf", file("team.vcf", group)]).status == 0)
        let script = "require [\"copy\"];\r\nredirect :copy \"\(alice)\";\r\n"
        let put = try Python.run([
            SieveRoundTripTests.client, "127.0.0.1", "\(mailSource.sievePort)", mailSource.caFile, bob, password, "put", "forward",
            file("forward.sieve", script), "active",
        ])
        #expect(put.status == 0, "\(put.stderr)")

        let map = try file("map.csv", "source,target\n\(alice),\(renamed)\n")
        let archive = work.file("both.mfa")
        let export = try CLI.run([
            "export", "--source", "imap://127.0.0.1:\(mailSource.imapPort)", "--source", "davs://127.0.0.1:\(davSource.port)",
            "--source", "sieve://127.0.0.1:\(mailSource.sievePort)", "--user", alice, "--user", bob, "--map", map,
            "--credentials", credentials, "--ca-file", cas, "--sign-key", work.file("k.key.pem"), "--out", archive,
        ])
        #expect(export.status == 0, "\(export.stdout) \(export.stderr)")
        let imported = try CLI.run([
            "import", archive, "--trust", work.file("k.pub.pem"), "--target", "imap://127.0.0.1:\(mailTarget.imapPort)",
            "--target", "davs://127.0.0.1:\(davTarget.port)", "--target", "sieve://127.0.0.1:\(mailTarget.sievePort)",
            "--credentials", credentials, "--ca-file", cas, "--journal", work.file("journal"), "--json",
        ])
        #expect(imported.status == 0, "\(imported.stdout.suffix(3000)) \(imported.stderr)")
        let report = try Self.json(imported)
        #expect(report["verdict"] as? String == "pass")
        let users = (report["users"] as? [[String: Any]] ?? []).map { "\($0["address"] ?? "") \($0["targetAddress"] ?? "-") \($0["verdict"] ?? "")" }
        #expect(Set(users) == ["\(alice) \(renamed) pass", "\(bob) - pass"], "\(users)")

        // The meeting: one UID in both calendars, alice's new address as organizer and attendee, bob's PARTSTAT kept.
        let alicesCopy = try dav(davTarget, renamed, ["get", "work", "planning.ics"]).stdout
        let bobsCopy = try dav(davTarget, bob, ["get", "work", "planning.ics"]).stdout
        // Radicale keeps objects in its own property order: compared by their content lines.
        func lines(_ text: String) -> [String] { text.split(whereSeparator: \.isNewline).map(String.init).sorted() }
        #expect(lines(alicesCopy) == lines(meeting("NEEDS-ACTION").replacingOccurrences(of: "mailto:\(alice)", with: "mailto:\(renamed)")), "\(alicesCopy)")
        #expect(lines(bobsCopy) == lines(meeting("ACCEPTED").replacingOccurrences(of: "mailto:\(alice)", with: "mailto:\(renamed)")), "\(bobsCopy)")
        let groupThere = try dav(davTarget, bob, ["get", "contacts", "team.vcf"]).stdout
        #expect(lines(groupThere) == lines(group.replacingOccurrences(of: "mailto:\(alice)", with: "mailto:\(renamed)")), "\(groupThere)")
        let dump = work.file("bob-scripts")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        let scripts = try Python.run([SieveRoundTripTests.client, "127.0.0.1", "\(mailTarget.sievePort)", mailTarget.caFile, bob, password, "dump", dump])
        #expect(scripts.status == 0 && scripts.stdout.contains("\"active\": true"), "\(scripts.stdout) \(scripts.stderr)")
        #expect(try String(contentsOfFile: dump + "/forward", encoding: .utf8) == script.replacingOccurrences(of: alice, with: renamed))

        // Mail as it was, in alice's new mailbox and in bob's.
        for (from, to) in [(alice, renamed), (bob, bob)] {
            let source = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(mailSource.imapPort)", from, password, mailSource.caFile])
            let target = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(mailTarget.imapPort)", to, password, mailTarget.caFile])
            // Folder ACLs name the renamed user by her new address (the mapping rewrites ACL identifiers).
            let expected = source.stdout.replacingOccurrences(of: "\"\(alice)\"", with: "\"\(renamed)\"")
            #expect(source.status == 0 && target.status == 0 && expected == target.stdout, "\(from): \(source.stdout.prefix(600)) \(target.stdout.prefix(600))")
        }

        // The organizer's event gone at the target: her reconcile misses it, and bob's names his copy as unlinked.
        #expect(try dav(davTarget, renamed, ["delete", "work", "planning.ics"]).status == 0)
        let check = try CLI.run([
            "reconcile", archive, "--trust", work.file("k.pub.pem"), "--target", "imap://127.0.0.1:\(mailTarget.imapPort)",
            "--target", "davs://127.0.0.1:\(davTarget.port)", "--target", "sieve://127.0.0.1:\(mailTarget.sievePort)",
            "--credentials", credentials, "--ca-file", cas, "--journal", work.file("journal"), "--json",
        ])
        #expect(check.status == 1, "\(check.stdout.suffix(2000)) \(check.stderr)")
        let checked = (try Self.json(check)["users"] as? [[String: Any]] ?? [])
        let bobs = (checked.first { $0["address"] as? String == bob }?["problems"] as? [String] ?? []).joined(separator: "\n")
        #expect(bobs.contains("planning.ics (Planning) is an attendee's copy of a meeting \(renamed) organises (UID planning-2026)"), "\(bobs)")
        #expect(checked.first { $0["address"] as? String == bob }?["verdict"] as? String == "pass")
        #expect(checked.first { $0["address"] as? String == alice }?["verdict"] as? String == "fail")
    }
}
