import Foundation
import Testing
import TestSupport

/// The media leg encrypted, as a user runs it: keys from `mailferry keygen --encryption` and `age-keygen`, an export
/// encrypted to station B and an escrow key, opened by `age -d` and by MailFerry's readers, and damage refused
/// before a target is touched.
@Suite(.blocking) struct EncryptedArchiveTests {
    /// Station A's signing key, station B's age key (ours), an escrow key made by `age-keygen`, the sample store.
    final class Setup {
        let work: Workspace
        let store: String
        init() throws {
            work = try Workspace()
            store = try work.sampleStore()
            #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
            let b = try CLI.run(["keygen", "--encryption", "--out", work.file("b")])
            #expect(b.status == 0, "\(b.stderr)")
            let escrow = try ProcessRunner.run(tool: "age-keygen", ["-o", work.file("escrow.key")])
            #expect(escrow.status == 0)
            try (ProcessRunner.run(tool: "age-keygen", ["-y", work.file("escrow.key")]).stdout)
                .write(toFile: work.file("escrow.pub"), atomically: true, encoding: .utf8)
        }

        func export(_ extra: [String] = []) throws -> ProcessOutput {
            try CLI.run(["export", "--source", "dir:\(store)", "--sign-key", work.file("a.key.pem"), "--out", work.file("june.mfa")] + extra)
        }
    }

