import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Exports from a server that stalls, cuts, trickles, lies about sizes or echoes the password (hostile_imap.py),
/// with a 1 s `--timeout`: each ends with a clear message and never shows the password. The process limit is a
/// guard against a hang, not a measurement.
@Suite(.serialized, .blocking) struct HostileIMAPTests {
    static let user = "alice@example.com"

    /// hostile_imap.py in one mode, on a free port of 127.0.0.1.
    static func hostileServer(_ mode: String) throws -> ListeningScript {
        try ListeningScript(CLI.repositoryRoot + "/Tests/MailFerryCLITests/hostile_imap.py", [mode])
    }

    /// A key, a 0600 credentials file, and the export command against `server`.
    struct Setup {
        let work: Workspace
        let credentials: String

        init(credentials text: String = "\(HostileIMAPTests.user)\tnot-a-real-password-4471\n") throws {
            work = try Workspace()
            credentials = work.file("c.tsv")
            try CredentialsFile.write(text, to: credentials)
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        func export(_ server: ListeningScript, _ extra: [String] = []) throws -> ProcessOutput {
            try ProcessRunner.run(
                CLI.binary,
                [
                    "export", "--source", "imap://127.0.0.1:\(server.port)", "--user", HostileIMAPTests.user,
                    "--credentials", credentials, "--allow-plaintext", "--timeout", "1",
                    "--sign-key", work.file("k.key.pem"), "--out", work.file("a.mfa"),
                ] + extra,
                limit: 300)
        }
    }

    @Test func aServerThatNeverGreetsFailsTheExportAfterOneRetry() throws {
        let server = try Self.hostileServer("silent")
        let s = try Setup()
        let r = try s.export(server)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(server.port)"), "\(r.stderr)")
        #expect(r.stderr.contains("accepted the connection but sent no greeting"), "\(r.stderr)")
        #expect(r.stderr.contains("timed out 2 times in a row; giving up"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.work.file("a.mfa")))
    }

    @Test func aServerThatDropsEveryFetchFailsTheExportWithinTheRetryBudget() throws {
        let server = try Self.hostileServer("drop-fetch")
        let s = try Setup()
        let r = try s.export(server)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(server.port) UID FETCH"), "\(r.stderr)")
        #expect(r.stderr.contains("failed 7 times in a row; giving up"), "\(r.stderr)")
    }

    @Test func aServerThatTricklesABodyIsCutOff() throws {
        let server = try Self.hostileServer("trickle")
        let s = try Setup()
        let r = try s.export(server)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(server.port) UID FETCH"), "\(r.stderr)")
        #expect(r.stderr.contains("stalled part way through a response"), "\(r.stderr)")
        #expect(r.stderr.contains("giving up"), "\(r.stderr)")
    }

    @Test func aBodyOfAnotherSizeThanRFC822SizeIsArchivedWithAWarning() throws {
        let server = try Self.hostileServer("size-mismatch")
        let s = try Setup()
        let r = try s.export(server)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let warning = r.stderr.split(separator: "\n").first { $0.contains("warning:") && $0.contains("RFC822.SIZE") }
        let line = try #require(warning, "\(r.stderr)")
        #expect(line.contains("INBOX UID 1") && line.contains("gave 2874 bytes") && line.contains("RFC822.SIZE is 2884"), "\(line)")
        #expect(r.stdout.contains("1 warnings"), "\(r.stdout)")
    }

    /// The password in every form a server could echo: as is, inside a quoted string, and base64 of it and of
    /// the SASL PLAIN message.
    static func forms(of password: String, user: String, authorizationID: String = "") -> [String] {
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let blob = Data(authorizationID.utf8) + Data([0]) + Data(user.utf8) + Data([0]) + Data(password.utf8)
        return [password, escaped, Data(password.utf8).base64EncodedString(), blob.base64EncodedString()]
    }

    /// LOGIN with a quoted password and with a literal one (not 7-bit), AUTHENTICATE PLAIN with and without an
    /// initial response, and SASL PLAIN for an admin acting as the user.
    @Test(arguments: [
        ("echo-login", "quo\"ted\\pass-9031", false),
        ("echo-login", "lïteral-päss-5512", false),
        ("echo-plain", "plain-pass-7716", false),
        ("echo-plain-continuation", "cont-pass-2248", false),
        ("echo-plain", "admin-pass-6613", true),
    ])
    func aServerThatEchoesTheLoginNeverGetsThePasswordShown(mode: String, password: String, admin: Bool) throws {
        let server = try Self.hostileServer(mode)
        let s = try Setup(credentials: admin ? "*\tadmin\t\(password)\tsasl\n" : "\(Self.user)\t\(password)\n")
        let r = try s.export(server)
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("[redacted]"), "the server's echo is shown, without the secret: \(r.stderr)")
        let forms = admin
            ? Self.forms(of: password, user: "admin", authorizationID: Self.user) : Self.forms(of: password, user: Self.user)
        for form in forms {
            #expect(!r.stderr.contains(form) && !r.stdout.contains(form), "\(form) shown: \(r.stderr)")
        }
    }

    @Test func aCredentialsFileOthersCanReadIsRefusedUnlessAllowed() throws {
        let server = try Self.hostileServer("size-mismatch")
        let s = try Setup()
        chmod(s.credentials, 0o644)
        let refused = try s.export(server)
        #expect(refused.status == 2, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("\(s.credentials): mode 0644"), "\(refused.stderr)")
        #expect(refused.stderr.contains("chmod 600 \(s.credentials)") && refused.stderr.contains("--allow-readable-credentials"))
        #expect(!FileManager.default.fileExists(atPath: s.work.file("a.mfa")))

        let allowed = try s.export(server, ["--allow-readable-credentials"])
        #expect(allowed.status == 0, "\(allowed.stdout) \(allowed.stderr)")
        #expect(allowed.stderr.contains("warning: \(s.credentials): mode 0644"), "\(allowed.stderr)")

        chmod(s.credentials, 0o640)
        let group = try s.export(server)
        #expect(group.status == 2 && group.stderr.contains("mode 0640"), "\(group.stderr)")
    }
}

extension HostileIMAPTests {
    /// `[imap] timeout` in the buffer's configuration bounds a release to an IMAP server that never answers, as
    /// `--timeout` bounds an export: the release fails with a clear message and the held mail stays held.
    @Test func aReleaseToAServerThatNeverGreetsFailsWithinTheConfiguredTimeout() throws {
        let server = try Self.hostileServer("silent")
        let s = try Setup()
        let config = try BufferCommandLineTests.writeConfig(
            s.work, extra: "[imap]\ncredentials = \"\(s.credentials)\"\nallow_plaintext = true\ntimeout = 1")
        do {
            let serve = try BufferCommandLineTests.Serve(config: config)
            #expect(try BufferCommandLineTests.send(port: serve.smtpPort, to: "alice@buffer.example.com") == "OK {}\n")
            #expect(serve.terminate() == 0, "\(serve.errors.text)")
        }
        #expect(try CLI.run(["buffer", "forwarding", "--config", config, "--user", Self.user, "--off"]).status == 0)
        let release = try ProcessRunner.run(
            CLI.binary,
            ["buffer", "release", "--config", config, "--user", Self.user, "--to", "imap://127.0.0.1:\(server.port)", "--undo"],
            limit: 120)
        #expect(release.status == 3, "\(release.stdout) \(release.stderr)")
        #expect(release.stderr.contains("accepted the connection but sent no greeting"), "\(release.stderr)")
        let held = try BufferCommandLineTests.statusJSON(config)
        #expect(held.first?.heldCount == 1, "\(held)")
    }
}
