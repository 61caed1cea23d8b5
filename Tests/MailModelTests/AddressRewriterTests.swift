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

    @Test func aContactGroupsMailtoMembersChangeAndCardReferencesStay() throws {
        let group = Array("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Team\r\nMEMBER:mailto:alice@example.com\r\nMEMBER:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af\r\nMEMBER:mailto:bob@example.com\r\nEND:VCARD\r\n".utf8)
        let (bytes, changes) = try #require(AddressRewriter.rewrite(group, as: .vCard, map: map))
        #expect(String(decoding: bytes, as: UTF8.self) == "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Team\r\nMEMBER:mailto:alice.new@example.net\r\nMEMBER:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af\r\nMEMBER:mailto:bob@example.com\r\nEND:VCARD\r\n")
        #expect(changes == [.init(property: "MEMBER", from: "alice@example.com", to: "alice.new@example.net", lineNumber: 5)])
    }
}

/// Sieve `redirect` and `vacation :addresses` naming a renamed user, read with Sieve's own lexical rules.
@Suite struct SieveAddressRewriterTests {
    let map: (String) -> String? = { $0.lowercased() == "alice@example.com" ? "alice.new@example.net" : nil }

    @Test func redirectAndVacationAddressesChangeAndNothingElse() throws {
        let script = """
            require ["vacation", "copy"];
            # redirect "alice@example.com"; in a comment stays
            /* so does "alice@example.com" here;
               redirect "alice@example.com"; */
            if address :is "from" "alice@example.com" {
              redirect :copy "Alice@Example.com";
            }
            redirect "bob@example.com";
            vacation :days 7 :subject "Away; \\"really\\"" :addresses ["carol@example.org", "alice@example.com"] text:
            redirect "alice@example.com";
            .
            ;
            vacation :addresses "alice@example.com" "Gone";

            """.replacingOccurrences(of: "\n", with: "\r\n")
        let (bytes, changes) = try #require(SieveAddressRewriter.rewrite(Array(script.utf8), map: map))
        let expected = script
            .replacingOccurrences(of: "redirect :copy \"Alice@Example.com\"", with: "redirect :copy \"alice.new@example.net\"")
            .replacingOccurrences(of: "[\"carol@example.org\", \"alice@example.com\"]", with: "[\"carol@example.org\", \"alice.new@example.net\"]")
            .replacingOccurrences(of: "vacation :addresses \"alice@example.com\"", with: "vacation :addresses \"alice.new@example.net\"")
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(changes.map(\.property) == ["redirect", "vacation :addresses", "vacation :addresses"])
        #expect(changes.map(\.lineNumber) == [6, 9, 13])
        #expect(changes[0].from == "Alice@Example.com" && changes[0].to == "alice.new@example.net")
    }

    @Test func aScriptNamingNoRenamedUserIsLeftAlone() {
        #expect(SieveAddressRewriter.rewrite(Array("redirect \"bob@example.com\";\r\nkeep;\r\n".utf8), map: map) == nil)
        // Damaged or cut-off scripts never make it fail: an open string or comment runs to the end.
        #expect(SieveAddressRewriter.rewrite(Array("redirect \"alice@example.com".utf8), map: map) == nil)
        #expect(SieveAddressRewriter.rewrite(Array("/* redirect \"alice@example.com\";".utf8), map: map) == nil)
    }

    /// Found by the fuzzer: two commands with no `;` between them both claimed one string, which was then replaced
    /// twice over (a trap). It is replaced once.
    @Test func aStringTwoCommandsClaimIsReplacedOnce() throws {
        let damaged = Array("redirect redirect \"alice@example.com\" vacation :addresses \"alice@example.com\";".utf8)
        let (bytes, changes) = try #require(SieveAddressRewriter.rewrite(damaged, map: map))
        #expect(String(decoding: bytes, as: UTF8.self) == "redirect redirect \"alice@example.com\" vacation :addresses \"alice.new@example.net\";")
        #expect(changes.count == 1)
    }
}
