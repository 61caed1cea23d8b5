internal import COpenSSL

/// The primitives age v1 is made of, each a thin call into OpenSSL's libcrypto (the one crypto library the project
/// links): X25519, HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305 and the random generator.
enum AgeCrypto {
    static func random(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw ArchiveError(.key, "", "the random generator failed: \(OpenSSLError.drain())")
        }
        return bytes
    }

    /// The X25519 public key of a 32-byte secret (RFC 7748 scalar multiplication of the base point).
    static func x25519PublicKey(secret: [UInt8]) throws -> [UInt8] {
        guard secret.count == 32, let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, secret, 32) else {
            throw ArchiveError(.key, "", "not an X25519 secret key")
        }
        defer { EVP_PKEY_free(key) }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
            throw ArchiveError(.key, "", "cannot compute the X25519 public key: \(OpenSSLError.drain())")
        }
        return raw
    }

    /// The X25519 shared secret of `secret` and `peer`, or nil when it is all zeros (a low-order point, which
    /// age refuses: such a share proves nothing).
    static func x25519(secret: [UInt8], peer: [UInt8]) -> [UInt8]? {
        guard secret.count == 32, peer.count == 32,
              let ours = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, secret, 32)
        else { return nil }
        defer { EVP_PKEY_free(ours) }
        guard let theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, peer, 32) else { return nil }
        defer { EVP_PKEY_free(theirs) }
        guard let ctx = EVP_PKEY_CTX_new(ours, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        var shared = [UInt8](repeating: 0, count: 32)
        var length = 32
        // OpenSSL itself fails the derivation when the result is all zeros.
        guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_derive_set_peer(ctx, theirs) == 1,
              EVP_PKEY_derive(ctx, &shared, &length) == 1, length == 32, shared.contains(where: { $0 != 0 })
        else {
            _ = OpenSSLError.drain()
            return nil
        }
        return shared
    }

    /// HKDF-SHA-256 (RFC 5869): extract with `salt` (none: the hash length of zeros), expand with `info`.
    static func hkdf(key: [UInt8], salt: [UInt8], info: String, count: Int) -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil) else { fatalError("HKDF context: out of memory") }
        defer { EVP_PKEY_CTX_free(ctx) }
        let info = Array(info.utf8)
        var out = [UInt8](repeating: 0, count: count)
        var length = count
        // Only a broken libcrypto fails these with valid lengths.
        guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1,
              salt.isEmpty || EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, Int32(salt.count)) == 1,
              EVP_PKEY_CTX_set1_hkdf_key(ctx, key, Int32(key.count)) == 1,
              EVP_PKEY_CTX_add1_hkdf_info(ctx, info, Int32(info.count)) == 1,
              EVP_PKEY_derive(ctx, &out, &length) == 1, length == count
        else { fatalError("HKDF-SHA-256 failed: \(OpenSSLError.drain())") }
        return out
    }

    static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length) != nil, length == 32 else {
            fatalError("HMAC-SHA-256 failed: \(OpenSSLError.drain())")
        }
        return out
    }

    /// Compares without an early exit, so the time taken says nothing about where two MACs differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// ChaCha20-Poly1305 (RFC 8439) under one key, reusing one OpenSSL context for every message it seals or opens.
final class ChaChaPoly {
    static let tagSize = 16
    private let context: OpaquePointer

