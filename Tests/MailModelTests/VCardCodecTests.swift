import Testing
@testable import MailModel

@Suite struct VCardCodecTests {
    static let version4 = """
        BEGIN:VCARD\r
        VERSION:4.0\r
        UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r
        FN;PID=1.1:J. Doe\r
        N:Doe;J.;;;\r
        EMAIL;PID=1.1:jdoe@example.com\r
        CLIENTPIDMAP:1;urn:uuid:53e374d9-337e-4727-8803-a1e9c14e0556\r
        END:VCARD\r

        """

    static let version3 = """
        begin:vcard
        version:3.0
        fn:Smith\\, Jane\\; Dr.\\nBerlin
        item1.EMAIL;type=INTERNET:jane@example.org
        item1.X-ABLabel:work
        NOTE:A folded no
         te
        uid:abc-123
        end:vcard

        """

    @Test func version4Card() {
        let (cards, problems) = VCardCodec.summarize(Array(Self.version4.utf8))
        #expect(problems.isEmpty)
        #expect(cards == [CardSummary(version: "4.0", uid: "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1", formattedName: "J. Doe")])
    }

    @Test func version3CardLowerCaseAndEscapes() {
        let (cards, problems) = VCardCodec.summarize(Array(Self.version3.utf8))
        #expect(problems.isEmpty)
        #expect(cards == [CardSummary(version: "3.0", uid: "abc-123", formattedName: "Smith, Jane; Dr.\nBerlin")])
    }

    @Test func severalCardsAndExactRanges() {
        let bytes = Array((Self.version4 + Self.version3).utf8)
        #expect(VCardCodec.summarize(bytes).cards.map(\.version) == ["4.0", "3.0"])
        let ranges = VCardCodec.split(bytes)
        #expect(ranges.count == 2)
        #expect(Array(bytes[ranges[0]]) == Array(Self.version4.utf8))
        #expect(Array(bytes[ranges[1]]) == Array(Self.version3.utf8))
    }

    @Test func missingEndIsReportedAndStillSummarised() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nFN:First\nBEGIN:VCARD\nVERSION:4.0\nFN:Second\nEND:VCARD\nBEGIN:VCARD\nFN:Third\n"
        let (cards, problems) = VCardCodec.summarize(Array(text.utf8))
        #expect(cards.map(\.formattedName) == ["First", "Second", "Third"])
        #expect(problems.count == 2)
        #expect(problems[0].hasPrefix("line 1: BEGIN:VCARD without END:VCARD"))
        #expect(problems[1] == "line 8: BEGIN:VCARD without END:VCARD")
        #expect(VCardCodec.split(Array(text.utf8)).count == 3)
    }

    @Test func strayEndAndNoCards() {
        #expect(VCardCodec.summarize(Array("END:VCARD\n".utf8)).problems == [
            "line 1: END:VCARD without BEGIN:VCARD", "no BEGIN:VCARD found",
        ])
        #expect(VCardCodec.summarize([]).problems == ["no BEGIN:VCARD found"])
    }
}
