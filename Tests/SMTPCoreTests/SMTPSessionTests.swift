import Testing

@testable import SMTPCore

let alice = SMTPPath(localPart: "alice", domain: .name("buffer.example"))
let bob = SMTPPath(localPart: "bob", domain: .name("buffer.example"))
let stranger = SMTPPath(localPart: "stranger", domain: .name("elsewhere.example"))
let sender = SMTPPath(localPart: "a", domain: .name("example.com"))

func configuration(_ mode: SMTPSession.Mode = .smtp) -> SMTPSession.Configuration {
    SMTPSession.Configuration(mode: mode, hostname: "buffer.example", maximumMessageSize: 10_000)
}

func command(_ line: String) -> SMTPSession.Event {
    .command(try! SMTPCommandParser.parse(bytes(line)))
}

/// The replies among actions, as wire text.
/// A session that has greeted, taken EHLO, one sender and one accepted recipient, and is now in DATA.
func sessionInData(_ configuration: SMTPSession.Configuration = configuration()) -> SMTPSession {
    var session = SMTPSession(configuration: configuration)
    _ = session.handle(.connectionOpened)
    _ = session.handle(command("EHLO c.example"))
    _ = session.handle(command("MAIL FROM:<a@example.com>"))
    _ = session.handle(command("RCPT TO:<alice@buffer.example>"))
    _ = session.handle(.recipientChecked(.accept))
    _ = session.handle(command("DATA"))
    return session
}

func replies(_ actions: [SMTPSession.Action]) -> [String] {
    actions.compactMap { action in
        if case .send(let reply) = action { return text(reply.bytes) }
        return nil
    }
}

struct SMTPSessionTests {
    @Test func completeSMTPTranscript() {
        var session = SMTPSession(configuration: configuration())
        #expect(replies(session.handle(.connectionOpened)) == ["220 buffer.example ESMTP MailFerry buffer ready\r\n"])
        #expect(
            replies(session.handle(command("EHLO client.example.net"))) == [
                "250-buffer.example greets client.example.net\r\n250-PIPELINING\r\n250-SIZE 10000\r\n"
                    + "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
            ])
        #expect(replies(session.handle(command("MAIL FROM:<a@example.com> SIZE=1234"))) == ["250 2.1.0 Sender OK\r\n"])

        let check = session.handle(command("RCPT TO:<alice@buffer.example>"))
        guard case .checkRecipient(.mailbox(alice), let envelope)? = check.first, check.count == 1 else {
            Issue.record("expected checkRecipient, got \(check)")
            return
        }
        #expect(envelope.reversePath == sender)
        #expect(session.isWaitingForHost)
        #expect(replies(session.handle(.recipientChecked(.accept))) == ["250 2.1.5 Recipient OK\r\n"])

        #expect(session.handle(command("RCPT TO:<stranger@elsewhere.example>")).count == 1)
        #expect(replies(session.handle(.recipientChecked(.reject(.userUnknown)))) == ["550 5.1.1 User unknown\r\n"])

        let data = session.handle(command("DATA"))
        #expect(replies(data) == ["354 End data with <CR><LF>.<CR><LF>\r\n"])
        guard case .beginMessage(let opened) = data.last else {
            Issue.record("no beginMessage")
            return
        }
        #expect(opened.recipients == [.mailbox(alice)])
        #expect(opened.mailParameters.size == 1234)
        #expect(opened.clientDomain == .name("client.example.net"))

