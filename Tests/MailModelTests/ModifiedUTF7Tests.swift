import MailModel
import Testing

struct ModifiedUTF7Tests {
    @Test func rfc3501Example() throws {
        let encoded = "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        let decoded = "~peter/mail/\u{53F0}\u{5317}/\u{65E5}\u{672C}\u{8A9E}"
        #expect(try ModifiedUTF7.decode(encoded) == decoded)
        #expect(ModifiedUTF7.encode(decoded) == encoded)
    }

    @Test func ampersandAndPlainASCII() throws {
        #expect(ModifiedUTF7.encode("Tom & Jerry") == "Tom &- Jerry")
        #expect(try ModifiedUTF7.decode("Tom &- Jerry") == "Tom & Jerry")
        #expect(ModifiedUTF7.encode("INBOX") == "INBOX")
        #expect(try ModifiedUTF7.decode("") == "")
    }

    @Test(arguments: ["Résumé", "日本語", "a\u{1F600}b", "tab\there", "&&", "~/.", "Ünïcödé & mixed 中文"])
    func roundTrip(_ name: String) throws {
        let encoded = ModifiedUTF7.encode(name)
        #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7e })
        #expect(try ModifiedUTF7.decode(encoded) == name)
    }

    @Test func knownEncodings() {
        #expect(ModifiedUTF7.encode("Résumé") == "R&AOk-sum&AOk-")
        // A character outside the BMP is a surrogate pair in UTF-16.
        #expect(ModifiedUTF7.encode("\u{1F600}") == "&2D3eAA-")
    }

    @Test(arguments: [
        ("&", "at the end"),
        ("&U,BTFw", "not closed"),
        ("&AGE-", "printable ASCII"),
        ("&2AA-", "surrogate"),
        ("Ré", "must be base64-encoded"),
        ("&U,BTFw-&ZeVnLIqe-", "two base64 runs"),
        ("&U,BTFx-", "character boundary"),
        ("&U*-", "not a modified base64 character"),
        ("&AAA/-", "not a modified base64 character"),
    ])
    func malformed(_ input: String, _ reason: String) {
        do {
            _ = try ModifiedUTF7.decode(input)
            Issue.record("\(input) decoded without error")
        } catch {
            #expect(error.name == input)
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
