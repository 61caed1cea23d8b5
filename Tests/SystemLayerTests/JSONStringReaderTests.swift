import Foundation
import Testing

@testable import SystemLayer

/// The fast paths' JSON string reader against JSONDecoder: what it reads it reads as JSONDecoder does; the writer's
/// form takes only the escapes JSONEncoder writes, and nothing it cannot read is guessed at.
@Suite struct JSONStringReaderTests {
    /// Reads `literal` (a JSON string, quotes included) and says where it stopped.
    static func read(_ literal: String, _ escapes: JSONStringReader.Escapes) -> (String?, Int) {
        let bytes = Array(literal.utf8)
        return bytes.withUnsafeBytes { raw in
            var index = 1
            let text = JSONStringReader.read(raw, at: &index, escapes: escapes)
            return (text, index)
        }
    }

    static func decoded(_ literal: String) -> String? { try? JSONDecoder().decode(String.self, from: Data(literal.utf8)) }

    @Test func whatEitherFormReadsIsWhatJSONDecoderReads() {
        let both = [
            #""""#, #""plain ascii/path""#, #""naïve café ✓""#, #""a\"b\\c\/d""#, #""\b\f\n\r\t""#, #""\u0000\u001f\u001F""#,
        ]
        for literal in both {
            for escapes in [JSONStringReader.Escapes.all, .writerForm] {
                let (text, end) = Self.read(literal, escapes)
                #expect(text == Self.decoded(literal), "\(literal)")
                #expect(end == literal.utf8.count, "\(literal) read up to \(end)")
            }
        }
        // Escapes JSONEncoder never writes: read with `.all` only.
        for literal in [#""\u00e9t\u00E9""#, #""\ud83d\ude00""#, #""x\u2028y""#] {
            #expect(Self.read(literal, .all).0 == Self.decoded(literal), "\(literal)")
            #expect(Self.read(literal, .writerForm).0 == nil, "\(literal) is not in the writer's form")
        }
    }

    @Test func stringsJSONDoesNotAllowAreNotRead() {
        let refused = [
            "\"no end", "\"raw\ttab\"", "\"raw\nline\"", #""bad \x escape""#, #""short \u12""#, #""\ud83d alone""#,
            #""\ud83d\u0041""#, #""\ude00 low first""#, "\"ends in \\",
        ]
        for literal in refused {
            #expect(Self.read(literal, .all).0 == nil, "\(String(reflecting: literal))")
            #expect(Self.read(literal, .writerForm).0 == nil, "\(String(reflecting: literal))")
        }
        // Bytes that are not UTF-8, with and without an escape before them.
        for bytes in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22]] as [[UInt8]] {
            let text = bytes.withUnsafeBytes { raw -> String? in
                var index = 1
                return JSONStringReader.read(raw, at: &index, escapes: .all)
            }
            #expect(text == nil, "\(bytes)")
        }
    }
}
