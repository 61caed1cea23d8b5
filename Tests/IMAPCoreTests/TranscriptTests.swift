import Foundation
import MailModel
import TestSupport
import Testing

@testable import IMAPCore

/// Real Dovecot 2.3.19 output (captured from the harness's configuration with a raw socket), decoded in one
/// piece and one byte at a time.
@Suite struct TranscriptTests {
    @Test(arguments: ["dovecot-session.txt", "dovecot-failures.txt"])
    func byteAtATimeEqualsAllAtOnce(name: String) throws {
        let bytes = try transcript(name)
        let whole = try decodeEvents(bytes, chunk: bytes.count)
        #expect(try decodeEvents(bytes, chunk: 1) == whole)
        #expect(try decodeEvents(bytes, chunk: 7) == whole)
        #expect(try decodeEvents(bytes, chunk: 4096) == whole)
        #expect(whole.count > 8)
    }

    @Test func sessionContents() throws {
        let events = try decodeEvents(try transcript("dovecot-session.txt"), chunk: 1)
        guard case .greeting(let greeting) = events.first else {
            Issue.record("no greeting")
            return
        }
        #expect(greeting.status == .ok)
        guard case .capability(let caps) = greeting.text.code else {
            Issue.record("no CAPABILITY in greeting")
            return
        }
        #expect(caps.contains("LITERAL+") && caps.contains("AUTH=PLAIN") && caps.contains("SASL-IR"))
        #expect(greeting.text.text == "Dovecot (Debian) ready.")

        let tagged = events.tagged
        #expect(tagged.count == 27)
        #expect(
            tagged.first { $0.tag == "a12" }?.text.code == .appendUID(uidValidity: 1_795_313_155, uid: 1, uids: "1"))
        #expect(tagged.first { $0.tag == "a14" }?.status == .no)
        #expect(tagged.first { $0.tag == "a15" }?.text.code == .readWrite)

