import BufferSpool
import Foundation
import Testing
import TestSupport

@testable import Buffer

#if canImport(Glibc)
import Glibc
#endif

/// `buffer release --to imaps://...` into a real Dovecot, killed with SIGKILL part way and run again: every held
/// message is in the user's INBOX exactly once, byte for byte (the IMAP import journal in the spool, and a lookup
/// of the message whose APPEND the kill left unknown).
@Suite(.blocking) struct ReleaseIMAPTests {
    static let password = "alice-Imap-Secret-77"

    /// Prints the SHA-256 of every message in INBOX, one a line.
    static let listing = #"""
        import hashlib, imaplib, ssl, sys
        m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
        m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
        m.login(sys.argv[3], sys.argv[4])
        typ, _ = m.select('INBOX', readonly=True)
        typ, data = m.uid('FETCH', '1:*', '(BODY.PEEK[])')
        for item in data:
            if isinstance(item, tuple):
                print(hashlib.sha256(item[1]).hexdigest())
        m.logout()
        """#

    static func inbox(_ server: DovecotIMAPServer) throws -> [String] {
        let listed = try ProcessRunner.run("/usr/bin/python3", ["-c", listing, "\(server.imapPort)", server.caFile, ReleaseFixture.user, password])
        return listed.stdout.split(separator: "\n").map(String.init)
    }

    @Test func killDashNineDuringAnIMAPReleaseThenRerunDeliversEachMessageExactlyOnce() throws {
        let server = try DovecotIMAPServer(users: [.init(ReleaseFixture.user, Self.password)])
        let fx = try ReleaseFixture()
        let count = 400
        try fx.hold(count)
        try fx.receipt()
        let credentials = fx.file("imap.tsv")
        try CredentialsFile.write("\(ReleaseFixture.user)\t\(Self.password)\n", to: credentials)
        let config = fx.file("buffer.toml")
        try """
            [lmtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(fx.spoolDirectory)"
            namespace = "buffer.example.com"
            [imap]
            credentials = "\(credentials)"
            ca_file = "\(server.caFile)"

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let arguments = [
            "buffer", "release", "--config", config, "--user", ReleaseFixture.user,
            "--to", "imaps://127.0.0.1:\(server.imapsPort)", "--receipt", fx.file("receipts"), "--trust", fx.publicPath, "--json",
        ]
        let first = Process()
        first.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        first.arguments = arguments
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while first.isRunning && Date() < deadline {
            if (try? Self.inbox(server).count) ?? 0 >= 30 { break }
            usleep(20_000)
        }
        kill(first.processIdentifier, SIGKILL)
        while first.isRunning { usleep(10_000) }
        let atKill = try Self.inbox(server).count
        #expect(atKill > 0 && atKill < count, "killed after \(atKill) of \(count) messages: make the test kill earlier")

        let second = Process()
        second.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        second.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        second.standardOutput = out
        second.standardError = err
        try second.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0, "\(errors)")
        let report = try JSONDecoder().decode(ReleaseReport.self, from: data)
        #expect(report.state == .released)
        #expect(!errors.contains(Self.password))

        let hashes = try Self.inbox(server)
        #expect(hashes.count == count)
        let expected = fx.held.map { sha256($0.1) }
        #expect(Set(hashes) == Set(expected))
        #expect(Set(hashes).count == hashes.count, "a message arrived twice")
    }
}
