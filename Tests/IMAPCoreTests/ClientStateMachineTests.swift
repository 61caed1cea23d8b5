import Testing

@testable import IMAPCore

@Suite struct ClientStateMachineTests {
    let encoder = IMAPCommandEncoder(literalMode: .synchronizing)

    func send(_ machine: inout IMAPClientStateMachine, _ command: IMAPCommand, _ tag: String) -> Bool {
        machine.send(command, encoded: encoder.encode(command, tag: tag))
    }

    func tagged(_ tag: String, _ status: IMAPStatus) -> IMAPResponseEvent {
        .tagged(IMAPTaggedResponse(tag: tag, status: status, text: IMAPResponseText(text: "")))
    }

    @Test func sessionLifecycle() {
        var m = IMAPClientStateMachine()
        #expect(!send(&m, .noop, "A0"))  // nothing before the greeting
        #expect(
            m.receive(.greeting(IMAPGreeting(status: .ok, text: IMAPResponseText(text: "hi"))))
                == .greeting(IMAPGreeting(status: .ok, text: IMAPResponseText(text: "hi"))))
        #expect(m.state == .notAuthenticated)
        #expect(!send(&m, .select(mailbox: "INBOX", readOnly: false), "A1"))
        #expect(send(&m, .login(user: "a", password: "b"), "A2"))
        #expect(
            m.receive(tagged("A2", .no))
                == .completed(
                    IMAPTaggedResponse(tag: "A2", status: .no, text: IMAPResponseText(text: "")), kind: .authentication)
        )
        #expect(m.state == .notAuthenticated)
        #expect(send(&m, .login(user: "a", password: "b"), "A3"))
        _ = m.receive(tagged("A3", .ok))
        #expect(m.state == .authenticated)
        #expect(!send(&m, .login(user: "a", password: "b"), "A4"))
        #expect(!send(&m, .uidFetch(IMAPUIDSet(1...5), items: ["UID"]), "A4b"))  // nothing selected yet
        #expect(send(&m, .select(mailbox: "INBOX", readOnly: true), "A5"))
        #expect(m.receive(.untagged(.exists(3))) == .untagged(forTag: "A5"))
        _ = m.receive(tagged("A5", .ok))
        #expect(m.state == .selected(mailbox: "INBOX", readOnly: true))
        #expect(send(&m, .uidSearch([.all], esearch: false), "A5b"))
        _ = m.receive(tagged("A5b", .ok))
        #expect(send(&m, .select(mailbox: "Nope", readOnly: false), "A6"))
        _ = m.receive(tagged("A6", .no))
        #expect(m.state == .authenticated)  // a failed SELECT leaves nothing selected
        #expect(m.receive(.untagged(.exists(1))) == .untagged(forTag: nil))
        #expect(send(&m, .logout, "A7"))
        #expect(
            m.receive(.untagged(.condition(.bye, IMAPResponseText(text: "bye")))) == .bye(IMAPResponseText(text: "bye"))
        )
        #expect(m.state == .logout)
        #expect(!send(&m, .noop, "A8"))
    }

    @Test func preauthAndByeGreetings() {
        var m = IMAPClientStateMachine()
        _ = m.receive(.greeting(IMAPGreeting(status: .preauth, text: IMAPResponseText(text: ""))))
        #expect(m.state == .authenticated)
        var n = IMAPClientStateMachine()
        _ = n.receive(.greeting(IMAPGreeting(status: .bye, text: IMAPResponseText(text: ""))))
        #expect(n.state == .logout)
        #expect(
            n.receive(.greeting(IMAPGreeting(status: .ok, text: IMAPResponseText(text: ""))))
                == .violation("a second greeting"))
    }

    @Test func pipelinedCommandsAndContinuations() {
        var m = IMAPClientStateMachine()
        _ = m.receive(.greeting(IMAPGreeting(status: .preauth, text: IMAPResponseText(text: ""))))
        // Three APPENDs in flight; the first two use synchronizing literals and each waits for one "+".
        #expect(send(&m, .append(mailbox: "INBOX", flags: [], internalDate: nil, size: 10), "A1"))
        #expect(send(&m, .append(mailbox: "INBOX", flags: [], internalDate: nil, size: 10), "A2"))
        #expect(send(&m, .noop, "A3"))
        #expect(m.outstanding.map(\.tag) == ["A1", "A2", "A3"])
        #expect(m.receive(.continuation("go")) == .continuation(forTag: "A1"))
        #expect(m.receive(.continuation("go")) == .continuation(forTag: "A2"))
        #expect(m.receive(.continuation("go")) == .violation("a continuation request no command waits for"))
        #expect(m.receive(.untagged(.exists(1))) == .untagged(forTag: "A1"))
        _ = m.receive(tagged("A1", .ok))
        #expect(m.receive(.untagged(.exists(2))) == .untagged(forTag: "A2"))
        // Completion out of order is accepted (servers may finish commands in any order).
        _ = m.receive(tagged("A3", .ok))
        #expect(m.outstanding.map(\.tag) == ["A2"])
        #expect(m.receive(tagged("A9", .ok)) == .violation("a tagged response for unknown tag A9"))
        m.closed()
        #expect(m.state == .logout && m.outstanding.isEmpty)
    }
}
