import Connectors
import FerryKit
import Foundation
import Reporting
import Synchronization
import Testing
import TestSupport

/// The reconcile after a delta into IMAP reads back the bodies of what the delta wrote or moved only; a message an
/// earlier accepted import placed at a known UID is checked from its folder's metadata FETCH (there at that UID, same
/// UIDVALIDITY, size, flags, keywords, internal date). It must still fail when such a message is gone or was
/// reflagged behind the tool's back, and `--full-reconcile` must read every body. Bodies are counted, not timed.
@Suite(.serialized, .blocking) struct IMAPDeltaReconcileTests {
    /// imaplib against one Dovecot user: `append N` (new mail in INBOX), `reflag` and `expunge` (the first message of
    /// INBOX, whose UID is printed).
    static let script = #"""
        import imaplib, ssl, sys
        host, port, user, password, cafile, action = sys.argv[1:7]
        m = imaplib.IMAP4(host, int(port))
        m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
        m.login(user, password)
        if action == "append":
            for i in range(int(sys.argv[7])):
                body = ("From: late@example.org\r\nSubject: late %d\r\nMessage-ID: <late%d@example.org>\r\n\r\nlate %d\r\n" % (i, i, i)).encode()
                assert m.append("INBOX", "(\\Seen)", '"02-Mar-2024 09:00:00 +0100"', body)[0] == "OK"
        else:
            assert m.select("INBOX")[0] == "OK"
            uid = m.uid("SEARCH", None, "ALL")[1][0].split()[0]
            if action == "reflag":
                assert m.uid("STORE", uid, "+FLAGS", "(\\Flagged TamperedAtTarget)")[0] == "OK"
            else:
                assert m.uid("STORE", uid, "+FLAGS", "(\\Deleted)")[0] == "OK"
                assert m.uid("EXPUNGE", uid)[0] == "OK"
            print(uid.decode())
        m.logout()
        """#

    static func imap(_ server: DovecotIMAPServer, _ action: String, _ more: [String] = []) throws -> String {
        let r = try Python.run(["-c", script, "127.0.0.1", "\(server.imapPort)", "alice@example.com", IMAPRoundTripTests.password, server.caFile, action] + more)
        #expect(r.status == 0, "\(action): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A full import, three new messages at the source, the delta exported.
    static func stationsWithDelta(seed: Int, beforeDelta: (IMAPRoundTripTests.Stations) throws -> Void = { _ in }) throws -> (IMAPRoundTripTests.Stations, String) {
        let s = try IMAPRoundTripTests.Stations()
        try s.load(s.source, seed: seed, count: 40)
        let full = s.work.file("full.mfa"), delta = s.work.file("d1.mfa")
        #expect(try s.export(out: full).status == 0)
        let imported = try CLI.run(s.importArguments(full))
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        try beforeDelta(s)
        _ = try imap(s.source, "append", ["3"])
        let second = try CLI.run(["export", "--source", s.sourceURL, "--user", "alice@example.com", "--credentials", s.credentials,
                                  "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta])
        #expect(second.status == 0 && second.stdout.contains("3 new items"), "\(second.stdout) \(second.stderr)")
        return (s, delta)
    }

    final class BodyReads: Sendable {
        let seen = Mutex<[String]>([])
        var all: [String] { seen.withLock { $0 } }
        func reset() { seen.withLock { $0 = [] } }
    }

    /// The delta imported in this process, as `import` does, counting the bodies its reconcile reads.
    static func importDelta(
        _ s: IMAPRoundTripTests.Stations, _ delta: String, reads: BodyReads, full: Bool = false, again: Bool = false,
        beforeReconcile: (() throws -> Void)? = nil
    ) throws -> ReconcileReport {
        reads.reset()
        var options = ConnectorOptions(credentialsPath: s.credentials, caFile: s.target.caFile, journalDirectory: s.journal)
        options.onBodyRead = { mailbox, uid in reads.seen.withLock { $0.append("\(mailbox) \(uid)") } }
        var importer = Importer(
            archivePath: delta, trustedKeyPath: s.work.file("k.pub.pem"), target: try ConnectorSet(ConnectorURL(parsing: s.targetURL)),
            users: ["alice@example.com"], quiet: true, options: options)
        importer.ledger = try ImportLedger(directory: s.journal)
        importer.reimport = again
        importer.fullReconcile = full
        importer.beforeReconcile = beforeReconcile
        return try importer.run()
    }

    @Test func theDeltaReconcileReadsOnlyTheBodiesTheDeltaWroteAndFullReconcileReadsThemAll() throws {
        let (s, delta) = try Self.stationsWithDelta(seed: 17)
        let reads = BodyReads()
        let report = try Self.importDelta(s, delta, reads: reads)
        #expect(report.verdict == .pass, "\(report.users.map(\.problems)) \(report.users.flatMap(\.containers).map { ($0.name, $0.missing, $0.mismatched.map(\.difference)) })")
        #expect(report.imported?.placements.count == 3)
        // The three new messages, all in INBOX: none of the 40 the full import placed was read again.
        #expect(reads.all.count == 3 && reads.all.allSatisfy { $0.hasPrefix("INBOX ") }, "\(reads.all)")
        let total = try s.count(s.target)
        #expect(total == 43)

        // --full-reconcile (here with --reimport, the delta being in the ledger now): every body is read.
        let fullReport = try Self.importDelta(s, delta, reads: reads, full: true, again: true)
        #expect(fullReport.verdict == .pass)
        #expect(reads.all.count == total, "\(reads.all.count) bodies read of \(total)")

        // A message reflagged at the target after the delta was applied, before its reconcile: not read, still caught.
        var tampered = ""
        let caught = try Self.importDelta(s, delta, reads: reads, again: true) { tampered = try Self.imap(s.target, "reflag") }
        #expect(!tampered.isEmpty)
        #expect(reads.all.count == 3, "\(reads.all)")
        #expect(caught.verdict == .fail)
        let mismatched = caught.users.flatMap(\.containers).flatMap(\.mismatched)
        #expect(mismatched.count == 1 && (mismatched.first?.aspects ?? []).contains("keywords"), "\(mismatched.map(\.difference))")

        // The command line takes --full-reconcile; the reimport puts the flags right again, and every body is read.
        let cli = try CLI.run(s.importArguments(delta) + ["--reimport", "--full-reconcile"])
        #expect(cli.status == 0 && cli.stdout.contains("verdict: PASS"), "\(cli.stdout) \(cli.stderr)")
    }

    @Test func theDeltaReconcileFailsWhenAnUntouchedMessageWasDeletedAtTheTarget() throws {
        var gone = ""
        let (s, delta) = try Self.stationsWithDelta(seed: 19) { s in gone = try Self.imap(s.target, "expunge") }
        #expect(!gone.isEmpty)
        let applied = try CLI.run(s.importArguments(delta) + ["--report", s.work.file("r.json")])
        #expect(applied.status != 0 && applied.stdout.contains("verdict: FAIL"), "\(applied.stdout) \(applied.stderr)")
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(contentsOf: URL(fileURLWithPath: s.work.file("r.json"))))
        let inbox = report.users.first?.containers.first { $0.name == "INBOX" }
        #expect(inbox?.missing.count == 1, "\(String(describing: inbox))")
        #expect(report.users.flatMap(\.containers).flatMap(\.mismatched).isEmpty)
    }
}
