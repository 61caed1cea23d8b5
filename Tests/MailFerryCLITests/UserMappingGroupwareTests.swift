import Foundation
import Testing
import TestSupport

/// The user mapping reaches every address of a renamed user that groupware holds: a contact group's `MEMBER`, and a
/// Sieve script's `redirect` and `vacation :addresses`. The rewritten script is checked by Pigeonhole itself
/// (CHECKSCRIPT before PUTSCRIPT) on a real Dovecot, and read back by a raw ManageSieve client.
@Suite(.serialized, .blocking) struct UserMappingGroupwareTests {
    static let password = "bob-mapping-4711"
    static let group = "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Team\r\nUID:urn:uuid:5b1e4c2a-team\r\nMEMBER:mailto:alice@example.com\r\nMEMBER:mailto:carol@example.org\r\nEND:VCARD\r\n"
    static let script = """
        require ["vacation", "copy"];\r
        # forwards to alice@example.com\r
        if header :contains "subject" "[team]" {\r
          redirect :copy "alice@example.com";\r
        }\r
        vacation :days 3 :addresses ["bob@example.com", "alice@example.com"] "Away until Monday.";\r

        """

    @Test func groupMembersAndSieveAddressesOfARenamedUserAreRewrittenAndReconciled() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let home = work.file("src/bob@example.com")
        try FileManager.default.createDirectory(atPath: home + "/contacts", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/sieve", withIntermediateDirectories: true)
        try Self.group.write(toFile: home + "/contacts/team.vcf", atomically: true, encoding: .utf8)
        try Self.script.write(toFile: home + "/sieve/forward.sieve", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: home + "/.dovecot.sieve", withDestinationPath: "sieve/forward.sieve")
        let map = work.file("map.csv")
        try "source,target\nalice@example.com,alice.new@example.net\n".write(toFile: map, atomically: true, encoding: .utf8)
        let archive = work.file("a.mfa")
        let export = try CLI.run([
            "export", "--source", "dir:" + work.file("src"), "--map", map, "--sign-key", work.file("k.key.pem"), "--out", archive,
        ])
        #expect(export.status == 0, "\(export.stdout) \(export.stderr)")

        let target = work.file("dst")
        let imported = try CLI.run([
            "import", archive, "--trust", work.file("k.pub.pem"), "--target", "dir:" + target, "--journal", work.file("journal"),
            "--json",
        ])
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any] ?? [:]
        let rewritten = (report["imported"] as? [String: Any])?["rewritten"] as? [String] ?? []
        #expect(rewritten.count == 3 && rewritten.allSatisfy { $0.contains("alice@example.com is alice.new@example.net") }, "\(rewritten)")
        #expect(rewritten.contains { $0.contains("MEMBER") } && rewritten.contains { $0.contains("redirect") }
            && rewritten.contains { $0.contains("vacation :addresses") }, "\(rewritten)")
        #expect(report["verdict"] as? String == "pass")

        let card = try String(contentsOfFile: target + "/bob@example.com/contacts/team.vcf", encoding: .utf8)
        #expect(card == Self.group.replacingOccurrences(of: "mailto:alice@example.com", with: "mailto:alice.new@example.net"))
        let expectedScript = Self.script
            .replacingOccurrences(of: "redirect :copy \"alice@example.com\"", with: "redirect :copy \"alice.new@example.net\"")
            .replacingOccurrences(of: "\"bob@example.com\", \"alice@example.com\"", with: "\"bob@example.com\", \"alice.new@example.net\"")
        #expect(expectedScript.contains("# forwards to alice@example.com"), "the comment stays")
        let script = try String(contentsOfFile: target + "/bob@example.com/sieve/forward.sieve", encoding: .utf8)
        #expect(script == expectedScript)

        // A reconcile on its own expects the rewritten bytes.
        let alone = try CLI.run([
            "reconcile", archive, "--trust", work.file("k.pub.pem"), "--target", "dir:" + target, "--journal", work.file("journal"),
        ])
        #expect(alone.status == 0, "\(alone.stdout) \(alone.stderr)")

        // Pigeonhole takes the rewritten script (CHECKSCRIPT, then PUTSCRIPT) and gives back those bytes.
        let dovecot = try DovecotIMAPServer(users: [.init("bob@example.com", Self.password)], sieve: true)
        let credentials = work.file("credentials.tsv")
        try CredentialsFile.write("bob@example.com\t\(Self.password)\n", to: credentials)
        let sieve = try CLI.run([
            "import", archive, "--trust", work.file("k.pub.pem"), "--target", "sieve://127.0.0.1:\(dovecot.sievePort)", "--types", "sieve",
            "--credentials", credentials, "--ca-file", dovecot.caFile, "--journal", work.file("journal"),
        ])
        #expect(sieve.status == 0 && sieve.stdout.contains("verdict: PASS"), "\(sieve.stdout) \(sieve.stderr)")
        let dump = work.file("dump")
        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        let read = try Python.run([
            SieveRoundTripTests.client, "127.0.0.1", "\(dovecot.sievePort)", dovecot.caFile, "bob@example.com", Self.password, "dump", dump,
        ])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(try String(contentsOfFile: dump + "/forward", encoding: .utf8) == expectedScript, "\(read.stdout)")
    }
}
