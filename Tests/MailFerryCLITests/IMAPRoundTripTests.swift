import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Export from one real Dovecot and import into another through the built binary; Python's imaplib loads the
/// source and compares both servers, so MailFerry's IMAP client never checks itself.
@Suite(.serialized, .blocking) struct IMAPRoundTripTests {
    static let password = "alice-Secret-4711"
    static let bobPassword = "bob-Secret-0815"
    static let adminPassword = "admin-Secret-2342"
    static let fixture = CLI.repositoryRoot + "/Tests/MailFerryCLITests/imap_fixture.py"

    /// Two servers with the same users, the keys and a credentials file.
    final class Stations {
        let work: Workspace
        let source: DovecotIMAPServer
        let target: DovecotIMAPServer
        let credentials: String
        let adminCredentials: String
        let journal: String

        /// `targetMaxMailSize`: the largest message the target takes (Dovecot's `mail_max_size`, e.g. "500k").
        /// `plaintextSource`: a source without TLS (passwords in the clear), for relays that write into the stream.
        init(targetMaxMailSize: String? = nil, plaintextSource: Bool = false) throws {
            work = try Workspace()
            let users: [DovecotIMAPServer.User] = [
                .init("alice@example.com", IMAPRoundTripTests.password), .init("bob@example.com", IMAPRoundTripTests.bobPassword),
            ]
            source = try DovecotIMAPServer(
                users: users, masterUser: .init("admin", IMAPRoundTripTests.adminPassword), allowPlaintextAuth: plaintextSource,
                tls: !plaintextSource)
            target = try DovecotIMAPServer(
                users: users, masterUser: .init("admin", IMAPRoundTripTests.adminPassword), maxMailSize: targetMaxMailSize)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("alice@example.com\t\(IMAPRoundTripTests.password)\nbob@example.com\t\(IMAPRoundTripTests.bobPassword)\n", to: credentials)
            adminCredentials = work.file("admin.tsv")
            try CredentialsFile.write("*\tadmin\t\(IMAPRoundTripTests.adminPassword)\tmaster\n", to: adminCredentials)
            journal = work.file("journal")
            let keygen = try CLI.run(["keygen", "--out", work.file("k")])
            #expect(keygen.status == 0)
        }

        var sourceURL: String { "imap://127.0.0.1:\(source.imapPort)" }

        /// The CA file Python's fixtures check a server against, "-" for a server without TLS.
        static func caFile(_ server: DovecotIMAPServer) -> String { server.tls ? server.caFile : "-" }
        var targetURL: String { "imaps://127.0.0.1:\(target.imapsPort)" }

