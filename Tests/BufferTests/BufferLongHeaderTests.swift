import Buffer
import BufferSpool
import Foundation
import Testing

/// End to end: a header section longer than the in-memory scan limit keeps its Message-ID and its loop check.
@Suite struct BufferLongHeaderTests {
    /// A message whose header section is about `fillerOctets` long before `tail`.
    static func message(fillerOctets: Int, tail: String) -> [UInt8] {
        HeaderScannerLongHeaderTests.header(fillerOctets: fillerOctets, then: tail)
    }

    @Test func aMessageIDBehindMoreThan64KiBOfHeaderIsKept() async throws {
        try await LiveBuffer.with { live in
            let message = Self.message(
                fillerOctets: 100 * 1024, tail: "Message-ID: <deep@example.org>\r\n\r\nbody after a long header\r\n")
            #expect(message.count > BufferDefaults.headerScanLimit + 30 * 1024)
            let path = live.directory + "/long.eml"
            try Data(message).write(to: URL(fileURLWithPath: path))
            let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", path])
            #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            let held = try live.held("alice@example.com")
            try #require(held.count == 1)
            #expect(held[0].message.envelope.messageID == "<deep@example.org>")
            #expect(splitTrace(held[0].bytes).message == message)
            #expect(held[0].message.sha256 == sha256(held[0].bytes))
            // The spool keeps it too (what loop avoidance and release look at).
            #expect(try live.spool.heldMessages(for: "alice@example.com").first?.envelope.messageID == "<deep@example.org>")
        }
    }

    @Test func ourLoopMarkerBehind64KiBOfHeaderIsStillALoop() async throws {
        try await LiveBuffer.with { live in
            let message = Self.message(
                fillerOctets: 80 * 1024, tail: "X-MailFerry-Buffered: \(LiveBuffer.hostname)\r\n\r\nlooping\r\n")
            let path = live.directory + "/loop.eml"
            try Data(message).write(to: URL(fileURLWithPath: path))
            let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", path])
            #expect(out.stdout.hasPrefix("DATA 554 5.4.6 "), "\(out.stdout) \(out.stderr)")
            #expect(try live.held("alice@example.com").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: live.server.configuration.spoolDirectory + "/incoming").isEmpty)
        }
    }
}