    @Test func anEncryptedExportOpensWithAgeAndWithEveryCommandThatReadsIt() throws {
        let s = try Setup()
        // Our key pair: the secret one private, and age reads it.
        let mode = try FileManager.default.attributesOfItem(atPath: s.work.file("b.age.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let recipient = try String(contentsOfFile: s.work.file("b.age.pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ProcessRunner.run(tool: "age-keygen", ["-y", s.work.file("b.age.key")]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == recipient)

        let export = try s.export(["--encrypt-to", s.work.file("b.age.pub"), "--encrypt-to", s.work.file("escrow.pub")])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("wrote \(s.work.file("june.mfa.age"))"), "\(export.stdout)")
        #expect(!FileManager.default.fileExists(atPath: s.work.file("june.mfa")))
        let encrypted = s.work.file("june.mfa.age")

        // Both recipients open it with age; what comes out is a plain archive that verifies as always.
        for key in ["b.age.key", "escrow.key"] {
            let plain = s.work.file("plain-\(key).mfa")
            let decrypted = try ProcessRunner.run(tool: "age", ["-d", "-i", s.work.file(key), "-o", plain, encrypted])
            #expect(decrypted.status == 0, "\(decrypted.stderr)")
            let verified = try CLI.run(["verify", plain, "--trust", s.work.file("a.pub.pem")])
            #expect(verified.status == 0, "\(verified.stderr)")
        }

        let verify = try CLI.run(["verify", encrypted, "--trust", s.work.file("a.pub.pem"), "--identity", s.work.file("b.age.key")])
        #expect(verify.status == 0 && verify.stdout.contains("OK"), "\(verify.stdout) \(verify.stderr)")
        let inspect = try CLI.run(["inspect", encrypted, "--identity", s.work.file("escrow.key"), "--list"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let plainInspect = try CLI.run(["inspect", s.work.file("plain-b.age.key.mfa"), "--list"])
        #expect(inspect.stdout == plainInspect.stdout)

        // Two users read at once: the one read ahead waits in sealed scratch files, and the archive is the same.
        let jobs = try CLI.run([
            "export", "--source", "dir:\(s.store)", "--sign-key", s.work.file("a.key.pem"), "--out", s.work.file("jobs.mfa"),
            "--jobs", "2", "--encrypt-to", s.work.file("b.age.pub"),
        ])
        #expect(jobs.status == 0, "\(jobs.stderr)")
        let jobsInspect = try CLI.run(["inspect", s.work.file("jobs.mfa.age"), "--identity", s.work.file("b.age.key"), "--list"])
        #expect(jobsInspect.status == 0 && jobsInspect.stdout == plainInspect.stdout, "\(jobsInspect.stdout) \(jobsInspect.stderr)")
        let jobsVerify = try CLI.run(["verify", s.work.file("jobs.mfa.age"), "--trust", s.work.file("a.pub.pem"), "--identity", s.work.file("b.age.key")])
        #expect(jobsVerify.status == 0, "\(jobsVerify.stderr)")

        // Without a key: a clear refusal naming --identity, exit 2.
        let noKey = try CLI.run(["verify", encrypted, "--trust", s.work.file("a.pub.pem")])
        #expect(noKey.status == 2 && noKey.stderr.contains("--identity"), "\(noKey.stderr)")

        // Import from the encrypted archive and from the plain one: the same tree, and both reconcile.
        for (name, archive, keys) in [("enc", encrypted, ["--identity", s.work.file("b.age.key")]), ("plain", s.work.file("plain-b.age.key.mfa"), [])] {
            let imported = try CLI.run(["import", archive, "--trust", s.work.file("a.pub.pem"), "--target", "dir:\(s.work.file(name))"] + keys)
            #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
            let reconciled = try CLI.run(["reconcile", archive, "--trust", s.work.file("a.pub.pem"), "--target", "dir:\(s.work.file(name))"] + keys)
            #expect(reconciled.status == 0, "\(reconciled.stdout) \(reconciled.stderr)")
        }
        // The lists differ only in the UIDVALIDITY each run gives folders the source had no list for.
        let diff = try ProcessRunner.run("/usr/bin/diff", ["-r", "-x", "dovecot-uidlist", s.work.file("enc"), s.work.file("plain")])
        #expect(diff.status == 0, "\(diff.stdout)")
    }

    @Test func anArchiveEncryptedByAgeIsReadAndADeltaBuildsOnAnEncryptedBase() throws {
        let s = try Setup()
        #expect(try s.export().status == 0)
        let recipient = try String(contentsOfFile: s.work.file("b.age.pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let made = try ProcessRunner.run(tool: "age", ["-r", recipient, "-o", s.work.file("byage.mfa.age"), s.work.file("june.mfa")])
        #expect(made.status == 0, "\(made.stderr)")
        let verify = try CLI.run(["verify", s.work.file("byage.mfa.age"), "--trust", s.work.file("a.pub.pem"), "--identity", s.work.file("b.age.key")])
        #expect(verify.status == 0, "\(verify.stderr)")

        // Station A keeps an escrow key among the recipients, so its next export can read the base it builds on.
        let full = try CLI.run([
            "export", "--source", "dir:\(s.store)", "--sign-key", s.work.file("a.key.pem"), "--out", s.work.file("full.mfa"),
            "--encrypt-to", s.work.file("b.age.pub"), "--encrypt-to", s.work.file("escrow.pub"),
        ])
        #expect(full.status == 0, "\(full.stderr)")
        let delta = try CLI.run([
            "export", "--source", "dir:\(s.store)", "--sign-key", s.work.file("a.key.pem"), "--out", s.work.file("delta.mfa"),
            "--since", s.work.file("full.mfa.age"), "--identity", s.work.file("escrow.key"), "--encrypt-to", s.work.file("b.age.pub"),
        ])
        #expect(delta.status == 0 && delta.stdout.contains("delta of"), "\(delta.stdout) \(delta.stderr)")
        for archive in ["full.mfa.age", "delta.mfa.age"] {
            let imported = try CLI.run([
                "import", s.work.file(archive), "--trust", s.work.file("a.pub.pem"), "--target", "dir:\(s.work.file("target"))",
                "--identity", s.work.file("b.age.key"),
            ])
            #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(archive): \(imported.stdout) \(imported.stderr)")
        }
    }

    @Test func damageIsRefusedWithExitOneBeforeTheTargetIsTouched() throws {
        let s = try Setup()
        // Random letters, which compress to about 5 bits each: about 5 MB of archive, so the data spans two zstd frames
        // and the import would write the first user from the first frame before it reached damage in the second.
        // The message is the second user's.
        let inbox = s.store + "/bob@example.com/Maildir/cur"
        var generator = SplitMix64(seed: 9)
        let noise = (0..<8_000_000).map { _ in UInt8.random(in: 65...90, using: &generator) }
        try Data(Array("Subject: noise\r\n\r\n".utf8) + noise).write(to: URL(fileURLWithPath: inbox + "/1700000000.noise.host:2,S"))
        #expect(try s.export(["--encrypt-to", s.work.file("b.age.pub")]).status == 0)
        let good = try Data(contentsOf: URL(fileURLWithPath: s.work.file("june.mfa.age")))
        #expect(good.count > 4_500_000)

        func refusal(_ bytes: Data, _ name: String, key: String = "b.age.key") throws -> ProcessOutput {
            let path = s.work.file(name + ".mfa.age")
            try bytes.write(to: URL(fileURLWithPath: path))
            let target = s.work.file("target-" + name)
            let result = try CLI.run(["import", path, "--trust", s.work.file("a.pub.pem"), "--target", "dir:\(target)", "--identity", s.work.file(key)])
            #expect(!FileManager.default.fileExists(atPath: target), "\(name): the target was written to")
            return result
        }
        var flipped = good
        // In the second frame's data, before the manifest's frame.
        flipped[good.count - 100_000] ^= 0x40
        let damaged = try refusal(flipped, "flipped")
        #expect(damaged.status == 1 && damaged.stderr.contains("is damaged"), "\(damaged.stderr)")

        let cut = try refusal(good.prefix(good.count - 65_552 - 300), "cut")
        #expect(cut.status == 1 && cut.stderr.contains("truncated"), "\(cut.stderr)")

        #expect(try CLI.run(["keygen", "--encryption", "--out", s.work.file("other")]).status == 0)
        let wrongKey = try refusal(good, "wrongkey", key: "other.age.key")
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("none of the keys"), "\(wrongKey.stderr)")
    }
}
