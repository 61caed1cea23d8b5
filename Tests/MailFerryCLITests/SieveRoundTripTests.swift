import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// ManageSieve (RFC 5804) as source and target: scripts put into one real Dovecot with Pigeonhole by an independent
/// Python client on a raw socket (`managesieve_client.py`), exported from it through `sieve://`, imported into a
/// second one, and read back from both by that Python client, which compares bytes and the active script.
@Suite(.serialized, .blocking) struct SieveRoundTripTests {
    static let password = "alice-Sieve-4711"
    static let adminPassword = "admin-Sieve-2342"
    static let client = CLI.repositoryRoot + "/Tests/MailFerryCLITests/managesieve_client.py"
    static let hostile = CLI.repositoryRoot + "/Tests/MailFerryCLITests/hostile_managesieve.py"
    static let user = "alice@example.com"

    final class Stations {
        let work: Workspace
        let source: DovecotIMAPServer
        let target: DovecotIMAPServer
        /// The user's own password.
        let credentials: String
        /// An admin acting for the user with SASL PLAIN and an authorization identity.
        let saslAdmin: String
        /// An admin logging in as `user*admin` (Dovecot's master user).
        let masterAdmin: String
        let journal: String

        init(targetExtensions: String? = nil) throws {
            work = try Workspace()
            let users: [DovecotIMAPServer.User] = [.init(SieveRoundTripTests.user, SieveRoundTripTests.password)]
            let admin = DovecotIMAPServer.User("admin", SieveRoundTripTests.adminPassword)
            source = try DovecotIMAPServer(users: users, masterUser: admin, sieve: true)
            target = try DovecotIMAPServer(users: users, masterUser: admin, sieve: true, sieveExtensions: targetExtensions)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("\(SieveRoundTripTests.user)\t\(SieveRoundTripTests.password)\n", to: credentials)
            saslAdmin = work.file("sasl.tsv")
            try CredentialsFile.write("*\tadmin\t\(SieveRoundTripTests.adminPassword)\tsasl\n", to: saslAdmin)
            masterAdmin = work.file("master.tsv")
            try CredentialsFile.write("*\tadmin\t\(SieveRoundTripTests.adminPassword)\tmaster\n", to: masterAdmin)
            journal = work.file("journal")
            let keygen = try CLI.run(["keygen", "--out", work.file("k")])
            #expect(keygen.status == 0)
        }

        func url(_ server: DovecotIMAPServer) -> String { "sieve://127.0.0.1:\(server.sievePort)" }

        /// Puts a script into `server` with the Python client.
        func put(_ server: DovecotIMAPServer, _ name: String, _ bytes: [UInt8], active: Bool = false) throws {
            let file = work.file("put-\(name)")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let r = try Python.run(
                [SieveRoundTripTests.client, "127.0.0.1", "\(server.sievePort)", server.caFile, SieveRoundTripTests.user,
                 SieveRoundTripTests.password, "put", name, file] + (active ? ["active"] : []))
            #expect(r.status == 0, "\(r.stderr)")
        }

        /// Every script of the user on `server` as the Python client reads it, by name.
        func dump(_ server: DovecotIMAPServer) throws -> [String: Script] {
            let directory = work.file("dump-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let r = try Python.run([
                SieveRoundTripTests.client, "127.0.0.1", "\(server.sievePort)", server.caFile, SieveRoundTripTests.user,
                SieveRoundTripTests.password, "dump", directory,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
            return object.mapValues {
                Script(active: $0["active"] as? Bool ?? false, sha256: $0["sha256"] as? String ?? "", size: $0["size"] as? Int ?? -1)
            }
        }

        func export(credentials: String, out: String) throws -> CLI.Result {
            try CLI.run([
                "export", "--source", url(source), "--user", SieveRoundTripTests.user, "--credentials", credentials,
                "--ca-file", source.caFile, "--sign-key", work.file("k.key.pem"), "--out", out,
            ])
        }

        func importArguments(_ archive: String, credentials: String, journal: String? = nil) -> [String] {
            ["import", archive, "--trust", work.file("k.pub.pem"), "--target", url(target), "--credentials", credentials,
             "--ca-file", target.caFile, "--journal", journal ?? self.journal]
        }
    }