    init(key: [UInt8]) {
        precondition(key.count == 32)
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new: out of memory") }
        self.context = context
        // The key is set once; each message sets only its nonce.
        guard EVP_CipherInit_ex(context, EVP_chacha20_poly1305(), nil, key, nil, -1) == 1 else {
            fatalError("ChaCha20-Poly1305 setup failed: \(OpenSSLError.drain())")
        }
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Encrypts `plaintext` into `output`, which must have room for it and the 16-byte tag after it.
    func seal(nonce: [UInt8], _ plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(nonce.count == 12 && output.count >= plaintext.count + Self.tagSize)
        var length: Int32 = 0
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce, 1) == 1,
              plaintext.isEmpty || EVP_CipherUpdate(context, out, &length, plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1,
              EVP_CipherFinal_ex(context, out + Int(length), &length) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), out + plaintext.count) == 1
        else { fatalError("ChaCha20-Poly1305 encryption failed: \(OpenSSLError.drain())") }
    }

    func seal(nonce: [UInt8], _ plaintext: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.tagSize)
        plaintext.withUnsafeBytes { p in out.withUnsafeMutableBytes { seal(nonce: nonce, p, into: $0) } }
        return out
    }

    /// Decrypts `sealed` (ciphertext and tag) into `output` and returns the plaintext's length, or nil when the
    /// tag does not authenticate it under this key and nonce.
    func open(nonce: [UInt8], _ sealed: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard sealed.count >= Self.tagSize else { return nil }
        let count = sealed.count - Self.tagSize
        precondition(nonce.count == 12 && output.count >= count)
        let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var length: Int32 = 0
        var tag = Array(UnsafeRawBufferPointer(rebasing: sealed[count...]))
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce, 0) == 1,
              count == 0 || EVP_CipherUpdate(context, out, &length, input, Int32(count)) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize), &tag) == 1,
              EVP_CipherFinal_ex(context, out + Int(length), &length) == 1
        else {
            _ = OpenSSLError.drain()
            return nil
        }
        return count
    }

    func open(nonce: [UInt8], _ sealed: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(0, sealed.count - Self.tagSize))
        let count = sealed.withUnsafeBytes { s in out.withUnsafeMutableBytes { open(nonce: nonce, s, into: $0) } }
        return count == nil ? nil : out
    }
}

/// A ChaCha20 key stream (RFC 8439 without the MAC) under a random key, applied at any byte offset: it keeps the
/// scratch files an encrypted export writes beside the archive unreadable to anyone but the process writing them.
/// Each 256 GiB (2^32 blocks of 64 bytes) takes its own nonce, so the block counter never wraps.
final class ScratchCipher {
    private let key: [UInt8]
    private let nonce: [UInt8]
    private let context: OpaquePointer

    init() throws {
        key = try AgeCrypto.random(32)
        nonce = try AgeCrypto.random(8)
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new: out of memory") }
        self.context = context
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// XORs the key stream for bytes `offset ..< offset + bytes.count` into `bytes` (encrypting and decrypting alike).
    func apply(_ bytes: UnsafeMutableRawBufferPointer, at offset: Int64) {
        var done = 0
        while done < bytes.count {
            let position = UInt64(offset) + UInt64(done)
            let block = position / 64
            let segment = block >> 32
            // Up to the end of this nonce's 2^32 blocks.
            let segmentEnd = ((segment + 1) << 32) * 64
            let count = Int(min(UInt64(bytes.count - done), segmentEnd - position))
            // OpenSSL's ChaCha20 IV: the 32-bit block counter (little-endian), then the 96-bit nonce.
            var iv = [UInt8](repeating: 0, count: 16)
            for i in 0..<4 { iv[i] = UInt8(truncatingIfNeeded: block >> (8 * UInt64(i))) }
            for i in 0..<4 { iv[4 + i] = UInt8(truncatingIfNeeded: segment >> (8 * UInt64(i))) }
            for i in 0..<8 { iv[8 + i] = nonce[i] }
            let start = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + done
            // The key stream before `position` in its block is generated and thrown away.
            let zeros = [UInt8](repeating: 0, count: Int(position % 64))
            var skipped = zeros
            var length: Int32 = 0
            guard EVP_CipherInit_ex(context, EVP_chacha20(), nil, key, iv, 1) == 1,
                  zeros.isEmpty || EVP_CipherUpdate(context, &skipped, &length, zeros, Int32(zeros.count)) == 1,
                  EVP_CipherUpdate(context, start, &length, start, Int32(count)) == 1
            else { fatalError("ChaCha20 failed: \(OpenSSLError.drain())") }
            done += count
        }
    }
}
