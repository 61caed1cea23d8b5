import FerryArchive
import Foundation
import Testing
import SystemLayer
import TestSupport

/// The command line run as a user runs it: outputs, JSON, exit codes, errors.
@Suite(.serialized, .blocking) struct CommandLineTests {
    let work: Workspace
    let key: String
    let pub: String

    init() throws {
        work = try Workspace()
        let r = try CLI.run(["keygen", "--out", work.file("a")])
        guard r.status == 0 else { throw CocoaError(.fileWriteUnknown) }
        key = work.file("a.key.pem")
        pub = work.file("a.pub.pem")
    }

    func exportSamples() throws -> String {
        let store = try work.sampleStore()
        let out = work.file("s.mfa")
        let r = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", key, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("users: alice@example.com, bob@example.com"))
        #expect(r.stdout.contains("messages 20"))
        return out
    }

    @Test func keygenWritesAPrivateKeyOnlyTheOwnerCanRead() throws {
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try String(contentsOfFile: pub, encoding: .utf8).hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let again = try CLI.run(["keygen", "--out", work.file("a")])
        #expect(again.status == 2)
        #expect(again.stderr.contains("never overwrites"))
    }

    @Test func exportInspectVerifyImportOnTheSamples() throws {
        let archive = try exportSamples()

        let summary = try CLI.run(["inspect", archive])
        #expect(summary.status == 0)
        #expect(summary.stdout.contains("signature NOT checked"))
        #expect(summary.stdout.contains("folder Résumé: 1 items"))
        #expect(summary.stdout.contains("alice@example.com: 15 messages"))
        let checked = try CLI.run(["inspect", archive, "--trust", pub])
        #expect(checked.stdout.contains("signature checked"))

        let json = try CLI.run(["inspect", archive, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["users"] as? [[String: Any]])?.count == 2)

        let list = try CLI.run(["inspect", archive, "--list"])
        #expect(list.stdout.split(separator: "\n").count == 29)
        #expect(list.stdout.contains("Seen,$Label1,Work"))

        let listJSON = try CLI.run(["inspect", archive, "--list", "--json"])
        let items = try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]]
        let first = try #require(items?.first)
        let shown = try CLI.run(["inspect", archive, "--show", first["entry"] as! String])
        #expect(shown.status == 0)
        #expect(SHA256.hex(Array(shown.stdoutBytes)) == first["sha256"] as? String)
        #expect(shown.stderr.contains("sha256: "))
        let missing = try CLI.run(["inspect", archive, "--show", "u/9/m/9/9.eml"])
        #expect(missing.status == 2)

        let verify = try CLI.run(["verify", archive, "--trust", pub])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("OK"))
        let verifyJSON = try CLI.run(["verify", archive, "--trust", pub, "--json"])
        #expect(verifyJSON.stdout.contains("\"verdict\" : \"pass\""))

        let report = work.file("r.json")
        let imported = try CLI.run(["import", archive, "--trust", pub, "--target", "dir:" + work.file("t"), "--report", report])
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        #expect(imported.stdout.contains("verdict: PASS"))
        let r = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        #expect(r?["verdict"] as? String == "pass")
        let again = try CLI.run(["import", archive, "--trust", pub, "--target", "dir:" + work.file("t"), "--reimport"])
        #expect(again.stdout.contains("imported: 0 items written"))
        #expect(again.stdout.contains("29 already present"))

        let reconcile = try CLI.run(["reconcile", archive, "--trust", pub, "--target", "dir:" + work.file("t"), "--json"])
        #expect(reconcile.status == 0)
    }

    /// verify stops at the first damaged frame while its helper threads (decompression, manifest lines) may still
    /// be starting (a signature check, the manifest's hash): they must be ended before the process exits, or
    /// OpenSSL's exit handler pulls their state away (a crash, 1 run in 15 or so before they were waited for).
    @Test func aDamagedArchiveFailsCleanlyEveryTime() throws {
        let archive = try exportSamples()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes[bytes.count / 3] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: work.file("flipped.mfa")))
        for _ in 0..<60 {
            let flipped = try CLI.run(["verify", work.file("flipped.mfa"), "--trust", pub])
            #expect(flipped.status == 1, "\(flipped.stderr)")
            #expect(flipped.stderr.contains("flipped.mfa"))
        }
    }

    @Test func exitCodesSayWhatKindOfFailureItWas() throws {
        let archive = try exportSamples()
        // 2: usage.
        #expect(try CLI.run(["verify", archive]).status == 2)
        #expect(try CLI.run(["export", "--source", "ftp:x", "--sign-key", key, "--out", work.file("x.mfa")]).status == 2)
        #expect(try CLI.run(["export", "--source", "maildir:/nonexistent", "--sign-key", key, "--out", work.file("x.mfa")]).status == 2)
        #expect(try CLI.run(["frobnicate"]).status == 2)
        // 3: I/O.
        let absent = try CLI.run(["verify", work.file("absent.mfa"), "--trust", pub])
        #expect(absent.status == 3)
        #expect(absent.stderr.contains("absent.mfa"))
        // 1: verification.
        _ = try CLI.run(["keygen", "--out", work.file("other")])
        let wrongKey = try CLI.run(["verify", archive, "--trust", work.file("other.pub.pem")])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("signature does not match"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes[bytes.count / 3] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: work.file("flipped.mfa")))
        let flipped = try CLI.run(["verify", work.file("flipped.mfa"), "--trust", pub])
        #expect(flipped.status == 1)
        #expect(flipped.stderr.contains("flipped.mfa"))
        let failedImport = try CLI.run(["import", work.file("flipped.mfa"), "--trust", pub, "--target", "dir:" + work.file("t2")])
        #expect(failedImport.status == 1)
        let json = try CLI.run(["verify", work.file("flipped.mfa"), "--trust", pub, "--json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"verdict\" : \"fail\""))
    }

    @Test func helpHasExamples() throws {
        for command in ["export", "inspect", "verify", "import", "keygen", "reconcile"] {
            let r = try CLI.run([command, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("mailferry \(command)"), "\(command) --help shows an example")
        }
    }
}

