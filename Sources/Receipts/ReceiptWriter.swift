import FerryArchive
import Foundation
import MailModel
import Reporting

/// Writes one signed receipt per user of a reconcile report into a directory (`import`/`reconcile --receipt`).
/// Failing users get a receipt too (verdict fail), so the operator sees why; the buffer refuses to release on it.
public final class ReceiptWriter {
    public let directory: String
    let key: SigningKey

    /// Reads the signing key and creates the directory, so that both are checked before any import work starts.
    public init(directory: String, signingKeyPath: String) throws {
        self.directory = directory
        key = try SigningKey(pemFile: signingKeyPath)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FerryError(.ioError, "\(directory): cannot create the receipt directory: \(error.localizedDescription)")
        }
    }

    /// The key id of the key that signs the receipts.
    public func signerKeyID() throws -> String { try key.publicKey.keyID }

    /// Returns the paths written, one per user of the report.
    @discardableResult
    public func write(_ report: ReconcileReport, created: Date = Date()) throws -> [String] {
        let signer = try key.publicKey.keyID
        return try Receipt.receipts(for: report, signerKeyID: signer, created: created).map {
            try $0.write(to: directory, key: key)
        }
    }
}