        func load(_ server: DovecotIMAPServer, user: String = "alice@example.com", password: String = IMAPRoundTripTests.password, seed: Int, count: Int, bigMB: Int = 0) throws {
            let r = try Python.run([IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(server.imapPort)", user, password, Self.caFile(server), "\(seed)", "\(count)", "\(bigMB)"])
            #expect(r.status == 0, "\(r.stderr)")
        }

        func dump(_ server: DovecotIMAPServer, user: String = "alice@example.com", password: String = IMAPRoundTripTests.password) throws -> String {
            let r = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(server.imapPort)", user, password, Self.caFile(server)])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }

        func count(_ server: DovecotIMAPServer) throws -> Int {
            let r = try Python.run([IMAPRoundTripTests.fixture, "count", "127.0.0.1", "\(server.imapPort)", "alice@example.com", IMAPRoundTripTests.password, Self.caFile(server)])
            return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }

        func export(users: [String] = ["--user", "alice@example.com"], credentials: String? = nil, out: String) throws -> CLI.Result {
            try CLI.run(["export", "--source", sourceURL] + users + [
                "--credentials", credentials ?? self.credentials, "--ca-file", source.caFile,
                "--sign-key", work.file("k.key.pem"), "--out", out,
            ])
        }

        func importArguments(_ archive: String, credentials: String? = nil) -> [String] {
            ["import", archive, "--trust", work.file("k.pub.pem"), "--target", targetURL,
             "--credentials", credentials ?? self.credentials, "--ca-file", target.caFile, "--journal", journal]
        }
    }

    @Test func aVariedMailboxArrivesByteForByteWithFlagsKeywordsDatesAndFolders() throws {
        let s = try Stations()
        try s.load(s.source, seed: 7, count: 150, bigMB: 6)
        let archive = s.work.file("a.mfa")
        let export = try s.export(out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("messages 150"), "\(export.stdout)")

        let imported = try CLI.run(s.importArguments(archive) + ["--report", s.work.file("r.json"), "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any]
        #expect(report?["verdict"] as? String == "pass", "\(imported.stdout.prefix(3000))")
        let counts = report?["imported"] as? [String: Any]
        #expect(counts?["written"] as? Int == 150)
        // Where each message went is not listed in the JSON (a report of a large mailbox stays small): it names the
        // identity map's CSV, which holds every row (checked below, by Python).
        #expect(counts?["placements"] == nil)
        let mapFiles = report?["identityMapFiles"] as? [String: String]
        #expect(mapFiles == ["alice@example.com": s.work.file("r.alice@example.com.map.csv")], "\(String(describing: mapFiles))")
        // And every folder, with its name and UIDVALIDITY at the target.
        let folders = (counts?["folderPlacements"] as? [String: Any])?["alice@example.com"] as? [[String: Any]] ?? []
        #expect(folders.count >= 8, "\(folders)")  // the fixture's eight and those the test Dovecot makes
        #expect(folders.contains { ($0["source"] as? [String]) == ["Archive", "2019", "Q1 Reports"] && $0["folder"] as? String == "Archive/2019/Q1 Reports" })
        #expect(folders.allSatisfy { $0["uidValidity"] is Int })
        // The identity map beside the report, read by Python's csv: each row's source GUID is the source's X-GUID
        // at its source UID, and its target UID (APPENDUID) holds the same bytes on the target.
        let mapCheck = try Python.run([
            Self.fixture, "check-map", s.work.file("r.alice@example.com.map.csv"), "127.0.0.1", "\(s.source.imapPort)",
            "\(s.target.imapPort)", "alice@example.com", Self.password, s.source.caFile, s.target.caFile,
        ])
        let checked = try JSONSerialization.jsonObject(with: Data(mapCheck.stdout.utf8)) as? [String: Any]
        #expect(checked?["messages"] as? Int == 150, "\(mapCheck.stdout)\(mapCheck.stderr)")
        #expect(checked?["folders"] as? Int == folders.count)
        #expect((checked?["problems"] as? [String])?.isEmpty == true, "\(mapCheck.stdout)")

        let before = try s.dump(s.source)
        let after = try s.dump(s.target)
        #expect(!before.isEmpty && before == after)

        // Again: nothing is added, and reconcile on its own passes.
        let again = try CLI.run(s.importArguments(archive) + ["--reimport"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("imported: 0 items written"), "\(again.stdout)")
        #expect(try s.dump(s.target) == before)
        var reconcile = s.importArguments(archive)
        reconcile[0] = "reconcile"
        let check = try CLI.run(reconcile)
        #expect(check.status == 0 && check.stdout.contains("verdict: PASS"), "\(check.stdout) \(check.stderr)")

        // No password in the archive, its listing or anything printed.
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["--zstd", "-xOf", archive]
        let pipe = Pipe()
        tar.standardOutput = pipe
        try tar.run()
        let everything = pipe.fileHandleForReading.readDataToEndOfFile()
        tar.waitUntilExit()
        #expect(everything.count > 24_000_000)
        let secret = Data(IMAPRoundTripTests.password.utf8)
        #expect(everything.range(of: secret) == nil)
        for output in [export, imported, again, check] {
            #expect(!output.stdout.contains(IMAPRoundTripTests.password) && !output.stderr.contains(IMAPRoundTripTests.password))
        }
    }

    @Test func anImportKilledAtSeveralPointsEndsWithEveryMessageExactlyOnce() throws {
        let s = try Stations()
        let total = 1500
        try s.load(s.source, seed: 11, count: total)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)
        var killed = 0
        for point in [100, 600, 1100] {
            let process = try CLI.start(s.importArguments(archive))
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning && Date() < deadline, try s.count(s.target) < point { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
        }
        #expect(killed >= 2, "the import finished before it could be killed")
        let resumed = try CLI.run(s.importArguments(archive))
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        #expect(resumed.stdout.contains("verdict: PASS"))
        #expect(try s.count(s.target) == total)
        #expect(try s.dump(s.target) == s.dump(s.source))
    }

    @Test func aServerRestartMidExportIsReconnectedAndTheArchiveIsComplete() throws {
        let s = try Stations()
        try s.load(s.source, seed: 3, count: 60, bigMB: 30)
        let archive = s.work.file("a.mfa")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["export", "--source", s.sourceURL, "--user", "alice@example.com",
            "--credentials", s.credentials, "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--out", archive]
        let log = s.work.file("export.stderr")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        // Restart once a good part of the mail has been read, while the export is still reading.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: archive + ".partial")[.size] as? Int) ?? 0
            if size > 2_000_000 { break }
            usleep(5_000)
        }
        #expect(process.isRunning, "the export ended before the restart; the corpus is too small for this machine")
        try s.source.restart()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // The export saw the connection go and came back (between messages, or inside one, from the byte it broke).
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(said.contains("connecting again") || said.contains("fetching the rest from byte"), "\(said)")
        #expect(!said.contains(IMAPRoundTripTests.password))
        let imported = try CLI.run(s.importArguments(archive))
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        let source = try s.dump(s.source)
        let target = try s.dump(s.target)
        #expect(target == source, "export said: \(said)\nimport said: \(imported.stdout)\n\(Self.difference(source, target))")
    }

    /// The lines where two dumps differ, for the failure message.
    static func difference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n"), right = b.split(separator: "\n")
        var lines: [String] = []
        for i in 0..<max(left.count, right.count) where (i < left.count ? left[i] : "") != (i < right.count ? right[i] : "") {
            lines.append("line \(i + 1): source \(i < left.count ? left[i] : "-") | target \(i < right.count ? right[i] : "-")")
            if lines.count > 12 { break }
        }
        return lines.joined(separator: "\n")
    }

    @Test func aServerRestartMidImportIsReconnectedAndEveryMessageArrivesOnce() throws {
        let s = try Stations()
        let total = 1200
        try s.load(s.source, seed: 13, count: total)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = s.importArguments(archive)
        let log = s.work.file("import.out")
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline, try s.count(s.target) < 200 { usleep(20_000) }
        #expect(process.isRunning, "the import ended before the restart")
        try s.target.restart()
        process.waitUntilExit()
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(said)")
        #expect(said.contains("connecting again") || said.contains("checking the"), "\(said)")
        #expect(said.contains("verdict: PASS"), "\(said)")
        #expect(try s.count(s.target) == total)
        #expect(try s.dump(s.target) == s.dump(s.source))
    }

    /// Three messages of about 3.1 MB each (random text, no compression helps) put into `server` by imaplib.
    static func loadLargeMessages(_ s: Stations, into server: DovecotIMAPServer, seed: Int) throws {
        let script = #"""
            import imaplib, ssl, sys, random
            m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
            if sys.argv[2] != '-':
                m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
            m.login(sys.argv[3], sys.argv[4])
            rng = random.Random(int(sys.argv[5]))
            for i in range(3):
                body = b'\r\n'.join(bytes(rng.choice(b'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') for _ in range(76)) for _ in range(40000))
                m.append('INBOX', '(\\Seen)', None, b'Subject: big %d\r\nMessage-ID: <big%d@example.org>\r\n\r\n' % (i, i) + body + b'\r\n')
            m.logout()
            """#
        let load = try Python.run(["-c", script, "\(server.imapPort)", Stations.caFile(server), "alice@example.com", IMAPRoundTripTests.password, "\(seed)"])
        #expect(load.status == 0, "\(load.stderr)")
    }

    /// `Tests/MailFerryCLITests/cutting_proxy.py` in front of a server: it cuts each of its first `connections`
    /// connections once `side` ("client" or "server") has sent more than `cut` bytes there. Killed when the value
    /// goes away.
    static func cuttingRelay(to serverPort: Int, cut: Int, side: String, connections: Int = 1, bye: Bool = false) throws -> ListeningScript {
        try ListeningScript(
            CLI.repositoryRoot + "/Tests/MailFerryCLITests/cutting_proxy.py",
            ["\(serverPort)", "\(cut)", side, "\(connections)"] + (bye ? ["bye"] : []))
    }

    /// Export through a relay that cuts the connection 1.5 MB into the first of three 3.1 MB messages the server
    /// sends: the rest is fetched from that byte (`BODY.PEEK[]<offset>`), after the last 4 KiB already archived were
    /// read again and found the same, and the archive holds every message exactly as the source does.
    /// Cut once, the export fetches the rest of the message; cut twice, the second cut falls inside the rest (each
    /// connection is cut 1.5 MB into what the server sends, a message is about 3.1 MB) and is resumed from there.
    /// With `bye`, each cut connection is first sent `* BYE Server shutting down.` inside the literal, as a Dovecot
    /// being restarted does: those bytes are not the message's and must not reach the archive.
    @Test(arguments: zip([1, 2, 2], [false, false, true]))
    func anExportCutInsideAMessageFetchesTheRestAndSplicesItExactly(cuts: Int, bye: Bool) throws {
        // A relay can write into the stream only without TLS.
        let s = try Stations(plaintextSource: bye)
        try Self.loadLargeMessages(s, into: s.source, seed: 11)
        let relay = try Self.cuttingRelay(to: s.source.imapPort, cut: 1_500_000, side: "server", connections: cuts, bye: bye)
        let archive = s.work.file("a.mfa")
        let export = try CLI.run([
            "export", "--source", "imap://127.0.0.1:\(relay.port)", "--user", "alice@example.com", "--credentials", s.credentials,
            "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--out", archive,
        ] + (bye ? ["--allow-plaintext"] : []))
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.contains("fetching the rest from byte"), "\(export.stderr)")
        if cuts > 1 { #expect(export.stderr.contains("FETCH the rest of UID"), "\(export.stderr)") }
        let imported = try CLI.run(s.importArguments(archive))
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        let source = try s.dump(s.source)
        let target = try s.dump(s.target)
        #expect(source == target, "\(Self.difference(source, target))")
    }

    /// A connection cut while a large message (kept on disk, not in memory) is on its way: the import connects
    /// again, looks the message up and sends it once more, and ends with every message once.
    @Test func aConnectionCutInsideALargeMessageIsResumed() throws {
        let s = try Stations()
        try Self.loadLargeMessages(s, into: s.source, seed: 7)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)

        // The relay cuts the first connection 1.5 MB into the first message (each is about 3.1 MB).
        let relay = try Self.cuttingRelay(to: s.target.imapPort, cut: 1_500_000, side: "client")
        let imported = try CLI.run([
            "import", archive, "--trust", s.work.file("k.pub.pem"), "--target", "imap://127.0.0.1:\(relay.port)",
            "--credentials", s.credentials, "--ca-file", s.target.caFile, "--journal", s.journal,
        ])
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(imported.stderr.contains("connecting again"), "the relay cut the connection: \(imported.stderr)")
        #expect(try s.count(s.target) == 3)
        #expect(try s.dump(s.target) == s.dump(s.source))
    }

    @Test func oneAdminPasswordExportsAndImportsSeveralUsers() throws {
        let s = try Stations()
        try s.load(s.source, seed: 5, count: 30)
        try s.load(s.source, user: "bob@example.com", password: IMAPRoundTripTests.bobPassword, seed: 6, count: 20)
        let users = s.work.file("users.txt")
        try "# the migration set\nalice@example.com\nbob@example.com\n".write(toFile: users, atomically: true, encoding: .utf8)
        let archive = s.work.file("a.mfa")
        let export = try s.export(users: ["--users", users], credentials: s.adminCredentials, out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("messages 50"), "\(export.stdout)")
        // The import goes in through SASL PLAIN with an authorization identity (RFC 4616) instead.
        let sasl = s.work.file("sasl.tsv")
        try CredentialsFile.write("*\tadmin\t\(IMAPRoundTripTests.adminPassword)\tsasl\n", to: sasl)
        // Both users at once, each job reading its own user's part of the archive.
        let imported = try CLI.run(s.importArguments(archive, credentials: sasl) + ["--jobs", "2"])
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(try s.dump(s.target) == s.dump(s.source))
        #expect(try s.dump(s.target, user: "bob@example.com", password: IMAPRoundTripTests.bobPassword)
            == s.dump(s.source, user: "bob@example.com", password: IMAPRoundTripTests.bobPassword))
    }

    @Test func aSentFolderOfAnotherNameGoesIntoTheTargetsOwnSentFolder() throws {
        let work = try Workspace()
        let users: [DovecotIMAPServer.User] = [.init("alice@example.com", IMAPRoundTripTests.password)]
        let source = try DovecotIMAPServer(users: users, sentFolder: "Sent Items")
        let target = try DovecotIMAPServer(users: users)
        let credentials = work.file("c.tsv")
        try CredentialsFile.write("alice@example.com\t\(IMAPRoundTripTests.password)\n", to: credentials)
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let load = try Python.run([Self.fixture, "load", "127.0.0.1", "\(source.imapPort)", "alice@example.com", Self.password, source.caFile, "9", "40", "0"])
        #expect(load.status == 0, "\(load.stderr)")
        let archive = work.file("a.mfa")
        let export = try CLI.run(["export", "--source", "imaps://127.0.0.1:\(source.imapsPort)", "--user", "alice@example.com",
            "--credentials", credentials, "--ca-file", source.caFile, "--sign-key", work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "imap://127.0.0.1:\(target.imapPort)",
            "--credentials", credentials, "--ca-file", target.caFile, "--journal", work.file("j")])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")

        func folders(_ server: DovecotIMAPServer) throws -> [String: Any] {
            let r = try Python.run([Self.fixture, "dump", "127.0.0.1", "\(server.imapPort)", "alice@example.com", Self.password, server.caFile])
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        }
        let before = try folders(source)
        let after = try folders(target)
        #expect(after["Sent Items"] == nil, "a second Sent folder was made")
        let sentBefore = try #require(before["Sent Items"] as? [String: Any])
        let sentAfter = try #require(after["Sent"] as? [String: Any])
        #expect(sentBefore["special_use"] as? [String] == ["\\Sent"] && sentAfter["special_use"] as? [String] == ["\\Sent"])
        let messages = (sentBefore["messages"] as? [[String: Any]])?.compactMap { $0["sha256"] as? String } ?? []
        #expect(!messages.isEmpty)
        #expect((sentAfter["messages"] as? [[String: Any]])?.compactMap { $0["sha256"] as? String } == messages)
    }

    @Test func aWrongPasswordOrAnUntrustedCertificateStopsWithAClearError() throws {
        let s = try Stations()
        let wrong = s.work.file("wrong.tsv")
        try CredentialsFile.write("alice@example.com\tnot-the-password-9\n", to: wrong)
        let denied = try s.export(credentials: wrong, out: s.work.file("x.mfa"))
        #expect(denied.status == 3)
        #expect(denied.stderr.contains("127.0.0.1"), "\(denied.stderr)")
        #expect(!denied.stderr.contains("not-the-password-9"))
        #expect(!FileManager.default.fileExists(atPath: s.work.file("x.mfa")))

        let untrusted = try CLI.run(["export", "--source", s.sourceURL, "--user", "alice@example.com", "--credentials", s.credentials,
            "--sign-key", s.work.file("k.key.pem"), "--out", s.work.file("y.mfa")])
        #expect(untrusted.status == 3)
        #expect(untrusted.stderr.lowercased().contains("certificate"), "\(untrusted.stderr)")
    }
}

/// Runs python3 with arguments and collects its output.
enum Python {
    static func run(_ arguments: [String]) throws -> CLI.Result { try ProcessRunner.run("/usr/bin/python3", arguments) }
}

/// A server that refuses some items: they stop the import unless --max-bad-items allows them, and are listed.
@Suite(.serialized, .blocking) struct IMAPBadItemTests {
    @Test func refusedItemsStopTheImportOrAreCountedAgainstTheLimit() throws {
        // Four messages of about 1.4 MB among 40; the target takes nothing above 500 KB.
        let s = try IMAPRoundTripTests.Stations(targetMaxMailSize: "500k")
        try s.load(s.source, seed: 21, count: 40, bigMB: 1)
        let archive = s.work.file("a.mfa")
        let export = try s.export(out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        let base = s.importArguments(archive)

        let stopped = try CLI.run(base)
        #expect(stopped.status == 3, "\(stopped.stdout) \(stopped.stderr)")
        #expect(stopped.stderr.contains("refused") && stopped.stderr.contains("--max-bad-items"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("too large") || stopped.stderr.contains("LIMIT"), "the server's own words: \(stopped.stderr)")

        let allowed = try CLI.run(base + ["--max-bad-items", "4", "--json"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(allowed.stdout.utf8)) as? [String: Any]
        #expect(report?["verdict"] as? String == "pass")
        let bad = (report?["imported"] as? [String: Any])?["badItems"] as? [[String: Any]] ?? []
        #expect(bad.count == 4, "\(bad)")
        #expect(bad.allSatisfy { ($0["entry"] as? String)?.isEmpty == false && ($0["folder"] as? String)?.isEmpty == false && ($0["reason"] as? String)?.isEmpty == false })
        let containers = ((report?["users"] as? [[String: Any]])?.first?["containers"] as? [[String: Any]]) ?? []
        #expect(containers.reduce(0) { $0 + (($1["refused"] as? [String])?.count ?? 0) } == 4)
        #expect(containers.allSatisfy { ($0["missing"] as? [String])?.isEmpty ?? true })
        #expect(try s.count(s.target) == 36)
    }
    /// Small messages travel many to a MULTIAPPEND, which the server stores whole or not at all: a refused one
    /// must not take its batch-mates with it, nor be sent twice.
    @Test func aRefusedMessageInABatchIsTheOnlyBadItem() throws {
        let s = try IMAPRoundTripTests.Stations(targetMaxMailSize: "6k")
        try s.load(s.source, seed: 33, count: 300)
        let dump = try s.dump(s.source)
        let folders = try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: [String: Any]] ?? [:]
        let sizes = folders.values.flatMap { ($0["messages"] as? [[String: Any]] ?? []).compactMap { $0["size"] as? Int } }
        let tooLarge = sizes.filter { $0 > 6 * 1024 }.count
        #expect(sizes.count == 300 && tooLarge > 0 && tooLarge < 100, "\(sizes.count) messages, \(tooLarge) over 6 KiB")

        let archive = s.work.file("a.mfa")
        let export = try s.export(out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try CLI.run(s.importArguments(archive) + ["--max-bad-items", "1000", "--report", s.work.file("r.json")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("one by one"), "the batches were refused and split: \(imported.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.work.file("r.json")))) as? [String: Any]
        #expect(report?["verdict"] as? String == "pass")
        let bad = (report?["imported"] as? [String: Any])?["badItems"] as? [[String: Any]] ?? []
        #expect(bad.count == tooLarge, "\(bad.count) bad items, \(tooLarge) messages over the limit")
        #expect(try s.count(s.target) == 300 - tooLarge)
    }
}
