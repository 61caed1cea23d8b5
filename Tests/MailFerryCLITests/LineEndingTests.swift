import FerryArchive
import Foundation
import Testing
import TestSupport

import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// Mail stored with LF line endings (Maildir, mbox) imported into a real Dovecot over IMAP: the server gets and holds
/// the CRLF form, the reconcile expects that form and passes, the report counts the converted messages per folder,
/// and Python's imaplib confirms the server holds exactly the CRLF form of every source file.
@Suite(.serialized, .blocking) struct LineEndingTests {
    static let user = "alice@example.com"
    static let password = IMAPRoundTripTests.password

    final class Station {
        let work: Workspace
        let server: DovecotIMAPServer
        let credentials: String

        init() throws {
            work = try Workspace()
            server = try DovecotIMAPServer(users: [.init(LineEndingTests.user, LineEndingTests.password)])
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("\(LineEndingTests.user)\t\(LineEndingTests.password)\n", to: credentials)
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        var url: String { "imap://127.0.0.1:\(server.imapPort)" }
        var journal: String { work.file("journal") }

        func export(_ source: String, out: String, since: String? = nil) throws -> CLI.Result {
            var args = ["export", "--source", source, "--user", LineEndingTests.user, "--sign-key", work.file("k.key.pem"), "--out", work.file(out)]
            if let since { args += ["--since", work.file(since)] }
            return try CLI.run(args)
        }

        func arguments(_ command: String, _ archive: String) -> [String] {
            [command, work.file(archive), "--trust", work.file("k.pub.pem"), "--target", url, "--credentials", credentials,
             "--ca-file", server.caFile, "--journal", journal]
        }

        func fixture(_ command: String, _ extra: [String] = []) throws -> CLI.Result {
            try Python.run([IMAPRoundTripTests.fixture, command, "127.0.0.1", "\(server.imapPort)", LineEndingTests.user, LineEndingTests.password, server.caFile] + extra)
        }

        func serverHashes() throws -> [String: [String]] {
            let r = try fixture("hashes")
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONDecoder().decode([String: [String]].self, from: Data(r.stdout.utf8))
        }
    }

    /// The CRLF form of every message of a Maildir tree, per folder, computed by Python, not by MailFerry.
    static func crlfHashes(_ maildir: String) throws -> [String: [String]] {
        let r = try Python.run([IMAPRoundTripTests.fixture, "crlf-hashes", maildir])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode([String: [String]].self, from: Data(r.stdout.utf8))
    }

