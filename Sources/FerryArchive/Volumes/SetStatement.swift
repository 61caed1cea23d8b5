import Foundation
import MailModel
import SystemLayer

/// The signed set statement of a volume set (format-spec section 13.1): which volumes make the set, each by its number,
/// file name, archive id, file size and the SHA-256 of its own signed statement. It is the file `NAME.set`: the
/// statement as one JSON line, then the Ed25519 signature over that line (newline included) in hex, then a newline.
public struct SetStatement: Codable, Sendable, Hashable {
    public var format: String
    public var version: Int
    /// Random, 32 hex digits; every volume's statement names it (`VolumeMembership.set`).
    public var setID: String
    public var created: String
    public var station: String
    public var signerKeyID: String
    public var volumes: [Volume]

    public struct Volume: Codable, Sendable, Hashable {
        public var number: Int
        /// The volume's file name as written (`NAME.001.mfa`, `NAME.001.mfa.age`).
        public var file: String
        public var archiveID: String
        /// The file's size in bytes (encrypted size for an encrypted volume).
        public var size: Int64
        /// SHA-256 of the volume's signed statement bytes, which bind its manifest and through it every item.
        public var statementSHA256: String
    }

    public static let formatName = "mailferry-set"
    public static let currentVersion = 1
    /// A set statement is a line per volume of about 200 bytes; one larger than this is not ours.
    static let maximumSize = 4 << 20

    /// The file's bytes: the statement line and its signature by `key`.
    func signed(with key: SigningKey) throws -> [UInt8] {
        let line = try ManifestCoding.line(self, with: ManifestCoding.encoder())
        return line + Array(Hex.encode(try key.sign(line)).utf8) + [0x0A]
    }

    /// Reads `path`, checks the signature with `key` before anything in it is believed, then the statement's form.
    /// Without a key (`inspect` without `--trust`, which says so) the signature is not checked.
    public static func read(_ path: String, trusting key: PublicKey?) throws -> SetStatement {
        try readSigned(path, trusting: key).statement
    }

    /// `read`, with the signed line's exact bytes (newline included), which a receipt for the whole set names by hash.
    public static func readSigned(_ path: String, trusting key: PublicKey?) throws -> (statement: SetStatement, signedLine: [UInt8]) {
        let bytes: [UInt8]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard data.count <= maximumSize else { throw ArchiveError(.format, path, "is \(data.count) bytes; a set statement is small") }
            bytes = [UInt8](data)
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError(.io, path, "cannot be read: \(error.localizedDescription)")
        }
        guard let newline = bytes.firstIndex(of: 0x0A), bytes.count == newline + 1 + 128 + 1, bytes.last == 0x0A,
              let signature = Self.hexBytes(bytes[(newline + 1)..<(bytes.count - 1)])
        else {
            throw ArchiveError(.format, path, "is not a set statement (a JSON line, then a 128-digit hex signature line)")
        }
        let line = Array(bytes[...newline])
        if let key, !key.isValidSignature(signature, for: line) {
            throw ArchiveError(.verification, path, "the set statement's signature does not match under the trusted key \(key.keyID) (signed by another key, or altered)")
        }
        let statement: SetStatement
        do {
            statement = try JSONDecoder().decode(SetStatement.self, from: Data(line))
        } catch {
            throw ArchiveError(.format, path, "is not a valid set statement: \(error)")
        }
        guard statement.format == formatName else { throw ArchiveError(.format, path, "not a MailFerry set statement (format \(String(reflecting: statement.format)))") }
        guard statement.version == currentVersion else {
            throw ArchiveError(.format, path, "set statement version \(statement.version) is not supported by this MailFerry (it reads version \(currentVersion)); use a newer MailFerry")
        }
        if let key, statement.signerKeyID != key.keyID {
            throw ArchiveError(.verification, path, "the set statement names signer \(statement.signerKeyID) but the trusted key is \(key.keyID)")
        }
        guard Hex.isLowerHex(statement.setID, length: 32), !statement.volumes.isEmpty,
              statement.volumes.enumerated().allSatisfy({ i, v in
                  v.number == i + 1 && Hex.isLowerHex(v.archiveID, length: 32) && Hex.isLowerHex(v.statementSHA256, length: 64) && v.size > 0
                      && !v.file.isEmpty && !v.file.contains("/")
              }),
              Set(statement.volumes.map(\.archiveID)).count == statement.volumes.count
        else {
            throw ArchiveError(.format, path, "the set statement's volumes are not numbered 1 to N with distinct archive ids, hashes and plain file names")
        }
        return (statement, line)
    }

    private static func hexBytes(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            default: nil
            }
        }
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            guard let high = value(text[i]), let low = value(text[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