/// `export --types` narrows what is read from a source that holds every type.
@Suite(.serialized, .blocking) struct ExportTypesTests {
    @Test func onlyTheTypesAskedForAreExported() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        let store = try work.sampleStore()
        let all = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", work.file("all.mfa"), "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        let mail = try CLI.run([
            "export", "--source", "dir:" + store, "--types", "mail", "--sign-key", work.file("a.key.pem"), "--out", work.file("mail.mfa"),
        ])
        #expect(mail.status == 0, "\(mail.stderr)")
        #expect(mail.stdout.contains("messages 20") && mail.stdout.contains("contacts 0 in 0 files, events 0, tasks 0, sieve scripts 0"), "\(mail.stdout)")
        let listed = try CLI.run(["inspect", work.file("mail.mfa"), "--list", "--json"])
        let items = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(items.count == 20 && items.allSatisfy { $0["kind"] as? String == "message" }, "\(items.prefix(2))")
        let groupware = try CLI.run([
            "export", "--source", "dir:" + store, "--types", "contacts,calendars,sieve", "--sign-key", work.file("a.key.pem"),
            "--out", work.file("groupware.mfa"), "--json",
        ])
        #expect(groupware.status == 0, "\(groupware.stderr)")
        let listedToo = try CLI.run(["inspect", work.file("groupware.mfa"), "--list", "--json"])
        let others = try JSONSerialization.jsonObject(with: Data(listedToo.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(!others.isEmpty && others.allSatisfy { $0["kind"] as? String != "message" })
        let whole = try CLI.run(["inspect", work.file("all.mfa"), "--list", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [[String: Any]])?.count == items.count + others.count)
        // A delta must be made of the same types as the archive before it.
        let delta = try CLI.run([
            "export", "--source", "dir:" + store, "--types", "mail", "--since", work.file("all.mfa"), "--sign-key", work.file("a.key.pem"),
            "--out", work.file("d.mfa"),
        ])
        #expect(delta.status == 2 && delta.stderr.contains("--types with --since"), "\(delta.stderr)")
    }
}
