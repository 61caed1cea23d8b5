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
        guard text.utf8.count == 16 * count else { return nil }
        var words = [UInt64](repeating: 0, count: count)
        for (i, byte) in text.utf8.enumerated() {
            let nibble: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            words[i / 16] = words[i / 16] << 4 | nibble
        }
        return words
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
        guard let words = Hex.words(hex, count: 4) else { return nil }
        self.init(a: words[0], b: words[1], c: words[2], d: words[3])
    }

    /// From the 32 bytes of a digest, most significant first.
    init(bytes: [UInt8]) {
        func word(_ start: Int) -> UInt64 { bytes[start..<start + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(a: word(0), b: word(8), c: word(16), d: word(24))
    }

    /// The 64 lowercase hex digits.
    public var hex: String {
        var text = ""
        text.reserveCapacity(64)
        for word in [a, b, c, d] {
            let digits = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - digits.count) + digits
        }
        return text
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
