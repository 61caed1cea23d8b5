internal import COpenSSL

/// SHA-256 through OpenSSL's EVP interface (uses the CPU's SHA extensions where present).
public final class SHA256 {
    private let context: OpaquePointer

    public init() {
        // EVP_MD_CTX_new only fails when memory is exhausted; there is nothing sensible to do then.
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { fatalError("EVP_DigestInit_ex(sha256) failed") }
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits. The hasher is reset afterwards.
    public func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        return Hex.encode(digest)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let h = SHA256()
        h.update(bytes)
        return h.finalizeHex()
    }
}

public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)
    /// The lowercase hex digit of `nibble` (0-15).
    static func digit(_ nibble: UInt8) -> UInt8 { digits[Int(nibble)] }
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` 64-bit words from exactly `16 * count` lowercase hex digits, most significant first; nil for anything
    /// else. For values kept as numbers rather than text (a digest, a key's hash).
    public static func words(_ text: String, count: Int) -> [UInt64]? {
        var text = text
        return text.withUTF8 { digits -> [UInt64]? in
            guard digits.count == 16 * count else { return nil }
            var words = [UInt64](repeating: 0, count: count)
            for i in 0..<count {
                guard let word = word(digits, at: 16 * i) else { return nil }
                words[i] = word
            }
            return words
        }
    }

    /// The 64-bit word of the 16 lowercase hex digits at `start` of `digits`; nil if one is not such a digit.
    /// Read a digest at a time, from the journals and manifests of a delta's reconcile: a table, no allocation.
    @inline(__always)
    static func word(_ digits: UnsafeBufferPointer<UInt8>, at start: Int) -> UInt64? {
        var word: UInt64 = 0
        var invalid: UInt8 = 0
        for i in start..<start + 16 {
            let nibble = nibbles[Int(digits[i])]
            invalid |= nibble
            word = word << 4 | UInt64(nibble & 0x0f)
        }
        return invalid & 0x80 == 0 ? word : nil
    }

    /// Each byte's value as a lowercase hex digit, or 0x80 for a byte that is not one.
    private static let nibbles: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        default: 0x80
        }
    }

    public static func isLowerHex(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// A SHA-256 as its 32 bytes in four words. An index of hundreds of thousands of hashes holds 32 bytes for each
/// instead of a 64-digit string (about 100 bytes with its allocation).
public struct SHA256Digest: Hashable, Sendable {
    public var a: UInt64, b: UInt64, c: UInt64, d: UInt64

    public init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    /// From 64 lowercase hex digits (the only form this tool writes); nil for anything else.
    public init?(hex: String) {
        var hex = hex
        guard
            let digest = hex.withUTF8({ digits -> SHA256Digest? in
                guard digits.count == 64, let a = Hex.word(digits, at: 0), let b = Hex.word(digits, at: 16),
                    let c = Hex.word(digits, at: 32), let d = Hex.word(digits, at: 48)
                else { return nil }
                return SHA256Digest(a: a, b: b, c: c, d: d)
            })
        else { return nil }
        self = digest
    }

    /// From the 32 bytes of a digest, most significant first.
    init(bytes: [UInt8]) {
        func word(_ start: Int) -> UInt64 { bytes[start..<start + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(a: word(0), b: word(8), c: word(16), d: word(24))
    }

    /// The 64 lowercase hex digits.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { text in
            for (n, word) in [a, b, c, d].enumerated() {
                for i in 0..<16 {
                    text[16 * n + i] = Hex.digit(UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(i))) & 0x0f)
                }
            }
            return 64
        }
    }
}

extension SHA256 {
    /// The digest as its 32 bytes. The hasher is reset afterwards.
    public func finalizeDigest() -> SHA256Digest {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        return SHA256Digest(bytes: digest)
    }
}
