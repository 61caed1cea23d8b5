import MailModel
import Testing

@Suite struct AddressRewriterTests {
    let map: (String) -> String? = { $0.lowercased() == "alice@example.com" ? "alice.new@example.net" : nil }

    @Test func onlyTheLinesNamingARenamedUserChange() throws {
        let card = Array("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Alice\r\nEMAIL;TYPE=work:Alice@Example.com\r\nEMAIL:carol@example.org\r\nNOTE:alice@example.com is in the note\r\nEND:VCARD\r\n".utf8)
        let (bytes, changes) = try #require(AddressRewriter.rewrite(card, as: .vCard, map: map))
        #expect(String(decoding: bytes, as: UTF8.self) == "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Alice\r\nEMAIL;TYPE=work:alice.new@example.net\r\nEMAIL:carol@example.org\r\nNOTE:alice@example.com is in the note\r\nEND:VCARD\r\n")
        #expect(changes == [.init(property: "EMAIL", from: "Alice@Example.com", to: "alice.new@example.net", lineNumber: 4)])
        #expect(AddressRewriter.rewrite(Array("BEGIN:VCARD\r\nEMAIL:bob@example.com\r\nEND:VCARD\r\n".utf8), as: .vCard, map: map) == nil)
    }

    @Test func calAddressesKeepTheirSchemeAndFoldedLinesAreFoldedAgain() throws {
        let long = "ATTENDEE;CN=\"Alice Martin, Head of Operations and Long Titles\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:MAILTO:alice@example.com"
        let folded = String(long.prefix(75)) + "\n " + String(long.dropFirst(75))  // LF line breaks, as some files have
        let ics = Array("BEGIN:VEVENT\nORGANIZER:mailto:alice@example.com\n\(folded)\nATTENDEE:mailto:bob@example.com\nSUMMARY:x\nEND:VEVENT".utf8)
        let (bytes, changes) = try #require(AddressRewriter.rewrite(ics, as: .iCalendar, map: map))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(changes.map(\.property) == ["ORGANIZER", "ATTENDEE"])
        #expect(text.hasPrefix("BEGIN:VEVENT\nORGANIZER:mailto:alice.new@example.net\n"))
        #expect(text.hasSuffix("\nATTENDEE:mailto:bob@example.com\nSUMMARY:x\nEND:VEVENT"), "the last line keeps having no break")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.utf8.count <= 75 }, "\(lines)")
        let unfolded = text.replacingOccurrences(of: "\n ", with: "")
        #expect(unfolded.contains(String(long.dropLast("alice@example.com".count)) + "alice.new@example.net"))
        #expect(!text.contains("\r"), "line breaks stay as they were")
    }
}
