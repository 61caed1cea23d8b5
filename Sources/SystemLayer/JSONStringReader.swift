/// Reads a JSON string's contents straight from a line's bytes, for the fast paths that read lines without
/// JSONDecoder: the journals' (`JSONLineScanner`) and the manifest's (`CanonicalManifestLine`). The common case, no
/// escape, is one copy, and ASCII (digests, paths) needs no UTF-8 validation. Anything the reader does not accept
/// gives nil, and the caller leaves the whole line to JSONDecoder, which judges it.
public enum JSONStringReader {
    /// Which escapes are read.
    public enum Escapes {
        /// Every JSON escape, surrogate pairs included: lines any JSON writer may have written.
        case all
        /// Only those JSONEncoder writes: `\" \\ \/ \b \f \n \r \t` and `\u00XX` for a control character. A line
        /// with another is not in the writer's exact form.
        case writerForm
    }

    /// The string whose contents begin at `index` (just after its opening quote); `index` ends past its closing
    /// quote. Nil for a string that does not end, holds a raw control character, an escape not accepted, or bytes
    /// that are not UTF-8.
    public static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int, escapes: Escapes) -> String? {
        let start = index
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return high < 0x80 ? String(decoding: raw, as: UTF8.self) : validated(raw)
            }
            if byte == UInt8(ascii: "\\") { return unescaping(bytes, from: start, at: &index, escapes: escapes) }
            guard byte >= 0x20 else { return nil }
            high |= byte
            index += 1
        }
        return nil
    }

    /// The rest of a string that holds an escape: its bytes from `start` copied, escapes replaced.
    private static func unescaping(
        _ bytes: UnsafeRawBufferPointer, from start: Int, at index: inout Int, escapes: Escapes
    ) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(index - start + 16)
        out.append(contentsOf: bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return out.withUnsafeBytes { validated($0) }
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4(bytes, at: &index) else { return nil }
                    switch escapes {
                    case .writerForm:
                        guard scalar < 0x20 else { return nil }
                    case .all:
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A surrogate pair: the low half must follow.
                            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                            else { return nil }
                            index += 2
                            guard let low = hex4(bytes, at: &index), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                out.append(byte)
            }
        }
        return nil
    }

    /// Four hex digits, either case.
    private static func hex4(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The bytes as a String only if they are valid UTF-8.
    private static func validated(_ raw: UnsafeRawBufferPointer) -> String? {
        String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }
}
