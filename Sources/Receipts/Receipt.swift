import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// What station B signs for one user once the target was reconciled against an archive: the archive (id, manifest
/// hash, its signer), the user, the target, the verdict and the counts. The buffer releases held mail for a user
/// only against a passing receipt signed by a key it trusts. See format-spec/receipt.md.
///
/// On disk a receipt is two files side by side: `<address>.receipt.json` (the signed bytes, exactly) and
/// `<address>.receipt.json.sig` (64 raw bytes, Ed25519 over the whole JSON file), so
/// `openssl pkeyutl -verify -pubin -inkey B.pub.pem -rawin -in R.json -sigfile R.json.sig` checks it.
public struct Receipt: Codable, Sendable, Equatable {
    public static let formatName = "mailferry-receipt"
    public static let currentVersion = 1
    /// Receipts are small; anything larger is not one.
    public static let maximumSize = 1 << 20
    public static let fileSuffix = ".receipt.json"
    public static let signatureSuffix = ".sig"

    public var format = Receipt.formatName
    public var version = Receipt.currentVersion
    /// The archive the target was reconciled against.
    public var archiveID: String
    /// SHA-256 of the archive's manifest, from its signed statement.
    public var manifestSHA256: String
    /// Key id of station A's key, which signed the archive.
    public var archiveSignerKeyID: String
    /// The user's address as the archive names it.
    public var user: String
    /// The target URL that was reconciled (`dir:PATH`, `maildir:PATH`).
    public var target: String
    public var verdict: ReconcileReport.Verdict
    public var counts: ReceiptCounts
    /// What the reconcile found wrong for this user (empty when the verdict is pass).
    public var problems: [String]
    /// ISO 8601 UTC, when the receipt was made.
    public var created: String
    /// Key id of the key that signs this receipt (station B).
    public var signerKeyID: String
    /// For a volume set reconciled whole: its volumes' archive ids, in order (`archiveID` is then the set's id,
    /// `manifestSHA256` the SHA-256 of its signed set statement line). Absent for one archive.
    public var volumes: [String]?

    public init(
        archiveID: String, manifestSHA256: String, archiveSignerKeyID: String, user: String, target: String,
        verdict: ReconcileReport.Verdict, counts: ReceiptCounts, problems: [String], created: String,
        signerKeyID: String, volumes: [String]? = nil
    ) {
        self.archiveID = archiveID
        self.manifestSHA256 = manifestSHA256
        self.archiveSignerKeyID = archiveSignerKeyID
        self.user = user
        self.target = target
        self.verdict = verdict
        self.counts = counts
        self.problems = problems
        self.created = created
        self.signerKeyID = signerKeyID
        self.volumes = volumes
    }

    /// One receipt per user of a reconcile report.
    public static func receipts(for report: ReconcileReport, signerKeyID: String, created: Date = Date()) -> [Receipt] {
        let stamp = ISO8601DateFormatter().string(from: created)
        return report.users.map { user in
            var problems = user.problems
            for c in user.containers {
                if !c.missing.isEmpty { problems.append("\(c.kind) \(c.name): \(c.missing.count) missing at the target") }
                if !c.mismatched.isEmpty {
                    problems.append("\(c.kind) \(c.name): \(c.mismatched.count) different at the target")
                }
                for p in c.folderProperties ?? [] where p.outcome == .different {
                    problems.append("\(c.kind) \(c.name): \(p.description)")
                }
            }
            return Receipt(
                archiveID: report.archiveID, manifestSHA256: report.manifestSHA256,
                archiveSignerKeyID: report.signerKeyID, user: user.address, target: report.target,
                verdict: user.verdict, counts: ReceiptCounts(user), problems: problems, created: stamp,
                signerKeyID: signerKeyID, volumes: report.volumes)
        }
    }

    /// The exact bytes that are signed and stored: sorted keys, readable, one final newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }

    /// The file name a receipt for `address` has inside a receipt directory. Refuses addresses that cannot be a
    /// single file name.
    public static func fileName(for address: String) throws -> String {
        guard !address.isEmpty, !address.hasPrefix("."), !address.contains("/"), !address.contains("\0"),
              address.utf8.count <= 200
        else { throw ReceiptError(.malformed, path: address, "the address cannot name a receipt file") }
        return address + fileSuffix
    }

