import MailModel
import Testing

struct DovecotKeywordsTests {
    @Test func parsesAndLooksUp() {
        let parsed = DovecotKeywords.parse("0 $Junk\n1 Work\n3 Later\n")
        #expect(parsed.problems.isEmpty)
        #expect(parsed.keywords.name(forLetter: "a") == "$Junk")
        #expect(parsed.keywords.name(forLetter: "b") == "Work")
        #expect(parsed.keywords.name(forLetter: "c") == nil)
        #expect(parsed.keywords.name(forLetter: "d") == "Later")
        #expect(parsed.keywords.letter(forName: "work") == "b")
        #expect(parsed.keywords.fileText == "0 $Junk\n1 Work\n3 Later\n")
    }

    @Test func reportsBadLines() {
        let parsed = DovecotKeywords.parse("0 Good\nnonsense\n26 TooFar\n0 Again\n")
        #expect(parsed.keywords.names == ["Good"])
        #expect(parsed.problems.count == 3)
        #expect(parsed.problems[0].hasPrefix("line 2"))
    }

    @Test func assignsAfterTheLastLetterAndStopsAt26() throws {
        var keywords = DovecotKeywords.parse("0 A\n2 C\n").keywords
        #expect(try keywords.assign("C", origin: "f") == "c")
        #expect(try keywords.assign("New", origin: "f") == "d")
        for index in 0..<22 { _ = try keywords.assign("K\(index)", origin: "f") }
        #expect(keywords.names.count == 26)
        #expect(throws: ConnectorError.self) { try keywords.assign("OneTooMany", origin: "f") }
        var empty = DovecotKeywords()
        #expect(throws: ConnectorError.self) { try empty.assign("has space", origin: "f") }
        #expect(empty.names.isEmpty)
    }
}
