/// The header of an age v1 file (age-encryption.org/v1): the version line, one stanza per recipient holding the
/// file key wrapped for it, and an HMAC over all of that under a key derived from the file key. The payload
/// (`AgePayload`) follows the MAC line.
struct AgeHeader {
    static let versionLine = Array("age-encryption.org/v1\n".utf8)
    /// A hostile file must not make a reader buffer without end: headers with a few recipients are a few hundred
    /// bytes, and age's own grease stanzas add at most a few hundred more.
    static let maximumSize = 64 * 1024
    static let maximumStanzas = 1000
    static let fileKeySize = 16

    struct Stanza {
        var type: String
        var arguments: [String]
        var body: [UInt8]
    }

    var stanzas: [Stanza]
    /// The bytes the MAC covers: from the version line through `---`.
    var macInput: [UInt8]
    var mac: [UInt8]
    /// Where the payload (its 16-byte nonce first) begins in the file.
    var length: Int

    // MARK: Writing

    /// A header for a new random file key, wrapped for each recipient; returns the header's bytes and the key.
    static func make(for recipients: [AgeRecipient]) throws -> (bytes: [UInt8], fileKey: [UInt8]) {
        precondition(!recipients.isEmpty)
        let fileKey = try AgeCrypto.random(fileKeySize)
        var text = versionLine
        for recipient in recipients {
            let ephemeral = try AgeCrypto.random(32)
            let share = try AgeCrypto.x25519PublicKey(secret: ephemeral)
            guard let shared = AgeCrypto.x25519(secret: ephemeral, peer: recipient.publicKey) else {
                throw ArchiveError(.key, "\(recipient)", "this public key cannot be encrypted to (a low-order point)")
            }
            let wrapKey = AgeCrypto.hkdf(key: shared, salt: share + recipient.publicKey, info: "age-encryption.org/v1/X25519", count: 32)
            let body = ChaChaPoly(key: wrapKey).seal(nonce: [UInt8](repeating: 0, count: 12), fileKey)
            text += Array("-> X25519 \(Base64NoPad.encode(share))\n".utf8)
            text += wrapped(body)
        }
        text += Array("---".utf8)
        let mac = AgeCrypto.hmac(key: macKey(fileKey), text)
        text += Array(" \(Base64NoPad.encode(mac))\n".utf8)
        return (text, fileKey)
    }

    /// A stanza body in lines of 64 columns, the last one shorter (empty when the body fills its lines).
    private static func wrapped(_ body: [UInt8]) -> [UInt8] {
        let encoded = Array(Base64NoPad.encode(body).utf8)
        var out: [UInt8] = []
        var i = 0
        repeat {
            let end = min(i + 64, encoded.count)
            out += encoded[i..<end] + [10]
            i += 64
        } while i <= encoded.count
        return out
    }

    static func macKey(_ fileKey: [UInt8]) -> [UInt8] {
        AgeCrypto.hkdf(key: fileKey, salt: [], info: "header", count: 32)
    }

    // MARK: Reading

    /// Parses the header at the start of `bytes` (which may go on into the payload). Throws a format error saying
    /// what is wrong and on which line.
    static func parse(_ bytes: [UInt8], location: String) throws -> AgeHeader {
        func fail(_ line: Int, _ message: String) -> ArchiveError {
            ArchiveError(.format, location, "age header, line \(line): \(message)")
        }
        guard bytes.starts(with: versionLine) else {
            throw ArchiveError(.format, location, "not an age v1 file (it does not begin with age-encryption.org/v1)")
        }
        var position = versionLine.count
        var lineNumber = 1
        /// The next line without its newline; a header ends before `maximumSize`.
        func nextLine() throws -> ArraySlice<UInt8> {
            lineNumber += 1
            guard let newline = bytes[position...].firstIndex(of: 10) else {
                throw bytes.count >= maximumSize
                    ? fail(lineNumber, "the header is longer than \(maximumSize) bytes; this is not an archive header")
                    : fail(lineNumber, "the file ends inside the header (truncated)")
            }
            let line = bytes[position..<newline]
            position = newline + 1
            return line
        }
        var stanzas: [Stanza] = []
        while true {
            let lineStart = position
            let line = try nextLine()
            if line.starts(with: Array("---".utf8)) {
                guard line.count == 47, line[line.startIndex + 3] == 32,
                      let mac = Base64NoPad.decode(line[(line.startIndex + 4)...]), mac.count == 32
                else { throw fail(lineNumber, "the MAC line is damaged") }
                return AgeHeader(stanzas: stanzas, macInput: Array(bytes[..<(lineStart + 3)]), mac: mac, length: position)
            }
            guard line.starts(with: Array("-> ".utf8)) else { throw fail(lineNumber, "expected a stanza (-> ...) or the MAC line (--- ...)") }
            let fields = line.dropFirst(3).split(separator: 32, omittingEmptySubsequences: false)
            guard !fields.isEmpty, fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (33...126).contains($0) } }) else {
                throw fail(lineNumber, "a stanza's type or arguments are empty or hold characters outside printable ASCII")
            }
            guard stanzas.count < maximumStanzas else { throw fail(lineNumber, "more than \(maximumStanzas) stanzas") }
            var body: [UInt8] = []
            while true {
                let bodyLine = try nextLine()
                guard bodyLine.count <= 64, let decoded = Base64NoPad.decode(bodyLine) else {
                    throw fail(lineNumber, "a stanza body line is not canonical base64 of at most 64 columns")
                }
                body += decoded
                if bodyLine.count < 64 { break }
            }
            let names = fields.map { String(decoding: $0, as: UTF8.self) }
            stanzas.append(Stanza(type: names[0], arguments: Array(names.dropFirst()), body: body))
        }
    }

    /// The file key, unwrapped from the first X25519 stanza one of `identities` opens, with the header's MAC checked.
    func fileKey(with identities: [AgeIdentity], location: String) throws -> [UInt8] {
        if stanzas.contains(where: { $0.type == "scrypt" }) {
            throw ArchiveError(.key, location, "is encrypted with a passphrase (age -p); MailFerry opens archives encrypted to an X25519 key (age -r)")
        }
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1, let share = Base64NoPad.decode(Array(stanza.arguments[0].utf8)), share.count == 32,
                  stanza.body.count == Self.fileKeySize + ChaChaPoly.tagSize
            else { throw ArchiveError(.format, location, "age header: a damaged X25519 stanza") }
            for identity in identities {
                guard let shared = AgeCrypto.x25519(secret: identity.secret, peer: share) else {
                    throw ArchiveError(.format, location, "age header: an X25519 stanza with a low-order share")
                }
                let wrapKey = AgeCrypto.hkdf(key: shared, salt: share + identity.recipient.publicKey, info: "age-encryption.org/v1/X25519", count: 32)
                guard let fileKey = ChaChaPoly(key: wrapKey).open(nonce: [UInt8](repeating: 0, count: 12), stanza.body) else { continue }
                guard AgeCrypto.constantTimeEqual(AgeCrypto.hmac(key: Self.macKey(fileKey), macInput), mac) else {
                    throw ArchiveError(.verification, location, "the age header has been altered (its MAC does not match): the file was changed after it was encrypted")
                }
                return fileKey
            }
        }
        let keys = Set(identities.map(\.origin)).sorted().joined(separator: ", ")
        throw ArchiveError(.verification, location, "none of the keys in \(keys) opens it: it was encrypted to other recipients (or its header was altered)")
    }
}
