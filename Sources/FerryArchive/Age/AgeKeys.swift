import Foundation
import SystemLayer

/// An age X25519 recipient: the public key an archive is encrypted to, written `age1...` (Bech32), as
/// `age-keygen` prints it, so keys travel between MailFerry and age both ways.
public struct AgeRecipient: Sendable, Hashable, CustomStringConvertible {
    let publicKey: [UInt8]

    init(publicKey: [UInt8]) { self.publicKey = publicKey }

    /// Parses `age1...`; nil for anything else.
    public init?(_ text: String) {
        guard let (hrp, data) = Bech32.decode(text), hrp == "age", data.count == 32, text == text.lowercased() else { return nil }
        publicKey = data
    }

    public var description: String { Bech32.encode(hrp: "age", publicKey) }
}

/// An age X25519 identity: the secret key that opens what was encrypted to its recipient, written
/// `AGE-SECRET-KEY-1...` (Bech32 in upper case), as in the files `age-keygen` writes.
public struct AgeIdentity: Sendable {
    let secret: [UInt8]
    /// Where the key came from, for messages.
    public let origin: String
    public let recipient: AgeRecipient

    init(secret: [UInt8], origin: String) throws {
        self.secret = secret
        self.origin = origin
        recipient = AgeRecipient(publicKey: try AgeCrypto.x25519PublicKey(secret: secret))
    }

    public static func generate() throws -> AgeIdentity {
        try AgeIdentity(secret: AgeCrypto.random(32), origin: "new key")
    }

    public var encoded: String { Bech32.encode(hrp: "age-secret-key-", secret).uppercased() }
}

/// Reading the key files: an identity file (`age-keygen`'s form: `#` comments, blank lines, one
/// `AGE-SECRET-KEY-1...` a line) and a recipients file (`age -R`'s form: one `age1...` a line).
public enum AgeKeyFile {
    /// Key files are small; a larger file is not one.
    static let maximumSize = 1 << 20

    public static func identities(_ path: String) throws -> [AgeIdentity] {
        var found: [AgeIdentity] = []
        for (number, line) in try lines(path) {
            guard line.hasPrefix("AGE-SECRET-KEY-1") else {
                if line.hasPrefix("age1") {
                    throw ArchiveError(.key, "\(path):\(number)", "a public key (a recipient), where a secret key was expected; give the .age.key file made with the .age.pub one")
                }
                if line.hasPrefix("AGE-PLUGIN-") {
                    throw ArchiveError(.key, "\(path):\(number)", "age plugin identities are not supported; give an X25519 key (AGE-SECRET-KEY-1...)")
                }
                throw ArchiveError(.key, "\(path):\(number)", "not an age secret key (AGE-SECRET-KEY-1...)")
            }
            guard let (hrp, data) = Bech32.decode(line), hrp == "age-secret-key-", data.count == 32, line == line.uppercased() else {
                throw ArchiveError(.key, "\(path):\(number)", "a damaged age secret key (its checksum or length is wrong)")
            }
            found.append(try AgeIdentity(secret: data, origin: path))
        }
        guard !found.isEmpty else { throw ArchiveError(.key, path, "holds no age secret key (AGE-SECRET-KEY-1...)") }
        return found
    }

    /// The identities of every file, in order (none for no files).
    public static func identities(files: [String]) throws -> [AgeIdentity] {
        try files.flatMap { try identities($0) }
    }

    public static func recipients(_ path: String) throws -> [AgeRecipient] {
        var found: [AgeRecipient] = []
        for (number, line) in try lines(path) {
            if line.hasPrefix("AGE-SECRET-KEY-") {
                throw ArchiveError(.key, "\(path):\(number)", "a secret key, where a public key was expected; give the .age.pub file (keep the .age.key at the importing station)")
            }
            guard let recipient = AgeRecipient(line) else {
                throw ArchiveError(.key, "\(path):\(number)", "not an age X25519 public key (age1...)")
            }
            found.append(recipient)
        }
        guard !found.isEmpty else { throw ArchiveError(.key, path, "holds no age public key (age1...)") }
        return found
    }

    /// The non-blank lines that are not comments, with their numbers.
    private static func lines(_ path: String) throws -> [(Int, String)] {
        let file = try OwnedFile(path: path, flags: O_RDONLY)
        let size = try file.size
        guard size <= maximumSize else { throw ArchiveError(.key, path, "too large to be a key file (\(size) bytes)") }
        let bytes = try file.read(count: Int(size), at: 0)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ArchiveError(.key, path, "not text") }
        var result: [(Int, String)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            result.append((i + 1, trimmed))
        }
        return result
    }

    /// An identity file as `age-keygen` writes it: when it was made, its public key as a comment, the key.
    public static func identityFileText(_ identity: AgeIdentity, created: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return "# created: \(formatter.string(from: created))\n# public key: \(identity.recipient)\n\(identity.encoded)\n"
    }
}
