import MailModel
import Testing

struct MaildirFlagsTests {
    @Test func parsesInfoPart() {
        let parsed = MaildirFlags.parse(fileName: "1700000000.M1P2.host,S=120,W=124:2,DFPRSTac")
        #expect(parsed.baseName == "1700000000.M1P2.host,S=120,W=124")
        #expect(parsed.hasInfo)
        #expect(parsed.flags.system == [.draft, .flagged, .answered, .seen, .deleted])
        #expect(parsed.flags.passed)
        #expect(parsed.flags.keywordLetters == ["a", "c"])
        #expect(parsed.flags.otherLetters.isEmpty)
    }

    @Test func nameWithoutInfo() {
        let parsed = MaildirFlags.parse(fileName: "1700000000.M1P2.host")
        #expect(parsed.baseName == "1700000000.M1P2.host")
        #expect(!parsed.hasInfo)
        #expect(parsed.flags == MaildirFlags())
    }

    @Test func unknownLettersAreKeptApart() {
        let parsed = MaildirFlags.parse(fileName: "x:2,SX9")
        #expect(parsed.flags.system == [.seen])
        #expect(parsed.flags.otherLetters == ["X", "9"])
        #expect(parsed.flags.suffix == ":2,S")
    }

    @Test func suffixIsInASCIIOrder() {
        let flags = MaildirFlags(system: [.seen, .draft, .answered], passed: true, keywordLetters: ["z", "b"])
        #expect(flags.suffix == ":2,DPRSbz")
        #expect(flags.fileName(baseName: "base") == "base:2,DPRSbz")
        #expect(MaildirFlags().suffix == ":2,")
    }

    @Test func roundTrip() {
        let flags = MaildirFlags(system: [.flagged, .deleted], passed: false, keywordLetters: ["a", "q"])
        let parsed = MaildirFlags.parse(fileName: flags.fileName(baseName: "1.2.3"))
        #expect(parsed.baseName == "1.2.3")
        #expect(parsed.flags == flags)
    }
}
