import Foundation
import Testing
import TestSupport

/// What an operator reads when a server cannot be reached or its certificate is not accepted: the host, the port
/// and the problem in a mail administrator's words (connection refused, an issuer not trusted, expired, made out
/// to another name), and the option that changes it; never SwiftNIO's or BoringSSL's error values.
@Suite(.blocking) struct ConnectionErrorTests {
    static let password = "alice-Cert-Test-42"

    /// An archive of the sample store, its key and an admin credentials line.
    struct Archive {
        let work: Workspace
        let path: String
        let trust: String
        let credentials: String

        init() throws {
            work = try Workspace()
            let store = try work.sampleStore()
            #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
            path = work.file("s.mfa")
            trust = work.file("a.pub.pem")
            let exported = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", path])
            #expect(exported.status == 0, "\(exported.stderr)")
            credentials = work.file("c.tsv")
            try CredentialsFile.write("alice@example.com\t\(ConnectionErrorTests.password)\nbob@example.com\t\(ConnectionErrorTests.password)\n", to: credentials)
        }

        func reconcile(_ target: String, _ extra: [String] = []) throws -> CLI.Result {
            try CLI.run(
                ["reconcile", path, "--trust", trust, "--target", target, "--credentials", credentials, "--journal", work.file("j")]
                    + extra)
        }
    }

    static func expectWords(_ result: CLI.Result, _ words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.stderr.contains(word), "should say \"\(word)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
        for leaked in ["NIOSSL", "BoringSSL", "sslError", "NIOConnectionError", "IOError", "errno"] {
            #expect(!result.stderr.contains(leaked), "\(leaked) in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func anUntrustedIssuerIsNamedWithTheOptionThatTrustsIt() throws {
        let a = try Archive()
        let server = try DovecotIMAPServer(users: [.init("alice@example.com", Self.password), .init("bob@example.com", Self.password)])
        for target in ["imaps://127.0.0.1:\(server.imapsPort)", "imap://127.0.0.1:\(server.imapPort)"] {
            let result = try a.reconcile(target)
            Self.expectWords(result, [
                "127.0.0.1:", "certificate (CN=localhost) is not accepted",
                "its issuer CN=MailFerry Test CA is not among this machine's trusted CAs", "--ca-file",
            ])
        }
    }

    @Test func aCertificateForAnotherNameIsAHostNameMismatch() throws {
        let a = try Archive()
        let server = try DovecotIMAPServer(users: [.init("alice@example.com", Self.password)], subjectAltName: "DNS:mail.example.net")
        let result = try a.reconcile("imaps://127.0.0.1:\(server.imapsPort)", ["--ca-file", server.caFile])
        Self.expectWords(result, ["made out to mail.example.net, not 127.0.0.1", "host name mismatch"])
    }

    @Test func anExpiredCertificateSaysSince() throws {
        let a = try Archive()
        let server = try DovecotIMAPServer(users: [.init("alice@example.com", Self.password)])
        // The same key and CA, valid until yesterday.
        let script = #"""
            import datetime, sys
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.x509.oid import NameOID
            root = sys.argv[1]
            ca = x509.load_pem_x509_certificate(open(root + "/ca.pem", "rb").read())
            ca_key = serialization.load_pem_private_key(open(root + "/ca.key", "rb").read(), None)
            key = serialization.load_pem_private_key(open(root + "/server.key", "rb").read(), None)
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                    x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
                .sign(ca_key, hashes.SHA256()))
            open(root + "/server.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
            """#
        let made = try Python.run(["-c", script, server.root])
        #expect(made.status == 0, "\(made.stderr)")
        try server.restart()
        let result = try a.reconcile("imaps://127.0.0.1:\(server.imapsPort)", ["--ca-file", server.caFile])
        Self.expectWords(result, ["certificate (CN=localhost) is not accepted: it expired on "])
    }

    @Test func aPasswordInTheClearIsRefusedNamingTheOption() throws {
        let a = try Archive()
        let server = try DovecotIMAPServer(users: [.init("alice@example.com", Self.password)], allowPlaintextAuth: true, tls: false)
        let result = try CLI.run([
            "export", "--source", "imap://127.0.0.1:\(server.imapPort)", "--user", "alice@example.com", "--credentials", a.credentials,
            "--sign-key", a.work.file("a.key.pem"), "--out", a.work.file("x.mfa"),
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("the server offers no STARTTLS; --allow-plaintext allows it"), "\(result.stderr)")
        #expect(!result.stderr.contains("allowPlaintextPassword"), "\(result.stderr)")
    }

    @Test func anLMTPServerThatIsDownIsConnectionRefused() throws {
        let work = try Workspace()
        let config = try BufferCommandLineTests.writeConfig(work)
        let alice = ["--config", config, "--user", "alice@example.com"]
        #expect(try CLI.run(["buffer", "hold"] + alice).status == 0)
        #expect(try CLI.run(["buffer", "forwarding"] + alice + ["--off"]).status == 0)
        let port = try FreePort.make()
        let result = try CLI.run(["buffer", "release"] + alice + ["--to", "lmtp://127.0.0.1:\(port)", "--undo"])
        Self.expectWords(result, ["cannot connect to the LMTP server 127.0.0.1 port \(port): connection refused"])
    }
}
