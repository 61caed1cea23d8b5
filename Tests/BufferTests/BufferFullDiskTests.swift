import Buffer
import BufferSpool
import Foundation
import Testing

/// End to end: a spool whose writes fail with ENOSPC answers 452 (SMTP once, LMTP per recipient) and keeps nothing.
@Suite struct BufferFullDiskTests {
    /// The spool's writes go to /dev/full, where the kernel fails every write with ENOSPC, as a full file system
    /// does: the seam `IncomingFiles.existingFile` (no root, no mount needed).
    @Test func aFullDiskGives452OverSMTPAndLMTPAndKeepsNothing() async throws {
        try await LiveBuffer.with(incomingFiles: .existingFile("/dev/full")) { live in
            let path = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: path))
            let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", path])
            #expect(out.stdout == "DATA 452 4.3.1 Insufficient system storage\n", "\(out.stdout) \(out.stderr)")
            let script = #"""
                import smtplib, sys
                l = smtplib.LMTP('127.0.0.1', int(sys.argv[1]), timeout=20, local_hostname='client.test')
                l.ehlo('mta.test')
                l.mail('c@example.org')
                print(l.rcpt('alice@example.com')[0], l.rcpt('bob@example.com')[0], l.docmd('DATA')[0])
                l.send(b'Subject: full\r\n\r\nbody\r\n.\r\n')
                for _ in range(2):
                    code, msg = l.getreply()
                    print(code, msg.decode())
                l.quit()
                """#
            let lmtp = try await Client.python(script, ["\(live.lmtpPort)"])
            #expect(
                lmtp.stdout == "250 250 354\n452 4.3.1 Insufficient system storage\n452 4.3.1 Insufficient system storage\n",
                "\(lmtp.stdout) \(lmtp.stderr)")
            #expect(try live.held("alice@example.com").isEmpty)
            #expect(try live.held("bob@example.com").isEmpty)
            let spoolDirectory = live.server.configuration.spoolDirectory
            #expect(try FileManager.default.contentsOfDirectory(atPath: spoolDirectory + "/messages").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: spoolDirectory + "/incoming").isEmpty)
        }
    }
}