    /// Signs this receipt and writes `<directory>/<user>.receipt.json` and its `.sig`, each atomically (the
    /// directory is created if missing). The
    /// signature is written first, so a reader never sees new JSON beside no signature; a crash between the two
    /// leaves a pair that does not verify, which readers refuse (run the command again). Returns the JSON path.
    @discardableResult
    public func write(to directory: String, key: SigningKey) throws -> String {
        let bytes = try encoded()
        let signature = try key.sign(bytes)
        let path = directory + "/" + (try Receipt.fileName(for: user))
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FerryError(.ioError, "\(directory): cannot create the receipt directory: \(error.localizedDescription)")
        }
        try FerryError.io {
            try AtomicReplace.write(signature, to: path + Receipt.signatureSuffix, mode: 0o644)
            try AtomicReplace.write(bytes, to: path, mode: 0o644)
        }
        return path
    }

    /// Reads a receipt (`path` is the JSON file; its signature is `path + ".sig"`), checks its format and, when
    /// `trust` is given, that the signature is station B's over exactly these bytes. Without `trust` the signature
    /// is not looked at: callers that act on a receipt must pass a key.
    public static func load(_ path: String, trust: PublicKey?) throws -> Receipt {
        let bytes = try readSmallFile(path, what: "receipt", missing: .missing)
        if let trust {
            let signaturePath = path + signatureSuffix
            let signature = try readSmallFile(signaturePath, what: "signature", missing: .unsigned)
            guard signature.count == 64 else {
                throw ReceiptError(.badSignature, path: signaturePath, "is \(signature.count) bytes, not a 64-byte Ed25519 signature")
            }
            guard trust.isValidSignature(signature, for: bytes) else {
                throw ReceiptError(
                    .badSignature, path: path,
                    "the signature \(signaturePath) does not verify with the trusted key \(trust.keyID): the receipt was altered or signed by another key")
            }
        }
        let receipt: Receipt
        do {
            receipt = try JSONDecoder().decode(Receipt.self, from: Data(bytes))
        } catch {
            throw ReceiptError(.malformed, path: path, "is not a MailFerry receipt (\(describe(error)))")
        }
        guard receipt.format == formatName else {
            throw ReceiptError(.malformed, path: path, "format is \(String(reflecting: receipt.format)), not \"\(formatName)\"")
        }
        guard receipt.version == currentVersion else {
            throw ReceiptError(.malformed, path: path, "version \(receipt.version) is not supported (this program reads version \(currentVersion))")
        }
        guard Hex.isLowerHex(receipt.manifestSHA256, length: 64) else {
            throw ReceiptError(.malformed, path: path, "manifestSHA256 is not 64 lowercase hex digits")
        }
        if let trust, receipt.signerKeyID != trust.keyID {
            throw ReceiptError(.badSignature, path: path, "names signer \(receipt.signerKeyID) but the trusted key is \(trust.keyID)")
        }
        return receipt
    }

    /// Throws unless this receipt lets held mail for `user` go to its target: the verdict is pass, the user is the
    /// same (case-insensitively), and, when `archiveID` is given, the archive is the same.
    public func authorizesRelease(user other: String, archiveID expected: String?, path: String) throws {
        guard user.lowercased() == other.lowercased() else {
            throw ReceiptError(.wrongUser, path: path, "is for \(user), not \(other)")
        }
        if let expected, expected != archiveID {
            throw ReceiptError(.wrongArchive, path: path, "is for archive \(archiveID), but \(other)'s migration uses archive \(expected)")
        }
        guard verdict == .pass else {
            let why = problems.isEmpty ? "" : ": " + problems.prefix(3).joined(separator: "; ")
            throw ReceiptError(.failingVerdict, path: path, "says the target does NOT hold everything archive \(archiveID) held for \(user) (verdict fail\(why)); import again and reconcile")
        }
    }

    private static func readSmallFile(_ path: String, what: String, missing: ReceiptError.Reason) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReceiptError(missing, path: path, missing == .unsigned ? "is missing: the receipt is unsigned" : "does not exist")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReceiptError(.unreadable, path: path, "cannot be opened")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            throw ReceiptError(.unreadable, path: path, "cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maximumSize else { throw ReceiptError(.malformed, path: path, "is too large to be a \(what)") }
        return Array(data)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not JSON" : "bad value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}
