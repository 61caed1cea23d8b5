import Buffer
import BufferSpool
import Foundation
import Testing
import TestSupport

/// Releases run inside the running server; the `[imap]` section of its configuration file is read again for each
/// release, so a changed section takes effect at the next release without a restart. The plaintext refusal names
/// the configuration key, since that is where a release's IMAP settings are made.
@Suite(.blocking) struct ReleaseConfigurationReloadTests {
    static let password = "alice-Reload-Secret-5"

    @Test func aChangedIMAPSectionTakesEffectAtTheNextReleaseWithoutARestart() async throws {
        let dovecot = try DovecotIMAPServer(
            users: [.init(ReleaseFixture.user, Self.password)], allowPlaintextAuth: true, tls: false)
        let fx = try ReleaseFixture()
        try fx.hold(2)
        try fx.receipt()
        let credentials = fx.file("imap.tsv")
        try CredentialsFile.write("\(ReleaseFixture.user)\t\(Self.password)\n", to: credentials)
        let config = fx.file("buffer.toml")
        let base = """
            [lmtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(fx.spoolDirectory)"
            namespace = "buffer.example.com"
            [imap]
            credentials = "\(credentials)"

            """
        try base.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try await LiveBuffer.startAfterClose(try BufferConfiguration.load(path: config))
        let parameters = ReleaseJob.Parameters(
            user: ReleaseFixture.user, target: "imap://127.0.0.1:\(dovecot.imapPort)", receiptPath: fx.file("receipts"),
            trustedKeyPath: fx.publicPath, archiveID: nil, undo: false)
        let spoolDirectory = fx.spoolDirectory
        do {
            // No STARTTLS at this server, and the configuration does not allow a password in the clear.
            let refused = try await Client.offThread { try BufferControlClient.send(.release(parameters), spoolDirectory: spoolDirectory) }
            #expect(!refused.ok)
            #expect(
                refused.error?.contains("allow_plaintext = true in the [imap] section of \(config) allows it") == true,
                "\(refused.error ?? "")")
            #expect(refused.error?.contains("allowPlaintextPassword") == false)

            // The operator allows it in the file; the running server's next release uses it.
            try (base + "allow_plaintext = true\n").write(toFile: config, atomically: true, encoding: .utf8)
            let released = try await Client.offThread { try BufferControlClient.send(.release(parameters), spoolDirectory: spoolDirectory) }
            #expect(released.ok, "\(released.error ?? "")")
            #expect(released.release?.delivered == 2 && released.release?.state == .released)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }
}
