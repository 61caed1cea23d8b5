import Testing
@testable import MailModel

/// Samples written after RFC 5322 Appendix A (the addresses and texts are our own).
@Suite struct HeaderSummaryTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func appendixA11SimpleAddressing() {
        let message = """
            From: John Doe <jdoe@machine.example>\r
            To: Mary Smith <mary@example.net>\r
            Subject: Saying Hello\r
            Date: Fri, 21 Nov 1997 09:55:06 -0600\r
            Message-ID: <1234@local.machine.example>\r
            \r
            This is a message just to say hello.\r
            So, "Hello".\r

            """
        let summary = HeaderSummary(header: Self.bytes(message))
        #expect(summary.from == "John Doe <jdoe@machine.example>")
        #expect(summary.subject == "Saying Hello")
        #expect(summary.messageID == "<1234@local.machine.example>")
        #expect(summary.date == "Fri, 21 Nov 1997 09:55:06 -0600")
        let date = RFC5322.date(summary.date!)
        #expect(date?.epochSeconds == 880_127_706)
        #expect(date?.utcOffsetMinutes == -360)
    }

    @Test func appendixA5WhiteSpaceCommentsAndFolding() {
        // A.5: folding white space and comments everywhere, a field folded over lines.
        let message = """
            From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>
            To:A Group(Some people)
                 :Chris Jones <c@(Chris's host.)public.example>,
                     joe@example.org,
              John <jdoe@one.test> (my dear friend); (the end of the group)
            Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;
            Date: Thu,
                  13
                    Feb
                      1969
                  23:32
                           -0330 (Newfoundland Time)
            Message-ID:              <testabcd.1234@silly.test>

            Testing.
            """
        let summary = HeaderSummary(header: Self.bytes(message))
        #expect(summary.from == "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>")
        #expect(summary.messageID == "<testabcd.1234@silly.test>")
        let date = RFC5322.date(summary.date!)
        // 1969-02-13 23:32 -03:30 is 1969-02-14 03:02 UTC.
        #expect(date?.epochSeconds == -27_723_480)
        #expect(date?.utcOffsetMinutes == -210)
        #expect(summary.subject == nil)
    }

    @Test func appendixA63ObsoleteWhiteSpaceBeforeColon() {
        let message = "From : John Doe <jdoe@machine(comment).  example>\nSubject  : Saying Hello\n\nbody\n"
        let summary = HeaderSummary(header: Self.bytes(message))
        #expect(summary.from == "John Doe <jdoe@machine(comment). example>")  // white space collapsed for display
        #expect(summary.subject == "Saying Hello")
    }

    @Test func foldedSubjectIsUnfoldedAndFirstOccurrenceWins() {
        let message = "subject: a long\r\n\tsubject\r\n  line\r\nSUBJECT: second\r\nfrom: x@y\r\n\r\nSubject: body\r\n"
        let summary = HeaderSummary(header: Self.bytes(message))
        #expect(summary.subject == "a long subject line")
        #expect(summary.from == "x@y")
    }

    @Test func stopsAtEmptyLineAndAcceptsACutPrefix() {
        let whole = "Subject: hi\n\nFrom: not-a-header@example\n"
        #expect(HeaderSummary(header: Self.bytes(whole)).from == nil)
        let cut = Array(Self.bytes("Subject: cut here\nFrom: Al")[...])
        let summary = HeaderSummary(header: cut)
        #expect(summary.subject == "cut here")
        #expect(summary.from == "Al")
    }

    @Test func headerEndPointsJustAfterTheEmptyLine() {
        #expect(RFC5322.headerEnd(in: Self.bytes("A: b\r\n\r\nbody")) == 8)
        #expect(RFC5322.headerEnd(in: Self.bytes("A: b\n\nbody")) == 6)
        #expect(RFC5322.headerEnd(in: Self.bytes("\nbody")) == 1)
        #expect(RFC5322.headerEnd(in: Self.bytes("A: b\nC: d\n")) == nil)
        #expect(RFC5322.headerEnd(in: Self.bytes("A: b\r\nC: \rd\r\n")) == nil)
    }

    @Test func headerFieldsSkipLinesThatAreNotFields() {
        let fields = RFC5322.headerFields(in: Self.bytes("From alice Thu Mar  7 10:00:00 2024\nX-A: 1\ngarbage\nX-B:\n 2\n"))
        #expect(fields.map(\.name) == ["X-A", "X-B"])
        #expect(fields[1].rawValue == Self.bytes(" 2"))
        #expect(fields[1].text == "2")
    }

    @Test func rawEightBitBytes() {
        // Valid UTF-8 is taken as UTF-8; anything else as ISO-8859-1.
        let utf8 = HeaderSummary(header: Self.bytes("Subject: Grüße\n\n"))
        #expect(utf8.subject == "Grüße")
        let latin1: [UInt8] = Self.bytes("Subject: Gr") + [0xFC, 0xDF] + Self.bytes("e\n\n")
        #expect(HeaderSummary(header: latin1).subject == "Grüße")
    }

    @Test func encodedWordsAreDecodedForDisplay() {
        let message = "Subject: =?UTF-8?B?w4RwZmVs?= und\r\n =?iso-8859-1?q?Birnen_=E4?=\r\nFrom: =?utf-8?q?Andr=C3=A9?= <a@b.example>\r\n\r\n"
        let summary = HeaderSummary(header: Self.bytes(message))
        #expect(summary.subject == "Äpfel und Birnen ä")
        #expect(summary.from == "André <a@b.example>")
    }

    @Test func rfc5322DatesInSeveralForms() {
        #expect(RFC5322.date("7 Mar 2024 10:00 GMT")?.epochSeconds == 1_709_805_600)
        #expect(RFC5322.date("Thu, 07 Mar 24 11:00:00 +0100")?.epochSeconds == 1_709_805_600)
        #expect(RFC5322.date("Thu, 7 Mar 2024 05:00:00 EST")?.epochSeconds == 1_709_805_600)
        #expect(RFC5322.date("yesterday") == nil)
        #expect(RFC5322.date("Thu, 32 Mar 2024 05:00:00 EST") == nil)
    }

    /// Found by fuzzing `headers`: a year of 13 digits overflowed the seconds and trapped, stopping an export.
    @Test(arguments: ["Tue, 2 Nov 2666666666005 12:34:56 +0100", "2 Nov 9223372036854775807 00:00 GMT", "2 Nov 10000 00:00 GMT"])
    func aYearBeyondFourDigitsIsNoDate(_ text: String) {
        #expect(RFC5322.date(text) == nil)
        #expect(RFC5322.date("2 Nov 9999 00:00 GMT") != nil)
    }
}
