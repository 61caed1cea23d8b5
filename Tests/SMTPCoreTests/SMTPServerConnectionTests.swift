import Testing

@testable import SMTPCore

let users: Set<String> = ["alice@buffer.example", "bob@buffer.example"]

struct SMTPServerConnectionTests {
    /// What Python's smtplib sends for `SMTP("…").send_message(msg)` with a 2-recipient message,
    /// one recipient outside the migration set: lower-case verbs, `size=` from the EHLO SIZE.
    static let smtplibInput = """
        ehlo [127.0.0.1]\r
        mail FROM:<a@example.com> size=52\r
        rcpt TO:<alice@buffer.example>\r
        rcpt TO:<stranger@elsewhere.example>\r
        data\r
        From: a@example.com\r
        Subject: hello\r
        \r
        ..dot line\r
        body\r
        .\r
        quit\r

        """

    static let smtplibReplies = """
        220 buffer.example ESMTP MailFerry buffer ready\r
        250-buffer.example greets [127.0.0.1]\r
        250-PIPELINING\r
        250-SIZE 10000\r
        250-8BITMIME\r
        250 ENHANCEDSTATUSCODES\r
        250 2.1.0 Sender OK\r
        250 2.1.5 Recipient OK\r
        550 5.1.1 User unknown\r
        354 End data with <CR><LF>.<CR><LF>\r
        250 2.0.0 OK: stored as M1\r
        221 2.0.0 buffer.example closing connection\r

        """

    @Test("smtplib transcript, replies in order however the bytes arrive", arguments: Split.all)
    func smtplibTranscript(_ split: Split) {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive(Self.smtplibInput, split: split)
        #expect(host.transcript == Self.smtplibReplies)
        #expect(host.closed)
        #expect(host.messages.count == 1)
        #expect(
            host.messages.first.map { text($0.1) }
                == "From: a@example.com\r\nSubject: hello\r\n\r\n.dot line\r\nbody\r\n")
        #expect(host.messages.first?.0.recipients == [.mailbox(alice)])
    }

    @Test func swaksPipelinedInOneChunk() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive(SMTPFramerTests.swaksInput)
        #expect(
            host.transcript.split(separator: "\r\n").map { String($0.prefix(9)) } == [
                "220 buffe", "250-buffe", "250-PIPEL", "250-SIZE ", "250-8BITM", "250 ENHAN", "250 2.1.0", "250 2.1.5",
                "354 End d", "250 2.0.0", "221 2.0.0",
            ])
        #expect(host.messages.map { text($0.1) } == [SMTPFramerTests.swaksContent])
    }

    @Test func durableStoreGatesLaterReplies() {
        var host = TestHost(configuration(), users: users)
        host.storeImmediately = false
        host.start()
        host.receive("EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<bob@buffer.example>\r\nDATA\r\n")
        host.output = []
        // The final dot and QUIT in one chunk: nothing may be answered before the store.
        host.receive("hello\r\n.\r\nQUIT\r\n")
        #expect(host.transcript == "")
        #expect(host.messages.count == 1)
        #expect(host.connection.framer.bufferedByteCount == 6)
        host.send(.messageStored(.stored(id: nil)))
        #expect(host.transcript == "250 2.0.0 OK: message stored\r\n221 2.0.0 buffer.example closing connection\r\n")
    }

    @Test func pipelinedGroupWithRejectedRecipients() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive("EHLO c.example\r\n")
        host.output = []
        host.receive(
            "RSET\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<x@elsewhere.example>\r\nRCPT TO:<Postmaster>\r\nNOOP\r\n")
        #expect(
            host.transcript == """
                250 2.0.0 Reset OK\r
                250 2.1.0 Sender OK\r
                550 5.1.1 User unknown\r
                250 2.1.5 Recipient OK\r
                250 2.0.0 OK\r

                """)
    }

    @Test func lmtpSession() {
        var host = TestHost(configuration(.lmtp), users: users)
        host.start()
        host.receive(
            """
            LHLO mx.example.org\r
            MAIL FROM:<a@example.com>\r
            RCPT TO:<alice@buffer.example>\r
            RCPT TO:<nobody@buffer.example>\r
            RCPT TO:<bob@buffer.example>\r
            DATA\r
            x\r
            .\r
            QUIT\r

            """)
        let lines = host.transcript.split(separator: "\r\n").map(String.init)
        #expect(
            Array(lines.suffix(8)) == [
                "250 2.1.0 Sender OK",
                "250 2.1.5 Recipient OK",
                "550 5.1.1 User unknown",
                "250 2.1.5 Recipient OK",
                "354 End data with <CR><LF>.<CR><LF>",
                "250 2.0.0 OK: stored as M1",
                "250 2.0.0 OK: stored as M1",
                "221 2.0.0 buffer.example closing connection",
            ])
    }

    @Test func tooLargeMessageIsAnsweredAfterTheDot() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive("EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<alice@buffer.example>\r\nDATA\r\n")
        host.output = []
        host.receive(String(repeating: "0123456789012345678\r\n", count: 600))
        #expect(host.transcript == "")
        host.receive(".\r\nNOOP\r\n")
        #expect(host.transcript == text(SMTPReply.messageTooBig(limit: 10_000).bytes) + "250 2.0.0 OK\r\n")
        #expect(host.aborted == 1)
        #expect(host.messages.isEmpty)
    }

    @Test func vanishingMidDataAborts() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive(
            "EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<alice@buffer.example>\r\nDATA\r\nhalf\r\n.")
        host.send(.connectionClosed)
        #expect(host.aborted == 1)
        #expect(host.messages.isEmpty)
    }

    @Test func plaintextPipelinedAfterSTARTTLSIsDropped() {
        var config = configuration()
        config.offersStartTLS = true
        var host = TestHost(config, users: users)
        host.start()
        host.receive("EHLO c.example\r\n")
        host.output = []
        host.receive("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        #expect(host.transcript == "220 2.0.0 Ready to start TLS\r\n")
        #expect(host.tlsStarts == 1)
        host.send(.tlsStarted)
        host.receive("MAIL FROM:<a@example.com>\r\n")
        #expect(host.transcript.hasSuffix("503 5.5.1 Send EHLO or HELO first\r\n"))
    }

    @Test func commandLineErrorsAreAnsweredAndReadingGoesOn() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.output = []
        host.receive(String(repeating: "A", count: 3000) + "\r\nNO\rOP\r\nFOO\r\nMAIL FROM:a@b\r\nNOOP\n")
        #expect(
            host.transcript == """
                500 5.5.2 Command line longer than 512 octets\r
                500 5.5.2 Bare CR in command line\r
                500 5.5.1 Command not recognized: FOO\r
                501 5.1.7 Address must be in angle brackets: <local@domain>\r
                250 2.0.0 OK\r

                """)
    }

    @Test func shutdownWhileIdleAndBetweenBytes() {
        var host = TestHost(configuration(), users: users)
        host.start()
        host.receive("EHLO c.example\r\nMAIL FROM:<a@example.com>\r\n")
        host.output = []
        host.send(.shutdownRequested)
        #expect(host.transcript == "")
        host.receive("RCPT TO:<alice@buffer.example>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<a@example.com>\r\n")
        #expect(
            host.transcript.hasSuffix(
                "250 2.0.0 OK: stored as M1\r\n421 4.3.2 buffer.example service shutting down, closing connection\r\n"))
        #expect(host.closed)
    }
}
