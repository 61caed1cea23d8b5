import Buffer
import FerryKit
import Foundation
import Testing
import TestSupport

@Suite struct BufferConfigurationTests {
    @Test func theMinimalConfigurationWorksAsWritten() throws {
        let c = try BufferConfiguration.parse("""
            [smtp]
            listen = "127.0.0.1:2525"
            [lmtp]
            listen = "127.0.0.1:2424"
            [buffer]
            spool = "/var/lib/mailferry/spool"
            namespace = "buffer.example.com"
            hold = ["alice@example.com", "bob@example.com"]
            """)
        #expect(c.smtp == .init(host: "127.0.0.1", port: 2525))
        #expect(c.lmtp == .init(host: "127.0.0.1", port: 2424))
        #expect(c.spoolDirectory == "/var/lib/mailferry/spool")
        #expect(c.hold == ["alice@example.com", "bob@example.com"])
        #expect(c.limits.recipients == 100)
        #expect(c.heldAddress(for: "alice@buffer.example.com") == "alice@example.com")
        #expect(c.heldAddress(for: "Alice@BUFFER.example.com") == "Alice@example.com")
        #expect(c.heldAddress(for: "alice@example.com") == nil)
    }

    @Test func limitsAndIPv6Listeners() throws {
        let c = try BufferConfiguration.parse("""
            [smtp]
            listen = "[::1]:0"
            [buffer]
            spool = "s"
            namespace = "buffer.example.com"
            [limits]
            message_size = 1048576
            recipients = 500
            """)
        #expect(c.smtp == .init(host: "::1", port: 0))
        #expect(c.limits.messageSize == 1_048_576)
        #expect(c.limits.recipients == 500)
    }

    @Test(arguments: [
        ("[smtp]\nlisten = \"127.0.0.1:2525\"\n[buffer]\nspool = \"s\"\nnamespace = \"b.example.com\"\nhodl = []", "buffer.hodl: unknown key"),
        ("[buffer]\nspool = \"s\"\nnamespace = \"b.example.com\"", "at least one of [smtp] and [lmtp]"),
        ("[smtp]\nlisten = \"localhost\"\n[buffer]\nspool = \"s\"\nnamespace = \"b.example.com\"", "smtp.listen"),
        ("[smtp]\nlisten = \"127.0.0.1:25\"\n[buffer]\nspool = \"s\"\nnamespace = \"b.example.com\"\n[limits]\nrecipients = 5", "limits.recipients"),
        ("[smtp]\nlisten = \"127.0.0.1:25\"\n[buffer]\nnamespace = \"b.example.com\"", "buffer.spool"),
        ("[smtp\nlisten = 1", "line 1"),
    ])
    func badConfigurationsSayWhatAndWhere(_ text: String, _ expected: String) {
        #expect {
            _ = try BufferConfiguration.parse(text, path: "buffer.toml")
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("buffer.toml: ") && message.contains(expected)
        }
    }

    /// `[imap] credentials` that group or others may read is refused, naming its mode, unless
    /// `allow_readable_credentials = true`.
    @Test func aCredentialsFileOthersCanReadIsRefusedUnlessAllowed() throws {
        let directory = try TemporaryDirectory()
        let credentials = directory.file("imap.tsv")
        try CredentialsFile.write("a@example.com\tsecret-1\n", to: credentials)
        func configuration(_ extra: String) throws -> BufferConfiguration {
            try BufferConfiguration.parse("""
                [smtp]
                listen = "127.0.0.1:2525"
                [buffer]
                spool = "s"
                namespace = "b.example.com"
                [imap]
                credentials = "\(credentials)"
                \(extra)
                """, path: "buffer.toml")
        }
        #expect(try configuration("").imap.allowReadableCredentials == false)
        _ = try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: credentials)
        #expect {
            _ = try configuration("")
        } throws: { error in
            let message = "\(error)"
            return message.contains("imap.credentials") && message.contains("mode 0644")
                && message.contains("chmod 600 \(credentials)") && message.contains("allow_readable_credentials = true")
        }
        let allowed = try configuration("allow_readable_credentials = true")
        #expect(allowed.imap.allowReadableCredentials && allowed.deliveryOptions.allowReadableCredentials)
    }
}
