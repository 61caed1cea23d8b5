import Foundation
import Testing

@testable import SystemLayer

/// Hex digests read into words and written back: the only accepted form is lowercase hex of the exact length,
/// and the words are the digits' value, most significant first.
@Suite struct HexTests {
    @Test func aDigestReadFromItsHexIsWrittenBackTheSame() {
        let hexes = [
            String(repeating: "0", count: 64), String(repeating: "f", count: 64),
            "9963d046bf77e53f29f0a9805b3857e0297f83488355f08a35d1a3f9ed6b4519",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ]
        for hex in hexes {
            let digest = SHA256Digest(hex: hex)
            #expect(digest?.hex == hex)
        }
        let sha = SHA256()
        sha.update(Array("abc".utf8))
        // FIPS 180-2's example.
        #expect(sha.finalizeDigest().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let digest = SHA256Digest(hex: "0000000000000001" + "00000000000000ff" + "1000000000000000" + "ffffffffffffffff")
        #expect(digest == SHA256Digest(a: 1, b: 0xff, c: 1 << 60, d: .max))
    }

    @Test func wordsAreTheDigitsValueMostSignificantFirst() {
        #expect(Hex.words("00000000000000ff0123456789abcdef", count: 2) == [0xff, 0x0123_4567_89ab_cdef])
        #expect(Hex.words("", count: 0) == [])
    }

    @Test func anythingButLowercaseHexOfTheExactLengthIsRefused() {
        let good = "9963d046bf77e53f29f0a9805b3857e0297f83488355f08a35d1a3f9ed6b4519"
        var refused = [
            String(good.dropLast()), good + "0", good.uppercased(), "", String(repeating: "g", count: 64),
            String(good.dropLast()) + " ", String(good.dropLast()) + "\u{0}",
            // 64 bytes, but one of them is half of a two-byte character.
            String(good.dropLast(2)) + "é",
        ]
        // Every byte that is not a digit, in every place of a word.
        for byte in UInt8(0)...UInt8(255) where !(48...57).contains(byte) && !(97...102).contains(byte) && byte < 128 {
            refused.append(String(good.prefix(Int(byte) % 64)) + String(UnicodeScalar(byte)) + String(good.dropFirst(Int(byte) % 64 + 1)))
        }
        for text in refused {
            #expect(SHA256Digest(hex: text) == nil, "\(String(reflecting: text)) was read as a digest")
            #expect(Hex.words(text, count: 4) == nil, "\(String(reflecting: text)) was read as four words")
        }
    }
}
