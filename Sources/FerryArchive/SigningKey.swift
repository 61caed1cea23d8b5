internal import COpenSSL
import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// An Ed25519 key pair held by OpenSSL. Keys are PEM files in the same form `openssl genpkey
/// -algorithm ed25519` writes (PKCS#8 private, SubjectPublicKeyInfo public), so either tool's keys work.
public final class SigningKey {
    let key: OpaquePointer

    private init(owning key: OpaquePointer) { self.key = key }
    deinit { EVP_PKEY_free(key) }

    /// A fresh key from OpenSSL's random generator.
    public static func generate() throws -> SigningKey {
        var key: OpaquePointer?
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw ArchiveError(.key, "", "cannot create Ed25519 context: \(OpenSSLError.drain())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &key) == 1, let key else {
            throw ArchiveError(.key, "", "Ed25519 key generation failed: \(OpenSSLError.drain())")
        }
        return SigningKey(owning: key)
    }

    /// Reads a private key PEM file; refuses keys that are not Ed25519.
    public convenience init(pemFile path: String) throws {
        let pem = try PEMFile.read(path)
        let key = try PEMFile.withBIO(pem, path: path) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                throw ArchiveError(.key, path, "not a PEM private key (\(OpenSSLError.drain()))")
            }
            return key
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw ArchiveError(.key, path, "the key is not Ed25519; make one with `mailferry keygen` or `openssl genpkey -algorithm ed25519`")
        }
        self.init(owning: key)
    }

    public var publicKey: PublicKey { get throws { try PublicKey(raw: rawPublicKey(key)) } }

    /// The PKCS#8 PEM text of the private key.
    public func privatePEM() throws -> [UInt8] {
        try PEMFile.write { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) }
    }

    /// A detached Ed25519 signature (64 bytes) over `message` (RFC 8032 pure Ed25519, one-shot).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw ArchiveError(.key, "", "out of memory") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, key) == 1 else {
            throw ArchiveError(.key, "", "signing failed: \(OpenSSLError.drain())")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let ok = message.withUnsafeBufferPointer { msg in
            EVP_DigestSign(ctx, &signature, &length, msg.baseAddress, msg.count)
        }
        guard ok == 1, length == 64 else { throw ArchiveError(.key, "", "signing failed: \(OpenSSLError.drain())") }
        return signature
    }
}

/// An Ed25519 public key: the trust anchor `verify` and `import` check archives against.
public final class PublicKey {
    let key: OpaquePointer
    /// The 32 raw key bytes (RFC 8032).
    public let raw: [UInt8]

    init(raw: [UInt8]) throws {
        guard raw.count == 32,
              let key = raw.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) })
        else { throw ArchiveError(.key, "", "invalid Ed25519 public key") }
        self.key = key
        self.raw = raw
    }

    deinit { EVP_PKEY_free(key) }

    /// Reads a public key PEM (SubjectPublicKeyInfo). A private key file is accepted too, its public half used.
    public convenience init(pemFile path: String) throws {
        let pem = try PEMFile.read(path)
        // A public key file, or else a private key file whose public half is wanted.
        var key = try PEMFile.withBIO(pem, path: path) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        if key == nil {
            _ = OpenSSLError.drain()
            key = try PEMFile.withBIO(pem, path: path) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        }
        guard let key else { throw ArchiveError(.key, path, "not a PEM public key (\(OpenSSLError.drain()))") }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
            throw ArchiveError(.key, path, "the key is not Ed25519")
        }
        try self.init(raw: rawPublicKey(key))
    }

    /// First 16 hex digits of SHA-256 over the raw key: short enough to read, long enough to tell keys apart.
    public var keyID: String { String(SHA256.hex(raw).prefix(16)) }

    public func publicPEM() throws -> [UInt8] {
        try PEMFile.write { bio in PEM_write_bio_PUBKEY(bio, key) }
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, key) == 1 else { return false }
        let ok = message.withUnsafeBufferPointer { msg in
            EVP_DigestVerify(ctx, signature, 64, msg.baseAddress, msg.count)
        }
        _ = OpenSSLError.drain()
        return ok == 1
    }
}

private func rawPublicKey(_ key: OpaquePointer) throws -> [UInt8] {
    var raw = [UInt8](repeating: 0, count: 32)
    var length = 32
    guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
        throw ArchiveError(.key, "", "cannot read the public key: \(OpenSSLError.drain())")
    }
    return raw
}

/// Reading and writing PEM text through OpenSSL memory BIOs.
enum PEMFile {
    /// Key files are small; anything larger is not a key.
    static let maximumSize = 64 * 1024

    static func read(_ path: String) throws -> [UInt8] {
        let file = try OwnedFile(path: path, flags: O_RDONLY)
        let size = try file.size
        guard size <= maximumSize else { throw ArchiveError(.key, path, "too large to be a key file (\(size) bytes)") }
        return try file.read(count: Int(size), at: 0)
    }

    /// Runs `body` with a read-only memory BIO over `pem`. The BIO does not copy the bytes, so they
    /// are pinned for exactly as long as it exists.
    static func withBIO<T>(_ pem: [UInt8], path: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        try pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw ArchiveError(.key, path, "out of memory")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    static func write(_ body: (OpaquePointer) -> Int32) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw ArchiveError(.key, "", "out of memory") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw ArchiveError(.key, "", "PEM encoding failed: \(OpenSSLError.drain())") }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            out += chunk[0..<Int(n)]
        }
        return out
    }
}
