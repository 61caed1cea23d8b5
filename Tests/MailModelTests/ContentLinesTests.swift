import Testing
@testable import MailModel

@Suite struct ContentLinesTests {
    @Test func unfoldsCRLFAndLFFoldsRemovingOneWhiteSpace() {
        let text = "NOTE:This is a lo\r\n ng line\r\nX:a\n\tb\nY:c\n  d\n"
        let lines = ContentLines.unfold(Array(text.utf8))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["NOTE:This is a long line", "X:ab", "Y:c d"])
        #expect(lines.map(\.lineNumber) == [1, 3, 5])
        #expect(lines[0].byteRange == 0..<29)
    }

    @Test func parsesGroupParametersAndQuotedValues() {
        let text = #"item1.email;type="INTERNET,pref";TYPE=work,voice;X-Q="a:b;c":jane@example.com"#
        let line = ContentLines.parse(Array(text.utf8)).lines[0]
        #expect(line.group == "item1")
        #expect(line.name == "EMAIL")
        #expect(line.parameters == [
            ContentLineParameter(name: "TYPE", values: ["INTERNET,pref"]),
            ContentLineParameter(name: "TYPE", values: ["work", "voice"]),
            ContentLineParameter(name: "X-Q", values: ["a:b;c"]),
        ])
        #expect(line.value == "jane@example.com")
    }

    @Test func bareParameterAndMalformedLines() {
        let (lines, malformed) = ContentLines.parse(Array("TEL;HOME:+1 555\nno colon here\nA;P=\"open:x\n".utf8))
        #expect(lines.count == 1)
        #expect(lines[0].parameters == [ContentLineParameter(name: "HOME", values: [])])
        #expect(malformed == [2, 3])
    }

    @Test func unescapesText() {
        #expect(ContentLines.unescapeText(#"a\, b\; c\\d\ne\Nf\x"#) == "a, b; c\\d\ne\nf\\x")
    }
}