        #expect(
            session.handle(.content(bytes("Subject: x\r\n\r\nhi\r\n"))) == [
                .appendContent(bytes("Subject: x\r\n\r\nhi\r\n"))
            ])
        let end = session.handle(.endOfData(summary(19)))
        // No 250 before the host says the message is durable.
        #expect(end == [.finishMessage(opened, summary(19))])
        #expect(session.isWaitingForHost)
        #expect(replies(session.handle(.messageStored(.stored(id: "Q1")))) == ["250 2.0.0 OK: stored as Q1\r\n"])
        #expect(session.handle(command("QUIT")) == [.send(.closing(hostname: "buffer.example")), .close])
        #expect(session.isClosed)
    }

    @Test func lmtpAnswersOncePerRecipientInOrder() {
        var session = SMTPSession(configuration: configuration(.lmtp))
        #expect(replies(session.handle(.connectionOpened)) == ["220 buffer.example LMTP MailFerry buffer ready\r\n"])
        #expect(
            replies(session.handle(command("EHLO client.example"))) == ["500 5.5.1 Command not recognized: EHLO\r\n"])
        #expect(replies(session.handle(command("LHLO client.example"))).first?.hasPrefix("250-buffer.example") == true)
        _ = session.handle(command("MAIL FROM:<>"))
        for (line, decision) in [
            ("RCPT TO:<alice@buffer.example>", SMTPSession.RecipientDecision.accept),
            ("RCPT TO:<stranger@elsewhere.example>", .reject(.userUnknown)),
            ("RCPT TO:<bob@buffer.example>", .accept),
        ] {
            _ = session.handle(command(line))
            _ = session.handle(.recipientChecked(decision))
        }
        _ = session.handle(command("DATA"))
        _ = session.handle(.content(bytes("x\r\n")))
        guard case .finishMessage(let envelope, _)? = session.handle(.endOfData(summary(3))).first else {
            Issue.record("no finishMessage")
            return
        }
        #expect(envelope.recipients == [.mailbox(alice), .mailbox(bob)])
        #expect(envelope.reversePath == nil)
        #expect(
            replies(session.handle(.messageStored(.perRecipient([.stored, .failed(.insufficientStorage)])))) == [
                "250 2.0.0 OK: message stored\r\n",
                "452 4.3.1 Insufficient system storage\r\n",
            ])
        // Too large in LMTP: one 552 per recipient.
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        _ = session.handle(command("RCPT TO:<alice@buffer.example>"))
        _ = session.handle(.recipientChecked(.accept))
        _ = session.handle(command("RCPT TO:<bob@buffer.example>"))
        _ = session.handle(.recipientChecked(.accept))
        _ = session.handle(command("DATA"))
        let refused = session.handle(.endOfData(summary(20_000, max: 10_000, rejection: .tooLarge)))
        #expect(refused.first == .abortMessage)
        #expect(replies(refused) == Array(repeating: text(SMTPReply.messageTooBig(limit: 10_000).bytes), count: 2))
    }

    @Test func lhloIsUnknownInSMTP() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        #expect(replies(session.handle(command("LHLO x.example"))) == ["500 5.5.1 Command not recognized: LHLO\r\n"])
    }

    @Test func sequenceErrors() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com>"))) == ["503 5.5.1 Send EHLO or HELO first\r\n"])
        _ = session.handle(command("HELO client.example"))
        #expect(
            replies(session.handle(command("RCPT TO:<alice@buffer.example>"))) == [
                "503 5.5.1 Need MAIL before RCPT\r\n"
            ])
        #expect(replies(session.handle(command("DATA"))) == ["503 5.5.1 Need MAIL and RCPT before DATA\r\n"])
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com>"))) == [
                "503 5.5.1 Sender already given; RSET first\r\n"
            ])
        _ = session.handle(command("RCPT TO:<stranger@elsewhere.example>"))
        _ = session.handle(.recipientChecked(.reject(.userUnknown)))
        #expect(replies(session.handle(command("DATA"))) == ["554 5.5.1 No valid recipients\r\n"])
        #expect(replies(session.handle(command("RSET"))) == ["250 2.0.0 Reset OK\r\n"])
        #expect(
            replies(session.handle(command("RCPT TO:<alice@buffer.example>"))) == [
                "503 5.5.1 Need MAIL before RCPT\r\n"
            ])
    }

    @Test func parametersAndLimits() {
        var config = configuration()
        config.maximumRecipients = 2
        var session = SMTPSession(configuration: config)
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com> SIZE=10001")))
                == ["552 5.3.4 Message size exceeds fixed maximum of 10000 octets\r\n"])
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com> SMTPUTF8")))
                == ["555 5.5.4 Parameter not recognized or not implemented: SMTPUTF8\r\n"])
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com> RET=FULL ENVID=x"))) == [
                "250 2.1.0 Sender OK\r\n"
            ])
        #expect(
            replies(session.handle(command("RCPT TO:<alice@buffer.example> FOO=1")))
                == ["555 5.5.4 Parameter not recognized or not implemented: FOO\r\n"])
        for _ in 0..<2 {
            _ = session.handle(command("RCPT TO:<alice@buffer.example> NOTIFY=NEVER"))
            _ = session.handle(.recipientChecked(.accept))
        }
        #expect(
            replies(session.handle(command("RCPT TO:<bob@buffer.example>"))) == ["452 4.5.3 Too many recipients\r\n"])
        #expect(replies(session.handle(command("VRFY alice"))).first?.hasPrefix("252 2.5.0") == true)
        #expect(replies(session.handle(command("HELP"))).first?.hasPrefix("214 2.0.0") == true)
        #expect(replies(session.handle(command("NOOP"))) == ["250 2.0.0 OK\r\n"])
        #expect(replies(session.handle(command("STARTTLS"))) == ["502 5.5.1 Command not implemented: STARTTLS\r\n"])
    }

    @Test func gracefulShutdownWhenIdle() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        let actions = session.handle(.shutdownRequested)
        #expect(actions == [.send(.shuttingDown(hostname: "buffer.example")), .close])
        #expect(text(SMTPReply.shuttingDown(hostname: "buffer.example").bytes).hasPrefix("421 4.3.2 "))
        #expect(session.isClosed)
    }

    @Test func gracefulShutdownFinishesTheTransaction() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        #expect(session.handle(.shutdownRequested) == [])
        // RCPT and DATA belong to the transaction under way.
        #expect(session.handle(command("RCPT TO:<alice@buffer.example>")).count == 1)
        _ = session.handle(.recipientChecked(.accept))
        _ = session.handle(command("DATA"))
        _ = session.handle(.content(bytes("x\r\n")))
        _ = session.handle(.endOfData(summary(3)))
        #expect(
            session.handle(.messageStored(.stored(id: nil))) == [
                .send(.messageAccepted(id: nil)), .send(.shuttingDown(hostname: "buffer.example")), .close,
            ])
    }

    @Test func newCommandsDuringShutdownGet421() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        _ = session.handle(.shutdownRequested)
        #expect(session.handle(command("RSET")) == [.send(.shuttingDown(hostname: "buffer.example")), .close])
        #expect(session.handle(command("NOOP")) == [])
    }

    @Test func greetingDuringShutdownIs421() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.shutdownRequested)
        #expect(session.handle(.connectionOpened) == [.send(.shuttingDown(hostname: "buffer.example")), .close])
    }

    @Test func clientVanishingMidDataAborts() {
        var session = sessionInData()
        _ = session.handle(.content(bytes("half a mess")))
        #expect(session.handle(.connectionClosed) == [.abortMessage])
        #expect(session.handle(.endOfData(summary(11))) == [])
        #expect(session.handle(.messageStored(.stored(id: nil))) == [])
    }

    @Test func tooManyErrorsCloses() {
        var config = configuration()
        config.maximumConsecutiveErrors = 3
        var session = SMTPSession(configuration: config)
        _ = session.handle(.connectionOpened)
        _ = session.handle(.commandError(SMTPCommandParseError(.unrecognizedCommand, "Command not recognized: X")))
        _ = session.handle(command("NOOP"))
        _ = session.handle(.framingError(.bareCarriageReturn))
        _ = session.handle(command("DATA"))
        let last = session.handle(.commandError(SMTPCommandParseError(.syntax, "bad")))
        #expect(replies(last).last?.hasPrefix("421 4.7.0") == true)
        #expect(last.last == .close)
    }

    @Test func startTLSForgetsThePast() {
        var config = configuration()
        config.offersStartTLS = true
        var session = SMTPSession(configuration: config)
        _ = session.handle(.connectionOpened)
        #expect(replies(session.handle(command("EHLO c.example"))).first?.hasSuffix("250 STARTTLS\r\n") == true)
        #expect(session.handle(command("STARTTLS")) == [.send(.readyToStartTLS), .startTLS])
        #expect(session.isWaitingForHost)
        #expect(session.handle(.tlsStarted) == [])
        #expect(session.isTLSActive)
        #expect(
            replies(session.handle(command("MAIL FROM:<a@example.com>"))) == ["503 5.5.1 Send EHLO or HELO first\r\n"])
        #expect(replies(session.handle(command("EHLO c.example"))).first?.contains("STARTTLS") == false)
        #expect(replies(session.handle(command("STARTTLS"))) == ["503 5.5.1 TLS already active\r\n"])
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        _ = session.handle(command("RCPT TO:<alice@buffer.example>"))
        _ = session.handle(.recipientChecked(.accept))
        guard case .beginMessage(let envelope)? = session.handle(command("DATA")).last else {
            Issue.record()
            return
        }
        #expect(envelope.overTLS)
    }

    @Test func requiredTLSRefusesMailUntilSTARTTLS() {
        var config = configuration()
        config.offersStartTLS = true
        config.requiresTLS = true
        var session = SMTPSession(configuration: config)
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        #expect(replies(session.handle(command("MAIL FROM:<a@example.com>"))) == ["530 5.7.0 Must issue a STARTTLS command first\r\n"])
        #expect(replies(session.handle(command("NOOP"))) == ["250 2.0.0 OK\r\n"])
        #expect(session.handle(command("STARTTLS")) == [.send(.readyToStartTLS), .startTLS])
        #expect(session.handle(.tlsStarted) == [])
        _ = session.handle(command("EHLO c.example"))
        #expect(replies(session.handle(command("MAIL FROM:<a@example.com>"))) == ["250 2.1.0 Sender OK\r\n"])
    }

    @Test func rejectedContentIsAborted() {
        var session = sessionInData()
        let actions = session.handle(.endOfData(summary(5, bareLF: 1, rejection: .bareLineEnding)))
        #expect(actions.first == .abortMessage)
        #expect(replies(actions).first?.hasPrefix("554 5.6.0") == true)
        // The transaction is over; a new one can start.
        #expect(replies(session.handle(command("MAIL FROM:<a@example.com>"))) == ["250 2.1.0 Sender OK\r\n"])
    }

    @Test func smtpStorageFailureIsOneReply() {
        var session = SMTPSession(configuration: configuration())
        _ = session.handle(.connectionOpened)
        _ = session.handle(command("EHLO c.example"))
        _ = session.handle(command("MAIL FROM:<a@example.com>"))
        for _ in 0..<2 {
            _ = session.handle(command("RCPT TO:<alice@buffer.example>"))
            _ = session.handle(.recipientChecked(.accept))
        }
        _ = session.handle(command("DATA"))
        _ = session.handle(.endOfData(summary(0)))
        #expect(
            replies(session.handle(.messageStored(.perRecipient([.stored, .failed(.insufficientStorage)]))))
                == ["452 4.3.1 Insufficient system storage\r\n"])
    }
}
