import Testing

@testable import SMTPCore

func summary(
    _ size: Int, max: Int = 1 << 20, bareLF: Int = 0, bareCR: Int = 0, long: Int = 0,
    rejection: SMTPDataSummary.Rejection? = nil
) -> SMTPDataSummary {
    SMTPDataSummary(
        size: size, maximumSize: max, bareLineFeeds: bareLF, bareCarriageReturns: bareCR, longLines: long,
        rejection: rejection)
}

struct SMTPFramerTests {
    /// A swaks session as the client writes it, pipelined into one stream.
    static let swaksInput = """
        EHLO client.example.net\r
        MAIL FROM:<user@client.example.net>\r
        RCPT TO:<alice@buffer.example>\r
        DATA\r
        Date: Sat, 21 Nov 2026 10:00:00 +0000\r
        To: alice@buffer.example\r
        From: user@client.example.net\r
        Subject: test Sat, 21 Nov 2026 10:00:00 +0000\r
        Message-Id: <20261121100000.012345@client.example.net>\r
        X-Mailer: swaks v20240103.0 jetmore.org/john/code/swaks/\r
        \r
        This is a test mailing\r
        ..leading dot stuffed\r
        .\r
        QUIT\r

        """

    static let swaksContent = """
        Date: Sat, 21 Nov 2026 10:00:00 +0000\r
        To: alice@buffer.example\r
        From: user@client.example.net\r
        Subject: test Sat, 21 Nov 2026 10:00:00 +0000\r
        Message-Id: <20261121100000.012345@client.example.net>\r
        X-Mailer: swaks v20240103.0 jetmore.org/john/code/swaks/\r
        \r
        This is a test mailing\r
        .leading dot stuffed\r

        """

    @Test("same events for every way of splitting the stream", arguments: Split.all)
    func splitsGiveIdenticalEvents(_ split: Split) {
        let expected: [Framed] = [
            .line("EHLO client.example.net"),
            .line("MAIL FROM:<user@client.example.net>"),
            .line("RCPT TO:<alice@buffer.example>"),
            .line("DATA"),
            .content(Self.swaksContent),
            .end(summary(Self.swaksContent.utf8.count)),
            .line("QUIT"),
        ]
        #expect(frame(split.chunks(bytes(Self.swaksInput))) == expected)
    }

