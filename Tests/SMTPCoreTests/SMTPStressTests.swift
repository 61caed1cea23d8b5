import TestSupport
import Testing

@testable import SMTPCore

/// Hostile input: random bytes and random mixes of real command fragments must never crash the
/// parser, framer or session, and every reply must stay one well-formed reply.
struct SMTPStressTests {
    static let fragments = [
        "EHLO c.example\r\n", "MAIL FROM:<a@example.com>\r\n", "RCPT TO:<alice@buffer.example>\r\n", "DATA\r\n",
        "\r\n.\r\n", ".", "\r", "\n", "RSET\r\n", "QUIT\r\n", "NOOP\r\n", "LHLO x\r\n", "<\"", "@[", "IPv6:",
        "MAIL FROM:<> SIZE=99999999\r\n", "\u{0}", "é", String(repeating: "x", count: 700),
    ]

    @Test("random streams", arguments: [UInt64(7), 99, 12_345])
    func randomStreams(_ seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for mode in [SMTPSession.Mode.smtp, .lmtp] {
            var host = TestHost(configuration(mode), users: users)
            host.start()
            var input: [UInt8] = []
            for _ in 0..<2000 {
                if Bool.random(using: &generator) {
                    input += bytes(Self.fragments.randomElement(using: &generator)!)
                } else {
                    input += (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                }
            }
            host.receive(input, split: .random(seed: seed))
            #expect(host.openMessage == nil || host.connection.session.isReceivingData)
            for line in host.transcript.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast() {
                let wire = Array(line.utf8)
                #expect(wire.count >= 4 && wire.count <= SMTPLimits.replyLineLength - 2)
                #expect(wire.prefix(3).allSatisfy { (48...57).contains($0) })
                #expect(wire[3] == UInt8(ascii: " ") || wire[3] == UInt8(ascii: "-"))
                #expect(wire.allSatisfy { (32...126).contains($0) })
            }
        }
    }

    /// Valid lines with one byte replaced, inserted or removed: whatever still parses must
    /// write back to a line that parses to the same command.
    @Test func mutatedLinesRoundTripOrFail() throws {
        var generator = SplitMix64(seed: 2026)
        let alphabet = bytes("<>@.[]\"\\ =-:,x0") + [0, 9, 10, 13, 127, 200]
        var parsed = 0
        for _ in 0..<20_000 {
            var line = bytes(SMTPCommandParserTests.valid.randomElement(using: &generator)!.0)
            let position = Int.random(in: 0..<line.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: line[position] = alphabet.randomElement(using: &generator)!
            case 1: line.insert(alphabet.randomElement(using: &generator)!, at: position)
            default: line.remove(at: position)
            }
            guard let command = try? SMTPCommandParser.parse(line) else { continue }
            parsed += 1
            #expect(try SMTPCommandParser.parse(command.lineBytes) == command, "\(text(line))")
        }
        #expect(parsed > 1000)
    }
}