    static func write(_ text: String, to path: String, mtime: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(mtime))], ofItemAtPath: path)
    }

    /// A Maildir++ tree as Dovecot and most tools leave it: LF line endings. Among them one message with bare CRs,
    /// one with mixed endings, one already CRLF (left alone), one over 1 MiB (sent from a spooled copy), flags and a
    /// keyword; INBOX and Work.
    static func makeLFMaildir(_ root: String) throws -> (converted: [String: Int], total: Int) {
        for folder in ["", ".Work"] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)/\(sub)", withIntermediateDirectories: true)
            }
        }
        try "0 $Forwarded\n".write(toFile: "\(root)/dovecot-keywords", atomically: true, encoding: .utf8)
        var n = 0
        func message(_ folder: String, _ flags: String, _ text: String) throws {
            n += 1
            try write(text, to: "\(root)/\(folder)/cur/\(1_700_000_000 + n).M\(n)P1.host:2,\(flags)", mtime: 1_650_000_000 + n * 3600)
        }
        for i in 0..<12 {
            try message(i % 2 == 0 ? "" : ".Work", i % 3 == 0 ? "S" : i % 3 == 1 ? "FS" : "",
                        "From: a@example.com\nTo: alice@example.com\nSubject: LF message \(i)\nMessage-ID: <lf\(i)@test>\n\nLine one of \(i).\nLine two.\n")
        }
        try message("", "aS", "From: a@example.com\nSubject: keyword\nMessage-ID: <kw@test>\n\nforwarded\n")
        try message("", "S", "From: a@example.com\rSubject: bare CR\rMessage-ID: <cr@test>\r\rold Mac text\r")
        try message(".Work", "", "From: a@example.com\r\nSubject: mixed\nMessage-ID: <mixed@test>\r\n\nCRLF\r\nLF\nCR\rlast line without an ending")
        try message(".Work", "S", "From: a@example.com\r\nSubject: already CRLF\r\nMessage-ID: <crlf@test>\r\n\r\nkept as it is\r\n")
        let line = String(repeating: "0123456789abcdef", count: 4) + "\n"
        try message("", "", "From: a@example.com\nSubject: large LF message\nMessage-ID: <big@test>\n\n" + String(repeating: line, count: 20_000))
        // INBOX: 6 LF + keyword + bare CR + large = 9 converted; Work: 6 LF + mixed = 7 converted, 1 left alone.
        return (["INBOX": 9, "Work": 7], n)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func containers(_ report: [String: Any]) -> [[String: Any]] {
        ((report["users"] as? [[String: Any]]) ?? []).flatMap { ($0["containers"] as? [[String: Any]]) ?? [] }
    }

    @Test func lfMaildirIntoIMAPPassesItsReconcileAndADeltaFollows() throws {
        let s = try Station()
        let maildir = s.work.file("Maildir")
        let (converted, total) = try Self.makeLFMaildir(maildir)
        let export = try s.export("maildir:" + maildir, out: "full.mfa")
        #expect(export.status == 0, "\(export.stderr)")

        let imported = try CLI.run(s.arguments("import", "full.mfa") + ["--json"])
        #expect(imported.status == 0, "\(imported.stdout.prefix(4000)) \(imported.stderr)")
        let report = try Self.json(imported.stdout)
        #expect(report["verdict"] as? String == "pass")
        var counted: [String: Int] = [:]
        for c in Self.containers(report) { counted[c["name"] as? String ?? "?"] = c["lineEndingsConverted"] as? Int }
        #expect(counted == converted, "\(counted)")
        let importCounts = report["imported"] as? [String: Any]
        #expect(importCounts?["written"] as? Int == total)
        #expect((importCounts?["convertedItems"] as? [Any])?.count == 16)
        // Dovecot holds exactly the CRLF form of every source file (imaplib reads it; Python converts the files).
        #expect(try s.serverHashes() == Self.crlfHashes(maildir))
        #expect(imported.stderr.isEmpty || !imported.stderr.contains("bytes changed"))

        // The text report says it too, and the reconcile on its own (another run, no import) passes.
        let reconcile = try CLI.run(s.arguments("reconcile", "full.mfa"))
        #expect(reconcile.status == 0 && reconcile.stdout.contains("verdict: PASS"), "\(reconcile.stdout) \(reconcile.stderr)")
        #expect(reconcile.stdout.contains("line endings made CRLF"), "\(reconcile.stdout)")

        // A delta after such a base: a new LF message and a flag change. The changed message is found by its CRLF
        // form's size; the ledger accepted the base, so the delta is not refused.
        try Self.write("From: b@example.com\nSubject: new after the base\nMessage-ID: <new@test>\n\nnew\n",
                       to: "\(maildir)/cur/1800000000.M99P1.host:2,", mtime: 1_700_000_000)
        let fm = FileManager.default
        let work = try fm.contentsOfDirectory(atPath: "\(maildir)/.Work/cur").sorted()
        let first = try #require(work.first { $0.hasSuffix(":2,FS") })
        try fm.moveItem(atPath: "\(maildir)/.Work/cur/\(first)", toPath: "\(maildir)/.Work/cur/\(first.dropLast(":2,FS".count)):2,S")
        let delta = try s.export("maildir:" + maildir, out: "delta.mfa", since: "full.mfa")
        #expect(delta.status == 0, "\(delta.stderr)")
        let applied = try CLI.run(s.arguments("import", "delta.mfa") + ["--json"])
        #expect(applied.status == 0, "\(applied.stdout.prefix(4000)) \(applied.stderr)")
        let deltaReport = try Self.json(applied.stdout)
        #expect(deltaReport["verdict"] as? String == "pass")
        let changes = (deltaReport["imported"] as? [String: Any])?["changes"] as? [String: Any]
        #expect(changes?["movedOrFlagged"] as? Int == 1, "\(String(describing: changes))")
        #expect(changes?["notFound"] as? Int == 0, "\(String(describing: changes))")
        #expect(try s.serverHashes() == Self.crlfHashes(maildir))
    }

    /// Killed at several points while LF mail goes into IMAP, then run again: the messages whose outcome was unknown
    /// are looked up by their CRLF form, so every message is there exactly once.
    @Test func anLFImportKilledAndResumedHasEveryMessageOnce() throws {
        let s = try Station()
        let maildir = s.work.file("Maildir")
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: "\(maildir)/\(sub)", withIntermediateDirectories: true)
        }
        let total = 1000
        for i in 0..<total {
            try Self.write("From: a@example.com\nSubject: n \(i)\nMessage-ID: <k\(i)@test>\n\n" + String(repeating: "line \(i)\n", count: 40),
                           to: "\(maildir)/cur/\(1_700_000_000 + i).M\(i)P1.host:2,S", mtime: 1_600_000_000 + i)
        }
        #expect(try s.export("maildir:" + maildir, out: "k.mfa").status == 0)
        var killed = 0
        var points: [Int] = []
        for point in [100, 450, 800] {
            let process = try CLI.start(s.arguments("import", "k.mfa"))
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning && Date() < deadline, Int(try s.fixture("count").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 < point {
                usleep(20_000)
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            points.append(Int(try s.fixture("count").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1)
        }
        #expect(killed >= 2, "the import finished before it could be killed")
        let resumed = try CLI.run(s.arguments("import", "k.mfa"))
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        #expect(resumed.stdout.contains("verdict: PASS"))
        let held = try s.serverHashes()
        let expected = try Self.crlfHashes(maildir)
        let twice = Dictionary(held.values.joined().map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
        let subjects = try FileManager.default.contentsOfDirectory(atPath: "\(maildir)/cur").filter { name in
            let data = try! Data(contentsOf: URL(fileURLWithPath: "\(maildir)/cur/\(name)"))
            let crlf = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n")
            let hasher = SystemLayer.SHA256()
            hasher.update(Array(crlf.utf8))
            return twice[hasher.finalizeHex()] != nil
        }
        #expect(held == expected, "held twice: \(subjects.sorted()); killed at \(points); resumed: \(resumed.stdout.prefix(300))")
        #expect(try s.fixture("count").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(total)")
    }

    @Test func mboxWithLFIntoIMAPPasses() throws {
        let s = try Station()
        let mbox = s.work.file("inbox.mbox")
        var text = ""
        for i in 0..<5 {
            text += "From sender@example.com Mon Jan  6 10:0\(i):00 2025\nFrom: sender@example.com\nSubject: mbox \(i)\nMessage-ID: <m\(i)@test>\n"
            text += (i == 2 ? "Status: RO\n" : "") + "\nbody \(i)\n>From the quoted line\n\n"
        }
        try text.write(toFile: mbox, atomically: true, encoding: .utf8)
        #expect(try s.export("mbox:" + mbox, out: "m.mfa").status == 0)
        let imported = try CLI.run(s.arguments("import", "m.mfa") + ["--json"])
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        let report = try Self.json(imported.stdout)
        #expect(report["verdict"] as? String == "pass")
        #expect(Self.containers(report).compactMap { $0["lineEndingsConverted"] as? Int }.reduce(0, +) == 5)
        let held = try s.serverHashes().values.joined()
        #expect(held.count == 5)
    }

    /// IMAP to Maildir to IMAP: the Maildir target keeps the archive's (CRLF) bytes, and the second server ends equal
    /// to the first, with nothing converted.
    @Test func imapToMaildirToIMAPKeepsEverything() throws {
        let s = try Station()
        let other = try DovecotIMAPServer(users: [.init(Self.user, Self.password)])
        let load = try Python.run([IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(s.server.imapPort)", Self.user, Self.password, s.server.caFile, "5", "40", "0"])
        #expect(load.status == 0, "\(load.stderr)")
        let first = try CLI.run(["export", "--source", s.url, "--user", Self.user, "--credentials", s.credentials, "--ca-file", s.server.caFile,
                                 "--sign-key", s.work.file("k.key.pem"), "--out", s.work.file("a.mfa")])
        #expect(first.status == 0, "\(first.stderr)")
        let maildir = s.work.file("copy")
        let toMaildir = try CLI.run(["import", s.work.file("a.mfa"), "--trust", s.work.file("k.pub.pem"), "--target", "maildir:" + maildir,
                                     "--user", Self.user, "--journal", s.journal])
        #expect(toMaildir.status == 0, "\(toMaildir.stdout) \(toMaildir.stderr)")
        #expect(try s.export("maildir:" + maildir, out: "b.mfa").status == 0)
        let otherURL = "imap://127.0.0.1:\(other.imapPort)"
        let back = try CLI.run(["import", s.work.file("b.mfa"), "--trust", s.work.file("k.pub.pem"), "--target", otherURL,
                                "--credentials", s.credentials, "--ca-file", other.caFile, "--journal", s.work.file("j2"), "--json"])
        #expect(back.status == 0, "\(back.stdout.prefix(3000)) \(back.stderr)")
        let report = try Self.json(back.stdout)
        #expect(Self.containers(report).allSatisfy { $0["lineEndingsConverted"] == nil })
        let dumpA = try s.fixture("dump")
        let dumpB = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(other.imapPort)", Self.user, Self.password, other.caFile])
        #expect(dumpA.status == 0 && !dumpA.stdout.isEmpty)
        // Every message with its bytes, flags, keywords and date is there, in the folder of the same name, except that
        // the source's "Sent Items" (\\Sent) went into the target's own Sent folder, as import does by special use.
        func messagesByFolder(_ text: String) throws -> [String: Set<String>] {
            let folders = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: Any]])
            var out: [String: Set<String>] = [:]
            for (name, folder) in folders {
                let messages = (folder["messages"] as? [[String: Any]] ?? []).map { m in
                    "\(m["sha256"] ?? "") \(m["flags"] ?? "") \(m["keywords"] ?? "") \(m["internaldate"] ?? "")"
                }
                out[name == "Sent Items" ? "Sent" : name, default: []].formUnion(messages)
            }
            return out
        }
        let before = try messagesByFolder(dumpA.stdout)
        #expect(before.values.reduce(0) { $0 + $1.count } == 40)
        #expect(try messagesByFolder(dumpB.stdout) == before)
    }

    /// Two messages whose bytes really changed at the target, among four that share one Message-ID with other dates
    /// and flags: the reconcile reports each difference once, bytes only, on the right message (paired by Message-ID
    /// with the closest flags and date, not the first copy found).
    @Test func aRealByteDifferenceIsReportedOnceOnTheRightItem() throws {
        let s = try Station()
        let maildir = s.work.file("Maildir")
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: "\(maildir)/\(sub)", withIntermediateDirectories: true)
        }
        for (i, flags) in ["", "S", "FS", "RS"].enumerated() {
            try Self.write("From: a@example.com\nSubject: copy \(i)\nMessage-ID: <same@test>\n\nbody \(i)\n",
                           to: "\(maildir)/cur/\(1_700_000_000 + i).M\(i)P1.host:2,\(flags)", mtime: 1_600_000_000 + i * 86_400)
        }
        #expect(try s.export("maildir:" + maildir, out: "a.mfa").status == 0)
        #expect(try CLI.run(s.arguments("import", "a.mfa")).status == 0)
        for subject in ["copy 1", "copy 2"] {
            let replaced = try s.fixture("replace", ["INBOX", subject])
            #expect(replaced.status == 0, "\(replaced.stderr)")
        }

        let reconcile = try CLI.run(s.arguments("reconcile", "a.mfa") + ["--json"])
        #expect(reconcile.status == 1)
        let report = try Self.json(reconcile.stdout)
        let inbox = try #require(Self.containers(report).first { $0["name"] as? String == "INBOX" })
        let mismatched = inbox["mismatched"] as? [[String: Any]] ?? []
        #expect(mismatched.count == 2, "\(mismatched)")
        #expect(mismatched.allSatisfy { $0["aspects"] as? [String] == ["bytes"] }, "\(mismatched)")
        #expect((inbox["missing"] as? [Any])?.isEmpty == true)
        #expect(inbox["matched"] as? Int == 2)
        let details = inbox["details"] as? [[String: Any]] ?? []
        #expect(Set(details.compactMap { $0["title"] as? String }) == ["copy 1", "copy 2"], "\(details)")
    }
}
