import Foundation

/// RFC 2047 encoded words (`=?charset?B?...?=`, `=?charset?Q?...?=`) in header text, decoded for display.
///
/// Decoding is lenient where mail in the wild needs it: words are recognised even when not surrounded
/// by white space, a missing Base64 pad is accepted, and adjacent words in the same charset are joined
/// as bytes before decoding so a character split across two words survives. A word that cannot be
/// decoded (unknown charset, bad Base64 or Q text, bytes invalid in the charset) is left as written.
public enum EncodedWord {
    /// RFC 2047 section 2 caps an encoded word at 75 characters; real mail exceeds it, so a looser cap
    /// only stops a stray `=?` from making the scanner consider the rest of a long header.
    static let maximumWordLength = 1_000

    /// One recognised word: where it stands in the text, its charset and its decoded bytes.
    struct Word {
        var range: Range<Int>
        var charset: String
        var bytes: [UInt8]
    }

    /// Decodes every encoded word in `text`. White space between two adjacent encoded words is dropped
    /// (RFC 2047 section 6.2); all other text is kept as it is.
    public static func decode(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        var pendingRun: [Word] = []
        var pendingSpace: [Unicode.Scalar] = []

        func flushRun() {
            output.append(contentsOf: decodeRun(pendingRun, scalars: scalars).unicodeScalars)
            pendingRun = []
        }

        while index < scalars.count {
            if let word = word(at: index, in: scalars) {
                // Only white space lay between this word and the previous one: drop it (section 6.2).
                pendingSpace = []
                pendingRun.append(word)
                index = word.range.upperBound
                continue
            }
            let scalar = scalars[index]
            if !pendingRun.isEmpty && (scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n") {
                pendingSpace.append(scalar)
                index += 1
                continue
            }
            if !pendingRun.isEmpty {
                flushRun()
                output.append(contentsOf: pendingSpace)
                pendingSpace = []
            }
            output.append(scalar)
            index += 1
        }
        if !pendingRun.isEmpty { flushRun() }
        output.append(contentsOf: pendingSpace)
        return String(output)
    }

    /// Decodes raw header bytes for display: UTF-8 or ISO-8859-1 text (see `RFC5322.text`), then
    /// encoded words, then folding white space collapsed to single spaces and the ends trimmed.
    public static func decodeHeaderValue(_ raw: some Collection<UInt8>) -> String {
        var collapsed = String.UnicodeScalarView()
        for scalar in RFC5322.text(raw).unicodeScalars {
            let isSpace = scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
            if !isSpace { collapsed.append(scalar) } else if collapsed.last != " " { collapsed.append(" ") }
        }
        return decode(String(collapsed)).trimmingWhiteSpace()
    }

    /// Decodes a run of adjacent words: the bytes of consecutive words in the same charset are joined
    /// first; a group whose bytes are invalid in the charset is decoded word by word, and a word that
    /// still fails is shown as written.
    static func decodeRun(_ run: [Word], scalars: [Unicode.Scalar]) -> String {
        var result = ""
        var group: [Word] = []
        func flushGroup() {
            guard let first = group.first else { return }
            if let text = string(from: group.flatMap(\.bytes), charset: first.charset) {
                result += text
            } else {
                for word in group {
                    result += string(from: word.bytes, charset: word.charset)
                        ?? String(String.UnicodeScalarView(scalars[word.range]))
                }
            }
            group = []
        }
        for word in run {
            if let first = group.first, first.charset != word.charset { flushGroup() }
            group.append(word)
        }
        flushGroup()
        return result
    }

