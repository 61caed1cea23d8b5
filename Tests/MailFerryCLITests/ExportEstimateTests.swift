import Foundation
import Testing
import TestSupport

/// `export --estimate`: the counts must be what the export then carries, nothing may be written, and the estimated
/// archive size must be of the archive's order; on a generated Maildir and on a real Dovecot.
@Suite(.serialized, .blocking) struct ExportEstimateTests {
    /// A Maildir of three folders with `perFolder` messages each, of varied sizes: text that compresses and
    /// base64 of random bytes that does not.
    static func makeMaildir(_ root: String, perFolder: Int) throws {
        var random = SplitMix64(seed: 42)
        for (f, folder) in ["", ".Sent", ".Projects.2026"].enumerated() {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)/\(sub)", withIntermediateDirectories: true)
            }
            for n in 0..<perFolder {
                var text = "From: Sender \(n) <s\(n)@example.com>\nSubject: Estimate test \(f).\(n)\nMessage-ID: <\(f).\(n)@example.com>\n\n"
                text += String(repeating: "The quarterly figures for folder \(f) are attached. ", count: Int(random.next() % 60))
                let noise = (0..<Int(random.next() % 6000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                text += "\n" + Data(noise).base64EncodedString(options: .lineLength76Characters) + "\n"
                try Data(text.utf8).write(to: URL(fileURLWithPath: "\(root)/\(folder)/cur/\(1_700_000_000 + n).M\(n)F\(f).host:2,S"))
            }
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    static func files(_ path: String) -> Set<String> {
        Set((FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? [])
    }

    @Test func aMaildirEstimateCountsWhatTheExportCarriesAndWritesNothing() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        let maildir = work.file("Maildir")
        try Self.makeMaildir(maildir, perFolder: 40)
        let before = Self.files(work.path)

        let estimate = try CLI.run(["export", "--source", "maildir:" + maildir, "--user", "c@example.com", "--estimate", "--json"])
        #expect(estimate.status == 0, "\(estimate.stderr)")
        #expect(Self.files(work.path) == before, "the estimate wrote nothing")
        let e = try Self.json(estimate.stdout)
        let users = try #require(e["users"] as? [[String: Any]])
        #expect(users.count == 1)
        let folders = try #require(users[0]["folders"] as? [[String: Any]])
        #expect(folders.map { $0["name"] as? String } == ["INBOX", "Projects/2026", "Sent"])
        #expect(folders.allSatisfy { $0["messages"] as? Int == 40 })
        let sample = try #require(e["sample"] as? [String: Any])
        #expect((sample["items"] as? Int ?? 0) > 0)

        let people = try CLI.run(["export", "--source", "maildir:" + maildir, "--user", "c@example.com", "--estimate"])
        #expect(people.status == 0)
        #expect(people.stdout.contains("estimate for maildir:\(maildir): 1 user"), "\(people.stdout)")
        #expect(people.stdout.contains("  c@example.com: 120 messages ("))
        #expect(people.stdout.contains("at the source: 120 items, "))
        #expect(people.stdout.contains("estimated archive: about "))

        // The export carries exactly the items and bytes counted; the archive is of the estimated size's order.
        let archive = work.file("c.mfa")
        let export = try CLI.run(["export", "--source", "maildir:" + maildir, "--user", "c@example.com", "--sign-key", work.file("a.key.pem"), "--out", archive, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let summary = try Self.json(export.stdout)
        let totals = try #require(summary["totals"] as? [String: Any])
        #expect(e["items"] as? Int == totals["messages"] as? Int)
        #expect((e["bytes"] as? NSNumber)?.int64Value == (totals["messageBytes"] as? NSNumber)?.int64Value)
        let actual = Double((summary["fileSize"] as? NSNumber)?.int64Value ?? 0)
        let estimated = Double((e["archiveBytes"] as? NSNumber)?.int64Value ?? 0)
        #expect(estimated > actual * 0.5 && estimated < actual * 2, "estimated \(estimated) B, the archive is \(actual) B")
        // Without --estimate, --out and --sign-key are needed.
        #expect(try CLI.run(["export", "--source", "maildir:" + maildir, "--user", "c@example.com"]).status == 2)
    }

    @Test func anIMAPEstimateAsksTheServerForSizesAndMatchesTheExport() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let password = IMAPRoundTripTests.password
        let server = try DovecotIMAPServer(users: [.init("alice@example.com", password)])
        let credentials = work.file("credentials.tsv")
        try CredentialsFile.write("alice@example.com\t\(password)\n", to: credentials)
        let load = try Python.run([IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(server.imapPort)", "alice@example.com", password, server.caFile, "7", "40", "0"])
        #expect(load.status == 0, "\(load.stderr)")
        let count = try Python.run([IMAPRoundTripTests.fixture, "count", "127.0.0.1", "\(server.imapPort)", "alice@example.com", password, server.caFile])
        let onServer = Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(onServer > 0)
        let url = "imap://127.0.0.1:\(server.imapPort)"
        let common = ["--source", url, "--user", "alice@example.com", "--credentials", credentials, "--ca-file", server.caFile]

        let before = Self.files(work.path)
        let dumpBefore = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(server.imapPort)", "alice@example.com", password, server.caFile])
        let estimate = try CLI.run(["export"] + common + ["--estimate", "--json"])
        #expect(estimate.status == 0, "\(estimate.stderr)")
        #expect(Self.files(work.path) == before, "the estimate wrote nothing")
        let e = try Self.json(estimate.stdout)
        #expect(e["items"] as? Int == onServer)
        let sample = try #require(e["sample"] as? [String: Any])
        #expect((sample["items"] as? Int ?? 0) > 0, "bodies were fetched to measure")
        #expect((e["method"] as? String ?? "").contains("RFC822.SIZE"))

        let archive = work.file("a.mfa")
        let export = try CLI.run(["export"] + common + ["--sign-key", work.file("k.key.pem"), "--out", archive, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let totals = try #require(try Self.json(export.stdout)["totals"] as? [String: Any])
        #expect(e["items"] as? Int == totals["messages"] as? Int)
        #expect((e["bytes"] as? NSNumber)?.int64Value == (totals["messageBytes"] as? NSNumber)?.int64Value)
        // The sample was fetched with BODY.PEEK[]: no message became seen.
        let dumpAfter = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(server.imapPort)", "alice@example.com", password, server.caFile])
        #expect(dumpBefore.status == 0 && dumpBefore.stdout == dumpAfter.stdout)

        let people = try CLI.run(["export"] + common + ["--estimate"])
        #expect(people.stdout.contains("  alice@example.com: \(onServer) messages ("), "\(people.stdout)")
        #expect(people.stdout.contains("read at "))
    }
}
