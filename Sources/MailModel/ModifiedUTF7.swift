/// IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3, RFC 9051 section 5.1.3), which Dovecot
/// also uses for Maildir++ folder directory names.
///
/// Printable US-ASCII other than `&` stands for itself, `&` is written `&-`, and every other run of characters
/// is UTF-16 in base64 with `,` for `/`, no padding, between `&` and `-`.
public enum ModifiedUTF7 {
    static let shift = UInt8(ascii: "&")
    static let unshift = UInt8(ascii: "-")
    /// The modified base64 alphabet: RFC 2045's with `,` in place of `/`.
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// RFC 3501: only 0x20...0x7e may stand for themselves.
    static func isDirect(_ byte: UInt8) -> Bool { byte >= 0x20 && byte <= 0x7e }

    /// Encodes `name`; the result is the canonical form, which `decode` gives back exactly.
    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(shift)
            appendBase64(of: pending, to: &out)
            out.append(unshift)
            pending.removeAll(keepingCapacity: true)
        }
        for scalar in name.unicodeScalars {
            if scalar.isASCII, isDirect(UInt8(scalar.value)) {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(unshift) }
            } else {
                pending.append(contentsOf: UTF16.encode(scalar)!)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    static func appendBase64(of units: [UInt16], to out: inout [UInt8]) {
        var bits: UInt32 = 0
        var count = 0
        for unit in units {
            bits = (bits << 16) | UInt32(unit)
            count += 16
            while count >= 6 {
                count -= 6
                out.append(alphabet[Int((bits >> UInt32(count)) & 0x3f)])
            }
            bits &= (1 << UInt32(count)) - 1
        }
        if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 0x3f)]) }
    }

    /// Decodes `name` strictly: it throws on anything `encode` would not have produced (characters outside
    /// printable ASCII, a bare `&`, a missing `-`, leftover bits, broken surrogates, printable ASCII in base64,
    /// two base64 runs in a row), naming the input and the offset.
    public static func decode(_ name: String) throws(ModifiedUTF7Error) -> String {
        let bytes = Array(name.utf8)
        var out = String.UnicodeScalarView()
        var i = 0
        /// Where the last base64 run ended, to refuse `&AAA-&BBB-` which the canonical form would have joined.
        var lastRunEnd = -1
        func fail(_ at: Int, _ reason: String) -> ModifiedUTF7Error {
            ModifiedUTF7Error(name: name, offset: at, reason: reason)
        }
        while i < bytes.count {
            let byte = bytes[i]
            guard isDirect(byte) else { throw fail(i, "byte 0x\(String(byte, radix: 16)) must be base64-encoded") }
            guard byte == shift else {
                out.append(Unicode.Scalar(byte))
                i += 1
                continue
            }
            let start = i
            i += 1
            guard i < bytes.count else { throw fail(start, "\"&\" at the end of the name") }
            if bytes[i] == unshift {
                out.append("&")
                i += 1
                continue
            }
            if start == lastRunEnd { throw fail(start, "two base64 runs in a row") }
            var units: [UInt16] = []
            var bits: UInt32 = 0
            var count = 0
            while i < bytes.count, bytes[i] != unshift {
                guard let value = alphabet.firstIndex(of: bytes[i]) else {
                    throw fail(i, "\"\(Unicode.Scalar(bytes[i]))\" is not a modified base64 character")
                }
                bits = (bits << 6) | UInt32(value)
                count += 6
                if count >= 16 {
                    count -= 16
                    units.append(UInt16((bits >> UInt32(count)) & 0xffff))
                    bits &= (1 << UInt32(count)) - 1
                }
                i += 1
            }
            guard i < bytes.count else { throw fail(start, "base64 run not closed by \"-\"") }
            // At most 5 padding bits may remain, and they must be zero (RFC 4648 canonical encoding).
            if count >= 6 || bits != 0 { throw fail(i, "base64 run does not end on a character boundary") }
            var iterator = units.makeIterator()
            var decoder = UTF16()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar):
                    if scalar.isASCII, isDirect(UInt8(scalar.value)) {
                        throw fail(start, "printable ASCII \"\(scalar)\" must not be base64-encoded")
                    }
                    out.append(scalar)
                case .emptyInput:
                    break decoding
                case .error:
                    throw fail(start, "unpaired UTF-16 surrogate")
                }
            }
            i += 1
            lastRunEnd = i
        }
        return String(out)
    }
}
