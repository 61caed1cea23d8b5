import Testing
@testable import MailModel

@Suite struct EncodedWordTests {
    @Test func bAndQEncodings() {
        #expect(EncodedWord.decode("=?utf-8?B?SGVsbG8gV29ybGQ=?=") == "Hello World")
        #expect(EncodedWord.decode("=?utf-8?b?SGVsbG8gV29ybGQ?=") == "Hello World")  // pad missing
        #expect(EncodedWord.decode("=?US-ASCII?Q?Keith_Moore?=") == "Keith Moore")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard") == "André Pirard")
    }

    @Test func charsets() {
        #expect(EncodedWord.decode("=?iso-8859-15?q?=A4uro?=") == "€uro")
        #expect(EncodedWord.decode("=?iso-8859-1?q?=A4uro?=") == "¤uro")
        #expect(EncodedWord.decode("=?windows-1252?q?=93quoted=94?=") == "\u{201C}quoted\u{201D}")
        #expect(EncodedWord.decode("=?utf-8*en?q?with_language?=") == "with language")
    }

    /// RFC 2047 section 8 examples, with our own texts.
    @Test func adjacentWordsJoinWithoutTheSpaceBetween() {
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?=)") == "(a)")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?= b)") == "(a b)")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)") == "(ab)")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?=)") == "(ab)")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a_b?=)") == "(a b)")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)") == "(a b)")
    }

    @Test func mixedCharsetsInOneHeader() {
        let text = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?q?_aus_M=FCnchen?= und Wien"
        #expect(EncodedWord.decode(text) == "Grüße aus München und Wien")
    }

    @Test func aCharacterSplitAcrossTwoWordsIsJoined() {
        // "é" is C3 A9 in UTF-8; some mailers cut between the two bytes.
        #expect(EncodedWord.decode("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=") == "café")
    }

    @Test func undecodableWordsStayAsWritten() {
        let unknown = "=?x-unknown?q?abc?="
        #expect(EncodedWord.decode(unknown) == unknown)
        let badBase64 = "=?utf-8?b?!!!?="
        #expect(EncodedWord.decode(badBase64) == badBase64)
        let badQ = "=?utf-8?q?a=ZZ?="
        #expect(EncodedWord.decode(badQ) == badQ)
        let invalidUTF8 = "=?utf-8?q?=FF?="
        #expect(EncodedWord.decode(invalidUTF8) == invalidUTF8)
        #expect(EncodedWord.decode("a =?utf-8?q?b c?= d") == "a =?utf-8?q?b c?= d")
        #expect(EncodedWord.decode("plain =? text ?=") == "plain =? text ?=")
    }
}
