import Testing

@testable import SMTPCore

struct SMTPReplyTests {
    @Test func singleLine() {
        #expect(text(SMTPReply.senderOK.bytes) == "250 2.1.0 Sender OK\r\n")
        #expect(text(SMTPReply.userUnknown.bytes) == "550 5.1.1 User unknown\r\n")
        #expect(text(SMTPReply.insufficientStorage.bytes) == "452 4.3.1 Insufficient system storage\r\n")
        #expect(
            text(SMTPReply.messageTooBig(limit: 1000).bytes)
                == "552 5.3.4 Message size exceeds fixed maximum of 1000 octets\r\n")
        #expect(text(SMTPReply.startMailInput.bytes) == "354 End data with <CR><LF>.<CR><LF>\r\n")
        #expect(text(SMTPReply.badSequence("Need MAIL before RCPT").bytes) == "503 5.5.1 Need MAIL before RCPT\r\n")
        #expect(
            text(SMTPReply.greeting(hostname: "buffer.example").bytes)
                == "220 buffer.example ESMTP MailFerry buffer ready\r\n")
        #expect(text(SMTPReply(code: 250, lines: []).bytes) == "250 \r\n")
    }

    @Test func ehloIsMultiline() {
        let reply = SMTPReply.ehlo(
            hostname: "buffer.example", clientDomain: .addressLiteral("127.0.0.1"),
            capabilities: [.pipelining, .size(10_485_760), .eightBitMIME, .enhancedStatusCodes, .startTLS])
        #expect(
            text(reply.bytes) == """
                250-buffer.example greets [127.0.0.1]\r
                250-PIPELINING\r
                250-SIZE 10485760\r
                250-8BITMIME\r
                250-ENHANCEDSTATUSCODES\r
                250 STARTTLS\r

                """)
    }

    @Test func multilineWithEnhancedCode() {
        let reply = SMTPReply(code: 214, enhancedStatusCode: .init(2, 0, 0), lines: ["one", "two"])
        #expect(text(reply.bytes) == "214-2.0.0 one\r\n214 2.0.0 two\r\n")
        #expect(reply.enhancedStatusCode?.description == "2.0.0")
    }

    @Test func textCannotInjectLines() {
        let hostile = "x\r\n250 2.0.0 injected\nand\u{0}more é"
        let reply = SMTPReply.syntaxError(hostile)
        #expect(reply.lines == ["x??250 2.0.0 injected?and?more ?"])
        let wire = reply.bytes
        #expect(wire.filter { $0 == 10 }.count == 1)
        #expect(wire.filter { $0 == 13 }.count == 1)
        #expect(wire.allSatisfy { $0 < 128 })
        let domainEcho = SMTPReply.helo(hostname: "h", clientDomain: .name("a\r\nb"))
        #expect(domainEcho.lines == ["h greets a??b"])
    }

    @Test func linesFitTheReplyLimit() {
        let reply = SMTPReply.syntaxError(String(repeating: "y", count: 2000))
        #expect(reply.bytes.count == SMTPLimits.replyLineLength)
        let plain = SMTPReply(code: 250, lines: [String(repeating: "z", count: 600), "short"])
        let lines = text(plain.bytes).split(separator: "\r\n")
        #expect(lines.map(\.utf8.count) == [510, 9])
    }

    @Test func classes() {
        #expect(SMTPReply.ok.isPositive)
        #expect(SMTPReply.localError.isTransientFailure)
        #expect(SMTPReply.noValidRecipients.isPermanentFailure)
        #expect(
            SMTPReply.tooManyRecipients.code == 452 && SMTPReply.tooManyRecipients.enhancedStatusCode == .init(4, 5, 3))
        #expect(SMTPReply.shuttingDown(hostname: "h").code == 421)
    }
}
