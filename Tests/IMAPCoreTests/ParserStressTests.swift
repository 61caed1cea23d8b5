import Foundation
import MailModel
import TestSupport
import Testing

@testable import IMAPCore

/// Hostile and broken input gives errors (of the right kind), never a crash or unbounded buffering.
@Suite struct ParserStressTests {
    func decode(_ text: String, limits: IMAPLimits = .default) throws -> [IMAPResponseEvent] {
        try decodeEvents(Array(text.utf8), chunk: 1, limits: limits, greeting: false)
    }

    func kind(_ body: () throws -> Void) -> IMAPCoreError.Kind? {
        do {
            try body()
            return nil
        } catch let error as IMAPCoreError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func needMoreBytesIsNotAnError() throws {
        var decoder = IMAPResponseDecoder(expectingGreeting: false)
        decoder.append(Array("* 3 EXIS".utf8))
        #expect(try decoder.next() == nil)
        decoder.append(Array("TS\r\n* 1 FETCH (UID 9 BODY[] {10}\r\n01234".utf8))
        #expect(try decoder.next() == .untagged(.exists(3)))
        #expect(try decoder.next() == .fetchStart(sequence: 1))
        #expect(try decoder.next() == .fetchAttribute(.uid(9)))
        #expect(try decoder.next() == .fetchBodyStart(section: "", size: 10))
        #expect(try decoder.next() == .fetchBodyBytes(Array("01234".utf8)))
        #expect(try decoder.next() == nil)
        decoder.append(Array("56789 FLAGS (\\Seen))\r\n".utf8))
        #expect(try decoder.next() == .fetchBodyBytes(Array("56789".utf8)))
        #expect(try decoder.next() == .fetchBodyEnd)
        #expect(try decoder.next() == .fetchAttribute(.flags(["\\Seen"])))
        #expect(try decoder.next() == .fetchEnd)
        #expect(try decoder.next() == nil)
    }

    @Test func statusGivesNumbersAndMailboxIdentifiers() throws {
        // Dovecot's mailbox GUID may start with digits; RFC 8474's MAILBOXID comes in parentheses.
        let events = try decode(
            "* STATUS INBOX (UIDVALIDITY 1796576511 X-GUID 78fb0509ff94156bf30b000083ecc375 MESSAGES 3)\r\n"
                + "* STATUS Sent (MAILBOXID (F2212ea87-6097-4256-9d51-71338625) UIDNEXT 9 X-ODD (a (b) c))\r\n")
        #expect(events.untagged == [
            .status(
                IMAPMailboxName(wire: "INBOX"), ["UIDVALIDITY": 1_796_576_511, "MESSAGES": 3],
                ids: ["X-GUID": "78fb0509ff94156bf30b000083ecc375"]),
            .status(IMAPMailboxName(wire: "Sent"), ["UIDNEXT": 9], ids: ["MAILBOXID": "F2212ea87-6097-4256-9d51-71338625"]),
        ])
        // A number beyond 63 bits is no number: kept as text, never a trap.
        #expect(try decode("* STATUS A (UIDNEXT 99999999999999999999)\r\n").untagged == [
            .status(IMAPMailboxName(wire: "A"), [:], ids: ["UIDNEXT": "99999999999999999999"]),
        ])
    }

    @Test func overLongLineIsALimitError() {
        let limits = IMAPLimits(maxLineLength: 1000)
        var decoder = IMAPResponseDecoder(limits: limits, expectingGreeting: false)
        decoder.append(Array(repeating: UInt8(ascii: "a"), count: 999))
        #expect(kind { _ = try decoder.next() } == nil)
        decoder.append(Array(repeating: UInt8(ascii: "a"), count: 10))
        #expect(kind { _ = try decoder.next() } == .limitExceeded)
        // A complete line over the limit too.
        #expect(
            kind { _ = try decode("* OK " + String(repeating: "x", count: 2000) + "\r\n", limits: limits) }
                == .limitExceeded)
    }

    @Test func hugeLiteralAnnouncementsAreRefused() {
        #expect(kind { _ = try decode("* 1 FETCH (BODY[] {99999999999999999999}\r\n") } == .limitExceeded)
        #expect(kind { _ = try decode("* 1 FETCH (BODY[] {3000000000}\r\n") } == .limitExceeded)
        // Outside a message body only small literals are collected.
        #expect(kind { _ = try decode("* LIST () \"/\" {70000}\r\n") } == .limitExceeded)
        #expect(kind { _ = try decode("* 1 FETCH (X-GUID {70000}\r\n") } == .limitExceeded)
        // But a big body literal is fine and streams.
        let events = try? decodeEvents(
            Array("* 1 FETCH (UID 1 BODY[] {200000}\r\n".utf8) + Array(repeating: 0x41, count: 200_000)
                + Array(")\r\n".utf8),
            chunk: 65536, greeting: false)
        #expect(events?.contains(.fetchBodyBytes(Array(repeating: 0x41, count: 200_000))) == true)
    }

    /// A 50 MB body fed in 64 KiB pieces: nothing is held beyond the piece being handed out.
    @Test func aLargeBodyStreamsWithoutBuffering() throws {
        var decoder = IMAPResponseDecoder(expectingGreeting: false)
        let size = 50 << 20
        decoder.append(Array("* 7 FETCH (UID 70 BODY[] {\(size)}\r\n".utf8))
        #expect(try decoder.next() == .fetchStart(sequence: 7))
        #expect(try decoder.next() == .fetchAttribute(.uid(70)))
        #expect(try decoder.next() == .fetchBodyStart(section: "", size: Int64(size)))
        let piece = [UInt8](repeating: 0x61, count: 64 << 10)
        var received = 0
        var largest = 0
        var ended = false
        while received < size {
            decoder.append(piece)
            #expect(decoder.bufferedCount <= piece.count)
            while let event = try decoder.next() {
                if event == .fetchBodyEnd && received == size {
                    ended = true
                    continue
                }
                guard case .fetchBodyBytes(let bytes) = event else {
                    Issue.record("unexpected \(event)")
                    return
                }
                received += bytes.count
                largest = max(largest, bytes.count)
            }
            #expect(decoder.bufferedCount == 0)
        }
        #expect(received == size && largest <= piece.count && ended)
        decoder.append(Array(")\r\n".utf8))
        #expect(try decoder.next() == .fetchEnd)
    }

    @Test func manySmallLiteralsCannotGrowAResponseWithoutBound() {
        let limits = IMAPLimits(maxResponseSize: 10_000)
        let oneLiteral = " {1000}\r\n" + String(repeating: "z", count: 1000)
        let text = "* ACL INBOX" + String(repeating: oneLiteral, count: 20) + "\r\n"
        #expect(kind { _ = try decode(text, limits: limits) } == .limitExceeded)
    }

    @Test func badLiteralSyntaxIsBadInput() {
        #expect(kind { _ = try decode("* 1 FETCH (BODY[] {12a}\r\n") } == .badInput)
        #expect(kind { _ = try decode("* 1 FETCH (BODY[] {}\r\n") } == .badInput)
        #expect(kind { _ = try decode("* 1 FETCH (BODY[] {-5}\r\n") } == .badInput)
    }

    @Test func malformedResponsesAreBadInput() {
        for text in [
            "* 1 FETCH (UID x)\r\n", "* 1 FETCH (UID 1\r\n", "A1 MAYBE done\r\n",
            "* 1 FETCH (INTERNALDATE \"32-Foo-2001 10:00:00 +0000\")\r\n",
            "* LIST (\\Noselect \"/\" foo\r\n", "* SEARCH 1 2 x\r\n", "* OK [UIDVALIDITY 12\r\n",
            "* 99999999999 EXISTS\r\n",
            "\r\n", "* \r\n",
        ] {
            let k = kind { _ = try decode(text) }
            #expect(k == .badInput || k == .incomplete, "\(text.debugDescription) gave \(String(describing: k))")
        }
        var decoder = IMAPResponseDecoder()
        decoder.append(Array("A1 OK not a greeting\r\n".utf8))
        #expect(kind { _ = try decoder.next() } == .badInput)
    }

    @Test func unknownFetchItemsAreSkipped() throws {
        let events = try decode(
            "* 4 FETCH (X-UNKNOWN (a (b \"c)\" {2}\r\n)) d)) ENVELOPE (\"date\" {3}\r\nsub NIL NIL NIL NIL NIL NIL NIL NIL) "
                + "BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1) BINARY.SIZE[1] 20 UID 77 "
                + "BINARY[] ~{3}\r\na\u{0}b EMAILID (M123) THREADID NIL BODY[1]<5> NIL)\r\n")
        #expect(events.contains(.fetchAttribute(.uid(77))))
        #expect(events.contains(.fetchAttribute(.skipped("X-UNKNOWN"))))
        #expect(events.contains(.fetchAttribute(.skipped("ENVELOPE"))))
        #expect(events.contains(.fetchAttribute(.skipped("BINARY.SIZE[1]"))))
        #expect(events.contains(.fetchBodyBytes([0x61, 0, 0x62])))
        #expect(events.contains(.fetchAttribute(.emailID("M123"))))
        #expect(events.contains(.fetchAttribute(.threadID(nil))))
        #expect(events.contains(.fetchAttribute(.bodyNil(section: "1"))))
        #expect(events.last == .fetchEnd)
    }

    @Test func quotedAndNilBodies() throws {
        let events = try decode("* 1 FETCH (UID 3 BODY[] \"abc\")\r\n* 2 FETCH (UID 4 BODY[] NIL)\r\n")
        #expect(
            events == [
                .fetchStart(sequence: 1), .fetchAttribute(.uid(3)), .fetchBodyStart(section: "", size: 3),
                .fetchBodyBytes(Array("abc".utf8)), .fetchBodyEnd, .fetchEnd,
                .fetchStart(sequence: 2), .fetchAttribute(.uid(4)), .fetchAttribute(.bodyNil(section: "")), .fetchEnd,
            ])
    }

    @Test func listExtendedAndLiteralNames() throws {
        let events = try decode(
            "* LIST (\\HasChildren) \".\" {7}\r\nA \"b\" c (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n* LIST (\\Noselect) NIL \"\"\r\n"
                + "* LIST () \"\\\\\" INBOX\r\n* LIST () \"/\" \"&Jjo-!\"\r\n")
        let lists = events.untagged.compactMap { if case .list(let l) = $0 { l } else { nil } }
        #expect(lists.count == 4)
        #expect(
            lists[0].mailbox.wire == "A \"b\" c" && lists[0].extendedItems == ["CHILDINFO"] && lists[0].separator == "."
        )
        #expect(lists[1].separator == nil && lists[1].mailbox.wire == "")
        #expect(lists[2].separator == "\\" && lists[2].mailbox.isInbox)
        #expect(lists[3].mailbox.name == "☺!")
    }

    @Test func responseCodes() throws {
        let events = try decode(
            "A1 OK [APPENDUID 38505 3955] done\r\nA2 OK [COPYUID 38505 304,319:320 3956:3958] done\r\n"
                + "A3 NO [OVERQUOTA] full\r\nA4 OK [MAILBOXID (F2212ea87-6097)] ok\r\n* OK [HIGHESTMODSEQ 715194045007] x\r\n"
                + "A5 OK [BADCHARSET (UTF-8 US-ASCII)] weird\r\nA6 NO\r\nA7 OK [ALERT] look\r\n* BYE [UNAVAILABLE] bye\r\n"
        )
        let codes = events.compactMap { event -> IMAPResponseCode? in
            switch event {
            case .tagged(let t): t.text.code
            case .untagged(.condition(_, let text)): text.code
            default: nil
            }
        }
        #expect(
            codes == [
                .appendUID(uidValidity: 38505, uid: 3955, uids: "3955"),
                .copyUID(uidValidity: 38505, source: "304,319:320", destination: "3956:3958"),
                .other("OVERQUOTA", nil), .mailboxID("F2212ea87-6097"), .highestModSeq(715_194_045_007),
                .other("BADCHARSET", "(UTF-8 US-ASCII)"), .alert, .other("UNAVAILABLE", nil),
            ])
        #expect(events.tagged.first { $0.tag == "A6" }?.text == IMAPResponseText(text: ""))
    }

    @Test func esearchSequenceSetsAreBounded() throws {
        let events = try decode("* ESEARCH (TAG \"A1\") UID ALL 1:3,7,9:10 COUNT 6 MIN 1 MAX 10\r\n")
        #expect(
            events.untagged == [
                .esearch(
                    IMAPESearchResponse(tag: "A1", uid: true, all: [1, 2, 3, 7, 9, 10], min: 1, max: 10, count: 6))
            ])
        #expect(kind { _ = try decode("* ESEARCH UID ALL 1:4294967295\r\n") } == .limitExceeded)
    }

    @Test func internalDateKeepsItsZone() throws {
        let events = try decode("* 1 FETCH (INTERNALDATE \" 1-Feb-1994 21:52:25 -0800\")\r\n")
        // 1994-02-02T05:52:25Z
        #expect(
            events.contains(
                .fetchAttribute(.internalDate(InternalDate(epochSeconds: 760_168_345, utcOffsetMinutes: -480)))))
    }

    /// Random mutations of real transcripts, fed in random pieces: every outcome is events or an IMAPCoreError.
    @Test func mutatedTranscriptsNeverCrash() throws {
        var rng = SplitMix64(seed: 2026)
        let originals = [try transcript("dovecot-session.txt"), try transcript("dovecot-failures.txt")]
        let specials = Array("{}~()[]\"\\ \r\n0123456789*+".utf8)
        var errors = 0
        for round in 0..<400 {
            var bytes = originals[round % 2]
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = specials[Int(rng.next() % UInt64(specials.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                }
            }
            do {
                _ = try decodeEvents(bytes, chunk: 1 + Int(rng.next() % 64), limits: IMAPLimits(maxLineLength: 4096))
            } catch is IMAPCoreError {
                errors += 1
            }
        }
        #expect(errors > 0)
    }
}

@Suite struct STARTTLSBufferTests {
    /// RFC 2595 section 3.1: whatever arrived with or after the tagged OK to STARTTLS is dropped.
    @Test func discardBufferedDropsEverythingNotYetDecoded() throws {
        var decoder = IMAPResponseDecoder(expectingGreeting: false)
        decoder.append(Array("A1 OK Begin TLS\r\n* CAPABILITY INJECTED\r\nA2 OK [CAPAB".utf8))
        #expect(
            try decoder.next()
                == .tagged(IMAPTaggedResponse(tag: "A1", status: .ok, text: IMAPResponseText(text: "Begin TLS"))))
        #expect(decoder.discardBuffered() == "* CAPABILITY INJECTED\r\nA2 OK [CAPAB".utf8.count)
        #expect(try decoder.next() == nil)
        decoder.append(Array("* CAPABILITY IMAP4rev1\r\n".utf8))
        #expect(try decoder.next() == .untagged(.capability(["IMAP4rev1"])))
    }
}
