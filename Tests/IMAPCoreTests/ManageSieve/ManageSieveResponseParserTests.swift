import Testing

@testable import IMAPCore

/// ManageSieve responses (RFC 5804) cut and parsed from bytes alone: fed one byte at a time and all at once, with
/// the same lines; hostile input refused with bounded memory.
@Suite struct ManageSieveResponseParserTests {
    /// Every line of `bytes`, fed in chunks of `chunk` bytes.
    func lines(_ bytes: [UInt8], chunk: Int, limits: ManageSieveLimits = .default) throws -> [[ManageSieveToken]] {
        var parser = ManageSieveResponseParser(limits: limits)
        var out: [[ManageSieveToken]] = []
        var offset = 0
        while offset < bytes.count {
            parser.append(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            while let line = try parser.nextLine() { out.append(line) }
        }
        #expect(parser.bufferedBytes == 0)
        return out
    }

    func both(_ text: [UInt8]) throws -> [[ManageSieveToken]] {
        let whole = try lines(text, chunk: text.count)
        #expect(try lines(text, chunk: 1) == whole)
        return whole
    }

    static func s(_ text: String) -> ManageSieveToken { .string(Array(text.utf8)) }

    /// Dovecot Pigeonhole's greeting, as it sends it (a real transcript).
    @Test func dovecotsCapabilityGreeting() throws {
        let greeting = """
            "IMPLEMENTATION" "Dovecot Pigeonhole"\r
            "SIEVE" "fileinto reject envelope encoded-character vacation"\r
            "NOTIFY" "mailto"\r
            "SASL" "PLAIN LOGIN"\r
            "STARTTLS"\r
            "VERSION" "1.0"\r
            OK "Dovecot (Debian) ready."\r

            """
        let got = try both(Array(greeting.utf8))
        #expect(got.count == 7)
        #expect(got[0] == [Self.s("IMPLEMENTATION"), Self.s("Dovecot Pigeonhole")])
        #expect(got[4] == [Self.s("STARTTLS")])
        let ok = try ManageSieveResponse.completion(got[6])
        #expect(ok == ManageSieveResponse(status: .ok, text: "Dovecot (Debian) ready."))
        #expect(try ManageSieveResponse.completion(got[0]) == nil)
    }

    @Test func literalsQuotedEscapesAndResponseCodes() throws {
        let script = Array("require \"fileinto\";\r\nfileinto \"Tr\u{e4}sh\";\n\u{0}end".utf8)
        var bytes = Array("{\(script.count)}\r\n".utf8) + script + Array("\r\n".utf8)
        bytes += Array("\"na\\\"me\\\\x\" ACTIVE\r\n".utf8)
        bytes += Array("NO (QUOTA/MAXSIZE) {13}\r\nline 1\r\nline2\r\n".utf8)
        bytes += Array("OK (WARNINGS) \"careful\"\r\n".utf8)
        bytes += Array("BYE (TAG {3}\r\nabc) \"bye\"\r\n".utf8)
        bytes += Array("{4+}\r\nab\r\n\r\n".utf8)
        let got = try both(bytes)
        #expect(got.count == 6)
        #expect(got[0] == [.string(script)])
        #expect(got[1] == [Self.s("na\"me\\x"), .atom("ACTIVE")])
        let no = try ManageSieveResponse.completion(got[2])
        #expect(no?.status == ManageSieveResponse.Status.no)
        #expect(no?.codeName == "QUOTA/MAXSIZE")
        #expect(no?.text == "line 1\r\nline2")
        let ok = try ManageSieveResponse.completion(got[3])
        #expect(ok?.codeName == "WARNINGS" && ok?.text == "careful")
        let bye = try ManageSieveResponse.completion(got[4])
        #expect(bye?.status == ManageSieveResponse.Status.bye && bye?.code == [.atom("TAG"), Self.s("abc")])
        #expect(got[5] == [Self.s("ab\r\n")])
    }

    @Test func incompleteInputWaitsAndIsNotAnError() throws {
        var parser = ManageSieveResponseParser()
        parser.append(Array("{10}\r\n01234".utf8))
        #expect(try parser.nextLine() == nil)
        parser.append(Array("56789".utf8))
        #expect(try parser.nextLine() == nil)
        parser.append(Array("\r\nOK".utf8))
        #expect(try parser.nextLine() == [Self.s("0123456789")])
        #expect(try parser.nextLine() == nil)
        parser.append(Array("\r\n".utf8))
        #expect(try parser.nextLine() == [.atom("OK")])
    }

    /// A server announcing a literal larger than the limit is refused when the `{N}` is read: none of its bytes
    /// are waited for or kept.
    @Test func aHugeLiteralIsRefusedWhenAnnounced() throws {
        for header in ["{5000000000}\r\n", "{99999999999999999999}\r\n", "{16777217}\r\n"] {
            var parser = ManageSieveResponseParser()
            parser.append(Array(header.utf8))
            #expect(throws: ManageSieveParseError.self) { try parser.nextLine() }
            do {
                _ = try parser.nextLine()
            } catch {
                #expect(error.isLimit, "\(header): \(error)")
            }
        }
        // Exactly the limit is taken.
        let limits = ManageSieveLimits(maxLiteralBytes: 8)
        #expect(try lines(Array("{8}\r\n12345678\r\n".utf8), chunk: 3, limits: limits) == [[Self.s("12345678")]])
        #expect(throws: ManageSieveParseError.self) { try lines(Array("{9}\r\n123456789\r\n".utf8), chunk: 3, limits: limits) }
        // Several literals on one line count together.
        #expect(throws: ManageSieveParseError.self) { try lines(Array("{5}\r\n12345 {5}\r\n12345\r\n".utf8), chunk: 3, limits: limits) }
    }

    @Test func aLineWithoutEndIsRefusedAtTheLineLimit() throws {
        let limits = ManageSieveLimits(maxLineBytes: 100)
        var parser = ManageSieveResponseParser(limits: limits)
        parser.append(Array(repeating: UInt8(ascii: "A"), count: 100))
        #expect(try parser.nextLine() == nil)
        parser.append([UInt8(ascii: "A")])
        do {
            _ = try parser.nextLine()
            Issue.record("a 101-byte line was taken")
        } catch {
            #expect(error.isLimit)
        }
        var quoted = ManageSieveResponseParser(limits: limits)
        quoted.append(Array(("\"" + String(repeating: "x", count: 200)).utf8))
        #expect(throws: ManageSieveParseError.self) { try quoted.nextLine() }
    }

    @Test func brokenInputIsAnErrorNotACrash() throws {
        for bad in ["OK \"a\rb\"\r\n", "OK\n", ")\r\n", "(A\r\n", "{x}\r\n", "{3}ab\r\n", "\"a\\b\"\r\n", "OK \u{1}\r\n"] {
            var parser = ManageSieveResponseParser()
            parser.append(Array(bad.utf8))
            #expect(throws: ManageSieveParseError.self, "\(bad.debugDescription)") { try parser.nextLine() }
        }
        #expect(throws: ManageSieveParseError.self) { try ManageSieveResponse.completion([.atom("OK"), .atom("x")]) }
        #expect(throws: ManageSieveParseError.self) { try ManageSieveResponse.completion([.atom("OK"), Self.s("a"), Self.s("b")]) }
    }

    @Test func commandsQuoteShortArgumentsAndSendScriptsAsLiterals() {
        #expect(ManageSieveCommandEncoder.encode("LISTSCRIPTS", []) == Array("LISTSCRIPTS\r\n".utf8))
        #expect(ManageSieveCommandEncoder.encode("GETSCRIPT", [Array("a\"b\\c".utf8)]) == Array("GETSCRIPT \"a\\\"b\\\\c\"\r\n".utf8))
        let script = Array("keep;\r\n".utf8)
        #expect(ManageSieveCommandEncoder.encode("PUTSCRIPT", [Array("x".utf8), script]) == Array("PUTSCRIPT \"x\" {7+}\r\nkeep;\r\n\r\n".utf8))
        // Not UTF-8: a literal.
        #expect(ManageSieveCommandEncoder.encode("CHECKSCRIPT", [[0xFF]]) == Array("CHECKSCRIPT {1+}\r\n".utf8) + [0xFF] + Array("\r\n".utf8))
    }
}
