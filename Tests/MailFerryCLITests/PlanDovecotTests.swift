import Foundation
import Testing
import TestSupport

/// The whole procedure between two real Dovecots, on one machine playing both stations: users on the source, one
/// renamed at the target; a full pass, then changes at the source (new mail, flags, a deletion, a renamed folder);
/// the buffer holding mail that keeps arriving over SMTP; the final pass as a delta; the import of both with
/// receipts at station B; the release into the target over IMAP. Afterwards the target must hold the source plus
/// the held mail: nothing lost, nothing doubled, the ACL naming the renamed user rewritten.
@Suite(.serialized, .blocking) struct PlanDovecotTests {
    static let alicePassword = IMAPRoundTripTests.password
    static let bobPassword = IMAPRoundTripTests.bobPassword
    static let fixture = IMAPRoundTripTests.fixture

    func dump(_ server: DovecotIMAPServer, _ user: String, _ password: String) throws -> [String: [String: Any]] {
        let r = try Python.run([Self.fixture, "dump", "127.0.0.1", "\(server.imapPort)", user, password, server.caFile])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
    }

    /// A message as the fixture dumps it, comparable.
    func key(_ message: [String: Any]) -> String {
        let data = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    @Test func twoDovecotsTheBufferAndARenamedUserEndWithTheSourcePlusTheHeldMail() throws {
        let work = try Workspace()
        let source = try DovecotIMAPServer(users: [.init("alice@example.com", Self.alicePassword), .init("bob@example.com", Self.bobPassword)])
        let target = try DovecotIMAPServer(users: [.init("alice.new@example.net", Self.alicePassword), .init("bob@example.com", Self.bobPassword)])
        for (user, password, seed) in [("alice@example.com", Self.alicePassword, 5), ("bob@example.com", Self.bobPassword, 6)] {
            let r = try Python.run([Self.fixture, "load", "127.0.0.1", "\(source.imapPort)", user, password, source.caFile, "\(seed)", "60"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try CredentialsFile.write("alice@example.com\t\(Self.alicePassword)\nbob@example.com\t\(Self.bobPassword)\n", to: work.file("source.tsv"))
        try CredentialsFile.write("alice.new@example.net\t\(Self.alicePassword)\nbob@example.com\t\(Self.bobPassword)\n", to: work.file("target.tsv"))
        for name in ["a", "b"] { #expect(try CLI.run(["keygen", "--out", work.file(name)]).status == 0) }
        try "alice@example.com,alice.new@example.net\nbob@example.com\n".write(toFile: work.file("users.csv"), atomically: true, encoding: .utf8)
        try """
            [smtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(work.file("spool"))"
            namespace = "buffer.example.com"
            hostname = "buffer.test"
            [imap]
            credentials = "\(work.file("target.tsv"))"
            ca_file = "\(target.caFile)"
            """.write(toFile: work.file("buffer.toml"), atomically: true, encoding: .utf8)
        let serve = try BufferCommandLineTests.Serve(config: work.file("buffer.toml"))
        let plan = work.file("plan")
        let targetURL = "imaps://127.0.0.1:\(target.imapsPort)"
        let initialized = try CLI.run([
            "plan", "init", "--users", work.file("users.csv"), "--source", "imap://127.0.0.1:\(source.imapPort)",
            "--target", targetURL, "--station-a", plan, "--buffer-config", work.file("buffer.toml"),
            "--sign-key", work.file("a.key.pem"), "--archives", work.file("archives"), "--station-b-key", work.file("b.pub.pem"),
            "--receipts", work.file("receipts"), "--credentials", work.file("source.tsv"), "--ca-file", source.caFile,
        ])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        // A first full pass travels ahead while the users still work at the source...
        let pass = try CLI.run(["plan", "export", "--plan", plan])
        #expect(pass.status == 0 && pass.stdout.contains("pass for: alice@example.com, bob@example.com"), "\(pass.stdout) \(pass.stderr)")
        // ... and they do: new mail, flags set and cleared, a message deleted, a folder renamed.
        let change = #"""
            import imaplib, ssl, sys
            m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
            m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
            m.login(sys.argv[3], sys.argv[4])
            m.select('INBOX')
            typ, data = m.uid('SEARCH', None, 'ALL')
            uids = data[0].split()
            m.uid('STORE', uids[0], '+FLAGS', '(\Flagged $Work)')
            m.uid('STORE', uids[1], '-FLAGS', '(\Seen)')
            m.uid('STORE', uids[2], '+FLAGS', '(\Deleted)')
            m.expunge()
            m.append('INBOX', '(\Seen)', None, b'Subject: after the pass\r\nMessage-ID: <late@example.org>\r\n\r\nnew\r\n')
            typ, data = m.rename('"R&AOk-unions &- Comptes"', '"R&AOk-unions 2026"')
            assert typ == 'OK', data
            m.logout()
            """#
        let changed = try Python.run(["-c", change, "\(source.imapPort)", source.caFile, "alice@example.com", Self.alicePassword])
        #expect(changed.status == 0, "\(changed.stderr)")
        let sourceDumps = [
            "alice": try dump(source, "alice@example.com", Self.alicePassword), "bob": try dump(source, "bob@example.com", Self.bobPassword),
        ]
        #expect(sourceDumps["alice"]?["Réunions 2026"] != nil && sourceDumps["alice"]?["Réunions & Comptes"] == nil)

        #expect(try CLI.run(["plan", "hold", "--plan", plan]).status == 0)
        for recipient in ["alice@buffer.example.com", "alice@buffer.example.com", "bob@buffer.example.com"] {
            #expect(try BufferCommandLineTests.send(port: serve.smtpPort, to: recipient) == "OK {}\n")
        }
        #expect(try CLI.run(["plan", "forwarding", "--plan", plan, "--on"]).status == 0)
        let exported = try CLI.run(["plan", "next", "--plan", plan])
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        #expect(exported.stdout.contains("(delta of "), "the final pass is a delta: \(exported.stdout)")
        let archives = try FileManager.default.contentsOfDirectory(atPath: work.file("archives")).sorted().map { work.file("archives/") + $0 }
        #expect(archives.count == 2)
        let sizes = try archives.map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0 }
        #expect(sizes.min()! * 4 < sizes.max()!, "the delta is small beside the full pass: \(sizes)")
        for archive in archives {
            let carried = try CLI.run(["plan", "carried", "--plan", plan, archive])
            #expect(carried.status == 0)
            // Station B's command, as printed, names the credentials a server target needs.
            #expect(carried.stdout.contains("--target \(targetURL) ") && carried.stdout.contains("--credentials "), "\(carried.stdout)")
        }

        let imported = try CLI.run([
            "plan", "import"] + archives.reversed() + ["--target", targetURL, "--trust", work.file("a.pub.pem"), "--sign-key", work.file("b.key.pem"),
            "--receipts", work.file("receipts"), "--credentials", work.file("target.tsv"), "--ca-file", target.caFile,
            "--journal", work.file("journal"),
        ])
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        let released = try CLI.run(["plan", "next", "--plan", plan])
        #expect(released.status == 0, "\(released.stdout) \(released.stderr)")
        let status = try CLI.run(["plan", "status", "--plan", plan, "--json"])
        let states = (try JSONSerialization.jsonObject(with: status.stdoutBytes) as? [[String: Any]] ?? []).map { $0["state"] as? String }
        #expect(states == ["released", "released"], "\(status.stdout)")

        // The target: the source, renamed where the mapping says, plus the held mail in INBOX.
        for (name, address, password, held) in [("alice", "alice.new@example.net", Self.alicePassword, 2), ("bob", "bob@example.com", Self.bobPassword, 1)] {
            let expected = sourceDumps[name]!
            let got = try dump(target, address, password)
            #expect(Set(got.keys) == Set(expected.keys), "\(name): folders \(got.keys.sorted()) against \(expected.keys.sorted())")
            for (folder, want) in expected {
                var have = got[folder] ?? [:]
                var wanted = want
                let haveMessages = (have.removeValue(forKey: "messages") as? [[String: Any]] ?? []).map(key)
                let wantMessages = (wanted.removeValue(forKey: "messages") as? [[String: Any]] ?? []).map(key)
                var remaining = haveMessages
                for message in wantMessages {
                    if let i = remaining.firstIndex(of: message) { remaining.remove(at: i) } else { Issue.record("\(name) \(folder): a source message is missing or changed") }
                }
                #expect(remaining.count == (folder == "INBOX" ? held : 0), "\(name) \(folder): \(remaining.count) messages beyond the source's")
                // ACL identifiers naming the renamed user follow the mapping.
                let wantedText = key(wanted).replacingOccurrences(of: "alice@example.com", with: "alice.new@example.net")
                #expect(key(have) == wantedText, "\(name) \(folder): \(key(have)) against \(wantedText)")
            }
        }
        #expect(serve.terminate() == 0)
    }
}