    struct Script: Equatable {
        var active: Bool
        var sha256: String
        var size: Int
    }

    static func report(_ output: CLI.Result) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// An active script, one with non-ASCII text and mixed CRLF and LF line ends, and a large one.
    static let scripts: [(name: String, bytes: [UInt8], active: Bool)] = [
        ("filters", Array("require \"fileinto\";\r\nif header :contains \"subject\" \"[list]\" {\r\n  fileinto \"INBOX\";\r\n}\r\n".utf8), true),
        ("Grüße", Array("# Grüße aus Köln – 日本語\r\nif header :contains \"subject\" \"Café\" {\n  keep;\r\n}\n".utf8), false),
        ("large", Array((0..<6000).map { "# comment line \($0) of a large script, to make it about 300 KB\r\n" }.joined().utf8) + Array("keep;\r\n".utf8), false),
    ]

    @Test func scriptsArriveByteForByteWithTheActiveOneAndAreNotWrittenTwice() throws {
        let s = try Stations()
        for script in Self.scripts { try s.put(s.source, script.name, script.bytes, active: script.active) }
        let before = try s.dump(s.source)
        #expect(before.count == 3 && before.filter(\.value.active).map(\.key) == ["filters"], "\(before)")
        for script in Self.scripts { #expect(before[script.name]?.size == script.bytes.count) }

        // The admin acts for the user: SASL PLAIN with an authorization identity at the source, Dovecot's master
        // login at the target.
        let archive = s.work.file("a.mfa")
        let export = try s.export(credentials: s.saslAdmin, out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("sieve scripts 3"), "\(export.stdout)")
        #expect(!export.stdout.contains(Self.adminPassword) && !export.stderr.contains(Self.adminPassword))

        let imported = try CLI.run(s.importArguments(archive, credentials: s.masterAdmin) + ["--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try Self.report(imported)
        #expect(report["verdict"] as? String == "pass", "\(imported.stdout.prefix(3000))")
        #expect((report["imported"] as? [String: Any])?["written"] as? Int == 3)
        #expect(try s.dump(s.target) == before)

        // Again, as a repair: everything is there with the same bytes, so nothing is written.
        let again = try CLI.run(s.importArguments(archive, credentials: s.credentials) + ["--reimport", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let counts = try Self.report(again)["imported"] as? [String: Any]
        #expect(counts?["written"] as? Int == 0 && counts?["alreadyPresent"] as? Int == 3, "\(String(describing: counts))")
        #expect(try s.dump(s.target) == before)
    }

    /// The reconcile reads the target back: a script changed there behind the import's back fails the user.
    @Test func theReconcileComparesBytesAndTheActiveScript() throws {
        let s = try Stations()
        for script in Self.scripts.prefix(2) { try s.put(s.source, script.name, script.bytes, active: script.active) }
        let archive = s.work.file("a.mfa")
        #expect(try s.export(credentials: s.credentials, out: archive).status == 0)
        #expect(try CLI.run(s.importArguments(archive, credentials: s.credentials)).status == 0)
        // The other script made active at the target, and the first one's bytes changed.
        try s.put(s.target, "Grüße", Self.scripts[1].bytes, active: true)
        try s.put(s.target, "filters", Array("keep;\r\n".utf8))
        let reconcile = try CLI.run([
            "reconcile", archive, "--trust", s.work.file("k.pub.pem"), "--target", s.url(s.target), "--credentials", s.credentials,
            "--ca-file", s.target.caFile, "--json",
        ])
        #expect(reconcile.status == 1, "\(reconcile.stdout.prefix(2000)) \(reconcile.stderr)")
        let report = try Self.report(reconcile)
        #expect(report["verdict"] as? String == "fail", "\(reconcile.stdout.prefix(2000))")
        #expect(reconcile.stdout.contains("filters") && reconcile.stdout.contains("active"), "\(reconcile.stdout.prefix(3000))")
    }

    /// A script the target cannot run (it lacks an extension the script requires) is refused at CHECKSCRIPT: a bad
    /// item with the server's reason, the others imported, never a stored broken filter.
    @Test func aScriptTheTargetCannotRunIsABadItemAndTheOthersArrive() throws {
        let s = try Stations(targetExtensions: "-imap4flags")
        try s.put(s.source, "flags", Array("require \"imap4flags\";\r\naddflag \"\\\\Seen\";\r\n".utf8))
        for script in Self.scripts.prefix(2) { try s.put(s.source, script.name, script.bytes, active: script.active) }
        let archive = s.work.file("a.mfa")
        #expect(try s.export(credentials: s.credentials, out: archive).status == 0)

        let stopped = try CLI.run(s.importArguments(archive, credentials: s.credentials))
        #expect(stopped.status == 3, "\(stopped.stdout) \(stopped.stderr)")
        #expect(stopped.stderr.contains("CHECKSCRIPT") && stopped.stderr.contains("--max-bad-items"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("imap4flags"), "the server's own words: \(stopped.stderr)")

        let allowed = try CLI.run(s.importArguments(archive, credentials: s.credentials) + ["--max-bad-items", "1", "--json"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let report = try Self.report(allowed)
        #expect(report["verdict"] as? String == "pass", "\(allowed.stdout.prefix(3000))")
        let bad = (report["imported"] as? [String: Any])?["badItems"] as? [[String: Any]] ?? []
        #expect(bad.count == 1 && (bad.first?["reason"] as? String)?.contains("imap4flags") == true, "\(bad)")
        let held = try s.dump(s.target)
        #expect(Set(held.keys) == ["filters", "Grüße"], "\(held)")
        #expect(held.filter(\.value.active).map(\.key) == ["filters"])
    }

    /// Killed with SIGKILL part way, run again: every script exactly once, the active one active.
    @Test func anImportKilledPartWayFinishesWithEveryScriptOnce() throws {
        let s = try Stations()
        let count = 300
        let seeded = try Python.run([
            Self.client, "127.0.0.1", "\(s.source.sievePort)", s.source.caFile, Self.user, Self.password, "put-many", "s", "\(count)",
        ])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let before = try s.dump(s.source)
        #expect(before.count == count)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(credentials: s.credentials, out: archive).status == 0)

        // Pigeonhole keeps each script as sieve/NAME.sieve in the user's home.
        let scriptFolder = s.target.home(Self.user) + "/sieve"
        func stored() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: scriptFolder)) ?? []).filter { $0.hasSuffix(".sieve") }.count
        }
        let process = try CLI.start(s.importArguments(archive, credentials: s.credentials))
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline && stored() < count / 3 { usleep(1000) }
        let interrupted = process.isRunning
        if interrupted { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(interrupted, "the import finished before it could be killed")
        let partial = stored()
        #expect(partial > 0 && partial < count, "\(partial) of \(count) stored when killed")

        let resumed = try CLI.run(s.importArguments(archive, credentials: s.credentials) + ["--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let report = try Self.report(resumed)
        #expect(report["verdict"] as? String == "pass")
        let counts = report["imported"] as? [String: Any]
        let written = counts?["written"] as? Int ?? -1, present = counts?["alreadyPresent"] as? Int ?? -1
        #expect(written + present == count && present >= partial - 1 && written < count, "written \(written), present \(present)")
        #expect(try s.dump(s.target) == before)
    }

    /// A delta export carries a changed and a new script and the deletion of another; its import puts the target
    /// in the source's state, the new active script active.
    @Test func aDeltaMovesChangedNewAndDeletedScripts() throws {
        let s = try Stations()
        for script in Self.scripts.prefix(2) { try s.put(s.source, script.name, script.bytes, active: script.active) }
        let full = s.work.file("a.mfa")
        #expect(try s.export(credentials: s.credentials, out: full).status == 0)
        #expect(try CLI.run(s.importArguments(full, credentials: s.credentials)).status == 0)

        try s.put(s.source, "filters", Array("# changed\r\nkeep;\r\n".utf8), active: true)
        try s.put(s.source, "extra", Array("discard;\r\n".utf8), active: true)
        let deleted = try Python.run([
            Self.client, "127.0.0.1", "\(s.source.sievePort)", s.source.caFile, Self.user, Self.password, "delete", "Grüße",
        ])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let after = try s.dump(s.source)
        #expect(Set(after.keys) == ["filters", "extra"] && after["extra"]?.active == true, "\(after)")

        let delta = s.work.file("d.mfa")
        let export = try CLI.run([
            "export", "--source", s.url(s.source), "--user", Self.user, "--credentials", s.credentials, "--ca-file", s.source.caFile,
            "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta,
        ])
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try CLI.run(s.importArguments(delta, credentials: s.credentials) + ["--json"])
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        #expect(try Self.report(imported)["verdict"] as? String == "pass")
        #expect(try s.dump(s.target) == after)
    }

    /// Scripts from a `dir:` tree go into a ManageSieve server with the active one. An archive that holds mail as
    /// well goes into a ManageSieve target and an IMAP target of the same server: each takes what it holds and lists
    /// the rest as not imported, and the reconcile fails the user while anything was left behind.
    @Test func scriptsFromADirectoryTreeArriveAndWhatATargetCannotHoldIsListedNotImported() throws {
        let s = try Stations()
        let home = s.work.file("tree/\(Self.user)")
        try FileManager.default.createDirectory(atPath: home + "/sieve", withIntermediateDirectories: true)
        for script in Self.scripts { try Data(script.bytes).write(to: URL(fileURLWithPath: "\(home)/sieve/\(script.name).sieve")) }
        try FileManager.default.createSymbolicLink(atPath: home + "/.dovecot.sieve", withDestinationPath: "sieve/filters.sieve")
        let archive = s.work.file("tree.mfa")
        let export = try CLI.run(["export", "--source", "dir:" + s.work.file("tree"), "--sign-key", s.work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try CLI.run(s.importArguments(archive, credentials: s.credentials) + ["--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try Self.report(imported)["verdict"] as? String == "pass")
        let held = try s.dump(s.target)
        #expect(held.count == 3 && held.filter(\.value.active).map(\.key) == ["filters"], "\(held)")
        for script in Self.scripts { #expect(held[script.name]?.size == script.bytes.count) }

        // The same user with a message too, into a fresh server's ManageSieve and IMAP.
        for sub in ["cur", "new", "tmp"] { try FileManager.default.createDirectory(atPath: "\(home)/Maildir/\(sub)", withIntermediateDirectories: true) }
        try Data("From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n".utf8).write(to: URL(fileURLWithPath: "\(home)/Maildir/cur/1.host:2,S"))
        let mixed = s.work.file("mixed.mfa")
        #expect(try CLI.run(["export", "--source", "dir:" + s.work.file("tree"), "--sign-key", s.work.file("k.key.pem"), "--out", mixed]).status == 0)
        let fresh = try DovecotIMAPServer(users: [.init(Self.user, Self.password)], sieve: true)
        for (url, left, kind) in [
            ("sieve://127.0.0.1:\(fresh.sievePort)", 1, "message"), ("imaps://127.0.0.1:\(fresh.imapsPort)", 3, "Sieve script"),
        ] {
            let r = try CLI.run([
                "import", mixed, "--trust", s.work.file("k.pub.pem"), "--target", url, "--credentials", s.credentials,
                "--ca-file", fresh.caFile, "--journal", s.work.file("journal-fresh"), "--json",
            ])
            #expect(r.status == 1, "\(url): \(r.stdout.prefix(2000)) \(r.stderr)")
            let report = try Self.report(r)
            #expect(report["verdict"] as? String == "fail", "\(url)")
            let counts = report["imported"] as? [String: Any]
            let notImported = counts?["notImported"] as? [[String: Any]] ?? []
            #expect(notImported.count == left && notImported.allSatisfy { $0["folder"] as? String == kind }, "\(url): \(notImported)")
            #expect(counts?["written"] as? Int == 4 - left, "\(url): \(String(describing: counts))")
            let problems = (report["users"] as? [[String: Any]])?.first?["problems"] as? [String] ?? []
            #expect(problems.contains { $0.contains("not imported") && $0.contains(url) }, "\(url): \(problems)")
        }
        let scripts = try Python.run([
            Self.client, "127.0.0.1", "\(fresh.sievePort)", fresh.caFile, Self.user, Self.password, "dump", s.work.path,
        ])
        #expect(scripts.status == 0 && scripts.stdout.contains("\"filters\": {\"active\": true"), "\(scripts.stdout) \(scripts.stderr)")
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() throws {
        let s = try Stations()
        let wrong = s.work.file("wrong.tsv")
        try CredentialsFile.write("\(Self.user)\tnot-the-Password-99\n", to: wrong)
        let export = try s.export(credentials: wrong, out: s.work.file("a.mfa"))
        #expect(export.status == 3, "\(export.stdout) \(export.stderr)")
        #expect(export.stderr.contains("AUTHENTICATE") && export.stderr.contains("refused the login"), "\(export.stderr)")
        #expect(!export.stderr.contains("not-the-Password-99"))
        #expect(!FileManager.default.fileExists(atPath: s.work.file("a.mfa")))
    }
}

/// Servers that misbehave: stand-ins in Python, without TLS.
@Suite(.serialized, .blocking) struct HostileManageSieveTests {
    static func export(_ server: ListeningScript, _ work: Workspace, _ extra: [String]) throws -> CLI.Result {
        _ = try CLI.run(["keygen", "--out", work.file("k")])
        let credentials = work.file("c.tsv")
        try CredentialsFile.write("alice@example.com\tsecret-Hostile-1\n", to: credentials)
        return try ProcessRunner.run("/usr/bin/time", ["-f", "maxrss %M", CLI.binary,
            "export", "--source", "sieve://127.0.0.1:\(server.port)", "--user", "alice@example.com", "--credentials", credentials,
            "--sign-key", work.file("k.key.pem"), "--out", work.file("a.mfa")] + extra + (extra.contains("--timeout") ? [] : ["--timeout", "20"]))
    }

    /// A literal announced as 5 GB is refused when its `{N}` arrives; the 64 MiB the server sends after it are
    /// never kept.
    @Test func aHugeLiteralIsRefusedWithBoundedMemory() throws {
        let work = try Workspace()
        let server = try ListeningScript(SieveRoundTripTests.hostile, ["huge-literal"])
        let r = try Self.export(server, work, ["--allow-plaintext"])
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("GETSCRIPT") && r.stderr.contains("5000000000 bytes"), "\(r.stderr)")
        let rss = r.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss ") }.flatMap { Int($0.dropFirst(7)) } ?? 0
        #expect(rss > 0 && rss < 64 * 1024, "peak RSS \(rss) KiB")
        #expect(!FileManager.default.fileExists(atPath: work.file("a.mfa")))
    }

    /// A server that accepts the connection and says nothing ends the export after --timeout, with exit 3.
    @Test func aSilentServerEndsTheCommandAfterTheTimeout() throws {
        let work = try Workspace()
        let server = try ListeningScript(SieveRoundTripTests.hostile, ["silent"])
        let r = try Self.export(server, work, ["--allow-plaintext", "--timeout", "2"])
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("greeting") && r.stderr.contains("no response within 2"), "\(r.stderr)")
    }

    /// No STARTTLS offered: no password is sent unless --allow-plaintext.
    @Test func noPasswordGoesInTheClearUnlessAllowed() throws {
        let work = try Workspace()
        let server = try ListeningScript(SieveRoundTripTests.hostile, ["huge-literal"])
        let r = try Self.export(server, work, [])
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("not sending a password without TLS") && r.stderr.contains("--allow-plaintext"), "\(r.stderr)")
    }

    /// A server that echoes the SASL PLAIN blob in its NO: the password is taken out in every form it was sent.
    @Test func aServerEchoingTheLoginHasThePasswordRedacted() throws {
        let work = try Workspace()
        let server = try ListeningScript(SieveRoundTripTests.hostile, ["echo-login"])
        let r = try Self.export(server, work, ["--allow-plaintext"])
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        let blob = Data("\u{0}alice@example.com\u{0}secret-Hostile-1".utf8).base64EncodedString()
        #expect(r.stderr.contains("[redacted]") && !r.stderr.contains(blob) && !r.stderr.contains("secret-Hostile-1"), "\(r.stderr)")
    }
}