    @Test func endMarkerSplitAcrossChunks() {
        let expected: [Framed] = [.line("DATA"), .content("abc\r\n"), .end(summary(5)), .line("QUIT")]
        #expect(frame([bytes("DATA\r\nabc\r\n."), bytes("\r\nQUIT\r\n")]) == expected)
        #expect(frame([bytes("DATA\r\nabc\r"), bytes("\n.\r"), bytes("\nQUIT\r\n")]) == expected)
        #expect(frame([bytes("DATA\r\nabc\r\n"), bytes("."), bytes("\r"), bytes("\n"), bytes("QUIT\r\n")]) == expected)
        // A dot-stuffed line split after its dot is content, not the end.
        #expect(
            frame([bytes("DATA\r\nabc\r\n."), bytes(".\r\n.\r\n")])
                == [.line("DATA"), .content("abc\r\n.\r\n"), .end(summary(8))])
    }

    @Test func emptyMessage() {
        #expect(frame([bytes("DATA\r\n.\r\nNOOP\r\n")]) == [.line("DATA"), .end(summary(0)), .line("NOOP")])
    }

    @Test func dotUnstuffing() {
        let input = "DATA\r\n..\r\n...x\r\n.y\r\nz.\r\n.\r\n"
        #expect(frame([bytes(input)]) == [.line("DATA"), .content(".\r\n..x\r\ny\r\nz.\r\n"), .end(summary(15))])
    }

    @Test func bareLineFeedInCommandIsAcceptedAndCounted() throws {
        var framer = SMTPFramer()
        framer.append(bytes("NOOP\nRSET\r\n"))
        #expect(try framer.next() == .event(.commandLine(bytes("NOOP"))))
        #expect(try framer.next() == .event(.commandLine(bytes("RSET"))))
        #expect(try framer.next() == .needMoreBytes)
        #expect(framer.bareLineFeedCommandLines == 1)
    }

    @Test func bareCarriageReturnInCommandIsAnError() {
        #expect(frame([bytes("NO\rOP\r\nRSET\r\n")]) == [.error(.bareCarriageReturn), .line("RSET")])
    }

    @Test func commandLineLimit() {
        let longest = String(repeating: "A", count: 510)
        #expect(frame([bytes(longest + "\r\n")]) == [.line(longest)])
        #expect(frame([bytes(longest + "A\r\nNOOP\r\n")]) == [.error(.lineTooLong(limit: 512)), .line("NOOP")])
        for split in Split.all {
            let input = bytes(String(repeating: "B", count: 5000) + "\r\nNOOP\r\n")
            #expect(frame(split.chunks(input)) == [.error(.lineTooLong(limit: 512)), .line("NOOP")], "\(split)")
        }
    }

    @Test func overlongLineIsNotBuffered() throws {
        var framer = SMTPFramer()
        for _ in 0..<100 {
            framer.append([UInt8](repeating: 65, count: 1000))
            #expect(try framer.next() == .needMoreBytes)
            #expect(framer.bufferedByteCount < SMTPLimits.commandLineLength)
        }
        framer.append(bytes("\r\nQUIT\r\n"))
        #expect(throws: SMTPFramingError.lineTooLong(limit: 512)) { try framer.next() }
        #expect(try framer.next() == .event(.commandLine(bytes("QUIT"))))
    }

    @Test("bare LF in DATA is normalized and counted", arguments: Split.all)
    func bareLineFeedNormalized(_ split: Split) {
        let input = bytes("DATA\r\na\nb\r\n.\r\n")
        #expect(frame(split.chunks(input)) == [.line("DATA"), .content("a\r\nb\r\n"), .end(summary(6, bareLF: 1))])
    }

    @Test func bareLineFeedRejectedByPolicy() {
        let options = SMTPFramer.Options(bareLineFeeds: .reject)
        let events = frame([bytes("DATA\r\na\nb\r\n.\r\n")], options: options)
        #expect(events.last == .end(summary(5, bareLF: 1, rejection: .bareLineEnding)))
    }

    @Test("only CRLF.CRLF ends DATA (no LF.LF, no LF.CRLF, no CRLF.LF)", arguments: Split.all)
    func noSmuggledEnd(_ split: Split) {
        let input = bytes("DATA\r\na\n.\nb\n.\r\nc\r\n.\nd\r.\re\r\n.\r\nNOOP\r\n")
        #expect(
            frame(split.chunks(input)) == [
                .line("DATA"),
                .content("a\r\n\r\nb\r\n\r\nc\r\n\r\nd\r.\re\r\n"),
                .end(summary(22, bareLF: 4, bareCR: 2)),
                .line("NOOP"),
            ])
    }

    @Test func longLinesCountedOrRejected() {
        let line = String(repeating: "x", count: 998)
        let input = bytes("DATA\r\n\(line)\r\n\(line)y\r\n\(line)yy\r\nshort\r\n.\r\n")
        let accepted = frame([input])
        #expect(accepted.last == .end(summary(998 + 999 + 1000 + 5 + 8, long: 2)))
        let rejected = frame([input], options: SMTPFramer.Options(longLines: .reject))
        #expect(rejected.last == .end(summary(998 + 999 + 1000 + 5 + 8, long: 2, rejection: .lineTooLong)))
    }

    @Test("a too large message stops producing content but is read to its end", arguments: Split.all)
    func tooLarge(_ split: Split) {
        let body = String(repeating: "0123456789\r\n", count: 10)
        let input = bytes("DATA\r\n" + body + ".\r\nQUIT\r\n")
        let events = frame(split.chunks(input), maximumSize: 50)
        #expect(
            events == [
                .line("DATA"),
                .content(text(Array(bytes(body).prefix(50)))),
                .end(summary(120, max: 50, rejection: .tooLarge)),
                .line("QUIT"),
            ])
    }

    @Test func stayingInDataModeHoldsNothing() throws {
        var framer = SMTPFramer()
        framer.append(bytes("DATA\r\n"))
        #expect(try framer.next() == .event(.commandLine(bytes("DATA"))))
        framer.beginData(maximumSize: 1 << 30)
        var received = 0
        for _ in 0..<200 {
            framer.append(bytes(String(repeating: "line of text\r\n", count: 100)))
            guard case .event(.content(let chunk)) = try framer.next() else {
                Issue.record("no content")
                return
            }
            received += chunk.count
            #expect(framer.bufferedByteCount == 0)
        }
        #expect(received == 200 * 1400)
    }

    @Test func discardBufferedInput() throws {
        var framer = SMTPFramer()
        framer.append(bytes("STARTTLS\r\nMAIL FROM:<evil@example>\r\n"))
        #expect(try framer.next() == .event(.commandLine(bytes("STARTTLS"))))
        framer.discardBufferedInput()
        #expect(try framer.next() == .needMoreBytes)
    }
}
