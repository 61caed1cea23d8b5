import Foundation
import Testing
import TestSupport

/// The systemd unit in contrib/ gives the buffer a private /tmp (PrivateTmp=yes) and hides /home, and releases run
/// inside the server. A receipt and key the operator keeps under /tmp must still reach the release: the command
/// copies them into the spool, the one folder both see. The server runs here in its own mount namespace with a
/// fresh tmpfs on /tmp, as the unit's sandbox has it (needs root, as CI runs; skipped where unshare is refused).
@Suite(.blocking) struct SandboxedReleaseTests {
    static var canUnshare: Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /mnt"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    @Test(.enabled(if: SandboxedReleaseTests.canUnshare)) func aReceiptUnderTmpReachesAServerWithAPrivateTmp() throws {
        // Station B's receipt, made as the README says, kept under /tmp by the operator.
        let work = try Workspace()
        let store = try work.sampleStore()
        for name in ["a", "b"] { #expect(try CLI.run(["keygen", "--out", work.file(name)]).status == 0) }
        let archive = work.file("s.mfa")
        #expect(try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", archive]).status == 0)
        let imported = try CLI.run([
            "import", archive, "--trust", work.file("a.pub.pem"), "--target", "dir:" + work.file("target"),
            "--receipt", work.file("receipts"), "--sign-key", work.file("b.key.pem"),
        ])
        #expect(imported.status == 0, "\(imported.stderr)")

        // The buffer's own folder outside /tmp, as /var/lib/mailferry is for the unit.
        let shared = "/var/tmp/mf-sandbox-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        // The server's binary outside /tmp too, wherever the checkout is (a clone under /tmp is hidden by the tmpfs).
        let binary = shared + "/mailferry"
        // Copied by cp, not in this process: a descriptor open for writing here would be inherited by whatever another
        // test starts meanwhile, and exec of the copy would then fail with ETXTBSY ("Text file busy").
        let copied = try ProcessRunner.run("/bin/cp", [CLI.binary, binary])
        #expect(copied.status == 0, "\(copied.stderr)")
        let config = shared + "/buffer.toml"
        try """
            [smtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(shared)/spool"
            namespace = "buffer.example.com"
            hold = ["alice@example.com"]
            hostname = "buffer.test"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try BufferCommandLineTests.Serve(
            config: config,
            wrapper: ["/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c",
                      "mount -t tmpfs tmpfs /tmp && exec \"$0\" \"$@\"", binary])
        #expect(try BufferCommandLineTests.send(port: serve.smtpPort, to: "alice@buffer.example.com") == "OK {}\n")

        let release = try CLI.run([
            "buffer", "release", "--config", config, "--user", "alice@example.com", "--to", "dir:" + shared + "/newmail",
            "--receipt", work.file("receipts"), "--trust", work.file("b.pub.pem"),
        ])
        #expect(release.status == 0, "\(release.stdout) \(release.stderr)")
        #expect(release.stdout.contains("1 delivered") && release.stdout.contains("state released"), "\(release.stdout)")
        let copies = (try? FileManager.default.contentsOfDirectory(atPath: shared + "/spool/release-requests")) ?? []
        #expect(copies.isEmpty, "the copies are removed: \(copies)")

        // A refusal names the operator's path, not the copy's.
        #expect(try CLI.run(["buffer", "hold", "--config", config, "--user", "bob@example.com"]).status == 0)
        let forged = try CLI.run([
            "buffer", "release", "--config", config, "--user", "bob@example.com", "--to", "dir:" + shared + "/newmail",
            "--receipt", work.file("receipts"), "--trust", work.file("a.pub.pem"),
        ])
        #expect(forged.status == 1 && forged.stderr.contains(work.file("receipts")), "\(forged.stderr)")
        #expect(!forged.stderr.contains("release-requests"), "\(forged.stderr)")
        #expect(serve.terminate() == 0)
    }
}