    ///     encoded-word = "=?" charset ["*" language] "?" encoding "?" encoded-text "?="   ; RFC 2047 2, RFC 2231 5
    ///     encoded-text = 1*<any printable ASCII except "?" and SPACE>
    static func word(at start: Int, in scalars: [Unicode.Scalar]) -> Word? {
        guard start + 1 < scalars.count, scalars[start] == "=", scalars[start + 1] == "?" else { return nil }
        let limit = min(scalars.count, start + maximumWordLength)
        var index = start + 2
        let charsetStart = index
        while index < limit, scalars[index] != "?", isTokenScalar(scalars[index]) { index += 1 }
        guard index < limit, scalars[index] == "?", index > charsetStart else { return nil }
        var charset = String(String.UnicodeScalarView(scalars[charsetStart..<index])).lowercased()
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        index += 1
        guard index + 1 < limit, scalars[index + 1] == "?" else { return nil }
        let encoding = scalars[index]
        index += 2
        let textStart = index
        while index < limit, scalars[index] != "?", scalars[index].value > 32, scalars[index].value < 127 {
            index += 1
        }
        guard index + 1 < limit, scalars[index] == "?", scalars[index + 1] == "=" else { return nil }
        let encoded = scalars[textStart..<index].map { UInt8($0.value) }
        let bytes: [UInt8]?
        switch encoding {
        case "B", "b": bytes = base64(encoded)
        case "Q", "q": bytes = qDecode(encoded)
        default: bytes = nil
        }
        guard let decoded = bytes else { return nil }
        return Word(range: start..<(index + 2), charset: charset, bytes: decoded)
    }

    /// RFC 2047 `token` characters (printable ASCII without specials and SPACE), plus `*` for RFC 2231.
    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.value > 32, scalar.value < 127 else { return false }
        return !"()<>@,;:\"/[]?.=".unicodeScalars.contains(scalar)
    }

    ///     Q: "_" is SPACE, "=" 2HEXDIGIT is that octet, other printable ASCII stands for itself  ; RFC 2047 4.2
    static func qDecode(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                out.append(0x20)
                index += 1
            } else if byte == UInt8(ascii: "=") {
                guard index + 2 < text.count + 0, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Base64 (RFC 4648 section 4); the final padding may be missing, anything else wrong fails.
    static func base64(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        var sawPad = false
        for byte in text {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                sawPad = true
                continue
            default: return nil
            }
            if sawPad { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Six leftover bits cannot come from whole octets.
        return bits >= 6 ? nil : out
    }

    /// Bytes in a MIME charset to text, or nil when the charset is unknown or the bytes are invalid in it.
    public static func string(from bytes: [UInt8], charset: String) -> String? {
        switch charset.lowercased() {
        case "utf-8", "utf8":
            return String(validating: bytes, as: UTF8.self)
        case "us-ascii", "ascii":
            return bytes.allSatisfy({ $0 < 0x80 }) ? String(decoding: bytes, as: UTF8.self) : nil
        case "iso-8859-1", "iso8859-1", "latin1", "l1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "iso-8859-15", "iso8859-15", "latin-9":
            return String(String.UnicodeScalarView(bytes.map { Latin9.scalar($0) }))
        case "windows-1252", "cp1252":
            var scalars = String.UnicodeScalarView()
            for byte in bytes {
                guard let scalar = Windows1252.scalar(byte) else { return nil }
                scalars.append(scalar)
            }
            return String(scalars)
        default:
            guard let encoding = foundationEncodings[charset.lowercased()] else { return nil }
            return String(bytes: bytes, encoding: encoding)
        }
    }

    /// Further charsets handed to Foundation; where it cannot convert, the word stays as written.
    static let foundationEncodings: [String: String.Encoding] = [
        "iso-8859-2": .isoLatin2, "windows-1250": .windowsCP1250, "windows-1251": .windowsCP1251,
        "windows-1253": .windowsCP1253, "windows-1254": .windowsCP1254, "utf-16": .utf16,
        "utf-16be": .utf16BigEndian, "utf-16le": .utf16LittleEndian, "shift_jis": .shiftJIS,
        "euc-jp": .japaneseEUC, "iso-2022-jp": .iso2022JP,
    ]
}
