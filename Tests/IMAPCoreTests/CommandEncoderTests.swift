import Foundation
import MailModel
import Testing

@testable import IMAPCore

@Suite struct CommandEncoderTests {
    let plus = IMAPCommandEncoder(literalMode: .nonSynchronizing)
    let sync = IMAPCommandEncoder(literalMode: .synchronizing)
    let minus = IMAPCommandEncoder(literalMode: .nonSynchronizingUpTo4096)

    func text(_ command: IMAPCommand, _ encoder: IMAPCommandEncoder? = nil) -> String {
        String(decoding: (encoder ?? plus).encode(command, tag: "A1").bytes, as: UTF8.self)
    }

    @Test func simpleCommands() {
        #expect(text(.capability) == "A1 CAPABILITY\r\n")
        #expect(text(.noop) == "A1 NOOP\r\n")
        #expect(text(.logout) == "A1 LOGOUT\r\n")
        #expect(text(.startTLS) == "A1 STARTTLS\r\n")
        #expect(text(.namespace) == "A1 NAMESPACE\r\n")
        #expect(text(.enable(["CONDSTORE", "UTF8=ACCEPT"])) == "A1 ENABLE CONDSTORE UTF8=ACCEPT\r\n")
        #expect(text(.list(reference: "", pattern: "*")) == "A1 LIST \"\" *\r\n")
        #expect(
            text(.listExtended(reference: "", pattern: "*", specialUseOnly: true))
                == "A1 LIST (SPECIAL-USE) \"\" * RETURN (SUBSCRIBED SPECIAL-USE)\r\n")
        #expect(
            text(.listExtended(reference: "", pattern: "*", specialUseOnly: false))
                == "A1 LIST \"\" * RETURN (SUBSCRIBED SPECIAL-USE)\r\n")
        #expect(text(.lsub(reference: "", pattern: "%")) == "A1 LSUB \"\" %\r\n")
        #expect(text(.select(mailbox: "INBOX", readOnly: false)) == "A1 SELECT INBOX\r\n")
        #expect(text(.select(mailbox: "Sent Items", readOnly: true)) == "A1 EXAMINE \"Sent Items\"\r\n")
        #expect(text(.select(mailbox: "INBOX", readOnly: false, condStore: true)) == "A1 SELECT INBOX (CONDSTORE)\r\n")
        #expect(
            text(.status(mailbox: "INBOX", items: ["MESSAGES", "UIDNEXT"])) == "A1 STATUS INBOX (MESSAGES UIDNEXT)\r\n")
        #expect(
            text(.uidFetch(IMAPUIDSet(1...UInt32.max), items: ["UID", "FLAGS"])) == "A1 UID FETCH 1:* (UID FLAGS)\r\n")
        #expect(
            text(.uidFetch(IMAPUIDSet([5, 1, 2, 3, 9, 3]), items: ["BODY.PEEK[]"]))
                == "A1 UID FETCH 1:3,5,9 (BODY.PEEK[])\r\n")
        #expect(text(.create(mailbox: "Projekt/ärger")) == "A1 CREATE Projekt/&AOQ-rger\r\n")
        #expect(text(.subscribe(mailbox: "a&b")) == "A1 SUBSCRIBE a&-b\r\n")
        #expect(text(.getACL(mailbox: "INBOX")) == "A1 GETACL INBOX\r\n")
        #expect(text(.setACL(mailbox: "INBOX", identifier: "bob", rights: "+lr")) == "A1 SETACL INBOX bob +lr\r\n")
        #expect(text(.deleteACL(mailbox: "Team Mail", identifier: "bob@example.com")) == "A1 DELETEACL \"Team Mail\" bob@example.com\r\n")
        #expect(text(.myRights(mailbox: "INBOX")) == "A1 MYRIGHTS INBOX\r\n")
    }

    @Test func loginQuotingAndLiterals() {
        #expect(text(.login(user: "alice", password: "secret")) == "A1 LOGIN alice secret\r\n")
        #expect(
            text(.login(user: "alice*admin", password: "p a\"s\\s")) == "A1 LOGIN \"alice*admin\" \"p a\\\"s\\\\s\"\r\n"
        )
        #expect(text(.login(user: "", password: "x")) == "A1 LOGIN \"\" x\r\n")
        // 8-bit needs a literal: non-synchronizing with LITERAL+ ...
        let pw = "pässword"
        #expect(text(.login(user: "a", password: pw)) == "A1 LOGIN a {9+}\r\npässword\r\n")
        // ... synchronizing without, cut where the continuation must come.
        let encoded = sync.encode(.login(user: "a", password: pw), tag: "A1")
        #expect(
            encoded.parts == [
                .data(Array("A1 LOGIN a {9}\r\n".utf8)), .awaitContinuation, .data(Array("pässword\r\n".utf8)),
            ])
        #expect(encoded.continuationsNeeded == 1)
        #expect(text(.login(user: "a", password: pw), minus) == "A1 LOGIN a {9+}\r\npässword\r\n")
        #expect(text(.login(user: "a", password: "x\r\ny")) == "A1 LOGIN a {4+}\r\nx\r\ny\r\n")
    }

    @Test func literalMinusOnlyUpTo4096() {
        let big = IMAPCommand.append(mailbox: "INBOX", flags: [], internalDate: nil, size: 5000)
        #expect(
            minus.encode(big, tag: "A1").parts == [.data(Array("A1 APPEND INBOX {5000}\r\n".utf8)), .awaitContinuation])
        let small = IMAPCommand.append(mailbox: "INBOX", flags: [], internalDate: nil, size: 4096)
        #expect(minus.encode(small, tag: "A1").parts == [.data(Array("A1 APPEND INBOX {4096+}\r\n".utf8))])
        #expect(IMAPLiteralMode(capabilities: ["IMAP4REV1", "LITERAL+"]) == .nonSynchronizing)
        #expect(IMAPLiteralMode(capabilities: ["IMAP4REV2"]) == .nonSynchronizingUpTo4096)
        #expect(IMAPLiteralMode(capabilities: ["IMAP4REV1"]) == .synchronizing)
    }

    @Test func authenticatePlain() {
        // RFC 4616: authzid NUL authcid NUL passwd, base64.
        #expect(
            text(
                .authenticatePlain(
                    authorizationID: nil, authenticationID: "alice", password: "secret", initialResponse: true))
                == "A1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        #expect(
            text(
                .authenticatePlain(
                    authorizationID: "alice", authenticationID: "admin", password: "pw", initialResponse: true))
                == "A1 AUTHENTICATE PLAIN YWxpY2UAYWRtaW4AcHc=\r\n")
        let twoStep = plus.encode(
            .authenticatePlain(
                authorizationID: nil, authenticationID: "alice", password: "secret", initialResponse: false), tag: "A1")
        #expect(
            twoStep.parts == [
                .data(Array("A1 AUTHENTICATE PLAIN\r\n".utf8)), .awaitContinuation,
                .data(Array("AGFsaWNlAHNlY3JldA==\r\n".utf8)),
            ])
        #expect(Base64.decode("YWxpY2UAYWRtaW4AcHc=") == Array("alice\u{0}admin\u{0}pw".utf8))
        #expect(
            IMAPCommand.authenticatePlain(
                authorizationID: nil, authenticationID: "a", password: "b", initialResponse: true
            ).name == "AUTHENTICATE PLAIN")
    }

    @Test func appendWithFlagsAndDate() {
        let date = InternalDate(epochSeconds: 978_339_600, utcOffsetMinutes: 60)  // 2001-01-01 09:00Z
        #expect(
            text(.append(mailbox: "Sent", flags: ["\\Seen", "$Label1"], internalDate: date, size: 138))
                == "A1 APPEND Sent (\\Seen $Label1) \"01-Jan-2001 10:00:00 +0100\" {138+}\r\n")
        #expect(text(.append(mailbox: "INBOX", flags: [], internalDate: nil, size: 0)) == "A1 APPEND INBOX {0+}\r\n")
    }

    /// RFC 3502: one command, each message with its own flags, date and literal; the bytes go where the
    /// `.messageBytes` parts stand, and the caller ends the command with CRLF.
    @Test func multiAppendLeavesAPlaceForEachMessage() {
        let date = InternalDate(epochSeconds: 978_339_600, utcOffsetMinutes: 60)
        let command = IMAPCommand.multiAppend(mailbox: "Sent Items", messages: [
            IMAPAppendItem(flags: ["\\Seen"], internalDate: date, size: 3),
            IMAPAppendItem(flags: [], internalDate: nil, size: 0),
            IMAPAppendItem(flags: ["$Work", "\\Flagged"], internalDate: nil, size: 12),
        ])
        #expect(command.name == "APPEND")
        #expect(
            plus.encode(command, tag: "A7").parts == [
                .data(Array("A7 APPEND \"Sent Items\" (\\Seen) \"01-Jan-2001 10:00:00 +0100\" {3+}\r\n".utf8)), .messageBytes(0),
                .data(Array(" {0+}\r\n".utf8)), .messageBytes(1),
                .data(Array(" ($Work \\Flagged) {12+}\r\n".utf8)), .messageBytes(2),
            ])
        // Without LITERAL+ each literal waits for the server's continuation.
        #expect(sync.encode(command, tag: "A7").continuationsNeeded == 3)
    }

    @Test func uidSetsAsServersWriteThem() {
        #expect(IMAPUIDSet.expand("7") == [7])
        #expect(IMAPUIDSet.expand("7:9,3,12:11") == [7, 8, 9, 3, 11, 12])
        #expect(IMAPUIDSet.expand("0") == nil)
        #expect(IMAPUIDSet.expand("1:*") == nil)
        #expect(IMAPUIDSet.expand("1,,2") == nil)
        #expect(IMAPUIDSet.expand("1:2:3") == nil)
        #expect(IMAPUIDSet.expand("1:4294967295") == nil, "too many UIDs to list")
    }

    @Test(arguments: [
        InternalDate(epochSeconds: 0, utcOffsetMinutes: 0),
        InternalDate(epochSeconds: 946_704_599, utcOffsetMinutes: -330),
        InternalDate(epochSeconds: -86_400 * 365 * 30, utcOffsetMinutes: 840),
        InternalDate(epochSeconds: 1_700_000_000, utcOffsetMinutes: nil),
        InternalDate(epochSeconds: 951_782_400, utcOffsetMinutes: -720),  // 29 Feb 2000
    ])
    func dateTimeRoundTrip(date: InternalDate) throws {
        let written = IMAPCommandEncoder.dateTime(date)
        var cursor = IMAPByteCursor(Array("\"\(written)\"".utf8))
        let parsed = try IMAPResponseParser.dateTime(&cursor)
        #expect(parsed.epochSeconds == date.epochSeconds)
        #expect(parsed.utcOffsetMinutes == (date.utcOffsetMinutes ?? 0))
    }

    @Test func searchCriteria() {
        #expect(text(.uidSearch([], esearch: false)) == "A1 UID SEARCH ALL\r\n")
        #expect(
            text(.uidSearch([.larger(1000), .smaller(5000)], esearch: true))
                == "A1 UID SEARCH RETURN (ALL) LARGER 1000 SMALLER 5000\r\n")
        #expect(
            text(.uidSearch([.header("Message-ID", "<a@b>")], esearch: false))
                == "A1 UID SEARCH HEADER Message-ID \"<a@b>\"\r\n")
        #expect(
            text(
                .uidSearch(
                    [.on(IMAPDate(year: 2001, month: 1, day: 1)), .since(IMAPDate(year: 1999, month: 12, day: 31))],
                    esearch: false))
                == "A1 UID SEARCH ON 1-Jan-2001 SINCE 31-Dec-1999\r\n")
        #expect(
            text(.uidSearch([.uid(IMAPUIDSet(10...20)), .not(.header("X", "y"))], esearch: false))
                == "A1 UID SEARCH UID 10:20 NOT HEADER X \"y\"\r\n")
        #expect(
            text(.uidSearch([.header("Subject", "Grüße")], esearch: false))
                == "A1 UID SEARCH CHARSET UTF-8 HEADER Subject {7+}\r\nGrüße\r\n")
    }

    /// Every string the encoder writes parses back (as an astring) to the same bytes; mailbox names decode to
    /// the same Unicode name.
    @Test(arguments: [
        "INBOX", "Sent Items", "a\"b\\c", "", "Projekt/ärger", "日本語/メール", "a&b", "x]y", "{5}", "NIL", "tab\there", "☺",
    ])
    func mailboxNameRoundTrip(name: String) throws {
        for encoder in [plus, sync] {
            let encoded = encoder.encode(.create(mailbox: name), tag: "A1")
            var bytes = encoded.bytes
            bytes.removeFirst("A1 CREATE ".utf8.count)
            bytes.removeLast(2)
            var cursor = IMAPByteCursor(bytes)
            let wire = String(decoding: try IMAPResponseParser.astring(&cursor), as: UTF8.self)
            #expect(cursor.atEnd)
            #expect(IMAPMailboxName(wire: wire).name == name)
            #expect(wire == ModifiedUTF7.encode(name))
        }
    }

    @Test(arguments: [
        "plain", "with space", "q\"uote", "back\\slash", "ünïcödé", "cr\r\nlf", "nul\u{0}byte",
        String(repeating: "x", count: 5000),
    ])
    func stringRoundTrip(value: String) throws {
        let encoded = plus.encode(.login(user: value, password: "x"), tag: "A1")
        var bytes = encoded.bytes
        bytes.removeFirst("A1 LOGIN ".utf8.count)
        // Literals are written {n+}; the parser reads {n} (server form), so drop the "+".
        if let plusIndex = bytes.firstIndex(of: UInt8(ascii: "+")), bytes.first == UInt8(ascii: "{"),
            bytes[plusIndex + 1] == UInt8(ascii: "}")
        {
            bytes.remove(at: plusIndex)
        }
        var cursor = IMAPByteCursor(bytes)
        #expect(try IMAPResponseParser.astring(&cursor) == Array(value.utf8))
    }

    @Test func flagValidity() {
        for flag in ["\\Seen", "$Forwarded", "Work", "\\Draft", "NonJunk", "a.b-c_d"] {
            #expect(IMAPCommandEncoder.isValidFlag(flag), "\(flag)")
        }
        for flag in ["", "\\", "two words", "(x", "x)", "q\"", "{5}", "a]b", "\\*", "p%", "ä", "tab\t"] {
            #expect(!IMAPCommandEncoder.isValidFlag(flag), "\(flag)")
        }
    }

    @Test func tags() {
        var tags = IMAPTagGenerator()
        #expect(tags.next() == "A0001")
        #expect(tags.next() == "A0002")
        for _ in 0..<20000 { _ = tags.next() }
        #expect(tags.next() == "A20003")
    }

    @Test func uidSets() {
        #expect(IMAPUIDSet([]).description == "")
        #expect(IMAPUIDSet([UInt32.max - 1, UInt32.max]).description == "4294967294:*")
        #expect(IMAPUIDSet(7...7).description == "7")
    }

    /// A large set is cut into sets of at most `maxRanges` ranges, in order, together naming every UID once, and
    /// each command line stays within RFC 7162's 8192 octets at the largest UIDs.
    @Test func aLargeUIDSetIsCutIntoBoundedCommands() {
        let uids = (0..<1000).map { UInt32($0 * 2 + 1) } + Array(5000...5100)
        let parts = IMAPUIDSet(uids).split(maxRanges: 300)
        #expect(parts.map(\.ranges.count) == [300, 300, 300, 101])
        #expect(parts.flatMap { $0.ranges.flatMap { Array($0) } } == uids)
        #expect(IMAPUIDSet([]).split().isEmpty)
        let widest = IMAPUIDSet((0..<2000).map { UInt32.max - 1 - UInt32($0) * 2 }).split()
        let line = text(.uidStoreFlags(widest[0], flags: ["\\Seen", "$label1"]))
        #expect(widest.count == 7 && line.utf8.count <= 8192, "\(line.utf8.count) octets")
    }
}