        let untagged = events.untagged
        #expect(
            untagged.contains(
                .namespace(.init(personal: [.init(prefix: "", separator: "/")], otherUsers: [], shared: []))))
        let lists = untagged.compactMap { if case .list(let l) = $0 { l } else { nil } }
        #expect(lists.count == 14)
        let arger = lists.first { $0.mailbox.wire == "Projekt/&AOQ-rger" }
        #expect(arger?.mailbox.name == "Projekt/ärger")
        #expect(lists.contains { $0.mailbox.name == "Sent" && $0.attributes == ["\\Subscribed", "\\Sent"] })
        #expect(lists.contains { $0.mailbox.name == "Archive" && $0.attributes.contains("\\Noselect") })
        #expect(lists.allSatisfy { $0.separator == "/" })
        #expect(
            untagged.contains(
                .lsub(IMAPListResponse(attributes: [], separator: "/", mailbox: IMAPMailboxName(wire: "Archive/2001"))))
        )
        #expect(
            untagged.contains(
                .status(
                    IMAPMailboxName(wire: "INBOX"),
                    ["MESSAGES": 0, "UIDNEXT": 1, "UIDVALIDITY": 1_795_313_155, "UNSEEN": 0])))
        #expect(untagged.contains(.exists(2)))
        #expect(untagged.contains(.recent(2)))
        #expect(untagged.contains(.flags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Label1"])))
        #expect(
            untagged.contains(
                .condition(
                    .ok,
                    IMAPResponseText(
                        code: .permanentFlags([
                            "\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Label1", "\\*",
                        ]), text: "Flags permitted."))))
        #expect(
            untagged.contains(.condition(.ok, IMAPResponseText(code: .uidValidity(1_795_313_155), text: "UIDs valid"))))
        #expect(untagged.contains(.condition(.ok, IMAPResponseText(code: .uidNext(3), text: "Predicted next UID"))))
        #expect(untagged.contains(.condition(.ok, IMAPResponseText(code: .highestModSeq(5), text: "Highest"))))
        #expect(untagged.contains(.search([1])))
        #expect(untagged.contains(.esearch(IMAPESearchResponse(tag: "a19", uid: true, all: [1]))))
        #expect(
            untagged.contains(
                .acl(IMAPMailboxName(wire: "INBOX"), [.init(identifier: "alice", rights: "lrwstipekxacd")])))
        #expect(
            untagged.contains(
                .acl(
                    IMAPMailboxName(wire: "INBOX"),
                    [.init(identifier: "bob", rights: "lr"), .init(identifier: "alice", rights: "lrwstipekxacd")])))
        #expect(untagged.contains(.myRights(IMAPMailboxName(wire: "INBOX"), "lrwstipekxacd")))
        #expect(untagged.contains(.enabled(["CONDSTORE"])))
        #expect(untagged.contains(.id))
        #expect(untagged.contains(.condition(.bye, IMAPResponseText(text: "Logging out"))))

        // The summaries FETCH.
        let date1 = InternalDate(epochSeconds: 978_339_600, utcOffsetMinutes: 0)
        #expect(events.contains(.fetchAttribute(.internalDate(date1))))
        #expect(events.contains(.fetchAttribute(.flags(["\\Flagged", "\\Seen", "\\Recent", "$Label1"]))))
        #expect(events.contains(.fetchAttribute(.rfc822Size(138))))
        #expect(events.contains(.fetchAttribute(.xGUID("1795313170.M68775P18279.vm,S=131,W=138"))))
        #expect(events.contains(.fetchAttribute(.modSeq(5))))
        // 31-Dec-1999 23:59:59 -0530 is 1 Jan 2000 05:29:59 UTC.
        #expect(
            events.contains(
                .fetchAttribute(.internalDate(InternalDate(epochSeconds: 946_704_599, utcOffsetMinutes: 0)))))

        // The bodies: the first FETCH BODY[] streamed with the literal's exact bytes, including a "{5}" inside.
        let message1 = Array(
            "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Hello\r\nDate: Mon, 1 Jan 2001 10:00:00 +0100\r\n\r\nBody line 1\r\nBody with {5}\r\n"
                .utf8)
        let start = try #require(events.firstIndex(of: .fetchBodyStart(section: "", size: 138)))
        #expect(events[start + 1] == .fetchBodyBytes(message1))
        #expect(events[start + 2] == .fetchBodyEnd)
        #expect(events[start + 3] == .fetchEnd)
        #expect(events[start - 1] == .fetchAttribute(.uid(1)))
        let message2 = Array("Subject: Grüße\r\n\r\n8-bit: äöü\r\n".utf8)
        #expect(events.contains(.fetchBodyBytes(message2)))
        // Two streamed sections in one FETCH, the second with an origin.
        #expect(events.contains(.fetchBodyStart(section: "HEADER.FIELDS (SUBJECT)", size: 18)))
        #expect(events.contains(.fetchBodyStart(section: "TEXT", size: 4)))
        #expect(events.contains(.fetchBodyBytes(Array("Body".utf8))))
    }

    @Test func failureResponses() throws {
        let events = try decodeEvents(try transcript("dovecot-failures.txt"), chunk: 3)
        let tagged = Dictionary(uniqueKeysWithValues: events.tagged.map { ($0.tag, $0) })
        #expect(tagged["b1"]?.status == .no)
        #expect(tagged["b1"]?.text.code == .other("AUTHENTICATIONFAILED", nil))
        #expect(tagged["b3"]?.text.code == .alreadyExists)
        #expect(tagged["b4"]?.text.code == .tryCreate)
        #expect(tagged["b5"]?.text.code == nil && tagged["b5"]?.status == .no)
        #expect(tagged["b6"]?.status == .bad)
        #expect(tagged["b7"]?.status == .ok)
    }

    @Test func parsedAgainAfterReencodingTheEventsIsStable() throws {
        // Decoding is deterministic: a second decode of the same bytes with a different split agrees.
        let bytes = try transcript("dovecot-session.txt")
        var rng = SplitMix64(seed: 7)
        var decoder = IMAPResponseDecoder()
        var events: [IMAPResponseEvent] = []
        var offset = 0
        while offset < bytes.count {
            let n = Int(rng.next() % 50) + 1
            decoder.append(bytes[offset..<min(bytes.count, offset + n)])
            offset += n
            while let event = try decoder.next() {
                if case .fetchBodyBytes(let more) = event, case .fetchBodyBytes(let earlier)? = events.last {
                    events[events.count - 1] = .fetchBodyBytes(earlier + more)
                } else {
                    events.append(event)
                }
            }
        }
        #expect(events == (try decodeEvents(bytes, chunk: bytes.count)))
    }
}
