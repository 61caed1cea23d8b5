import FerryArchive
import Foundation
import MailModel
import Reporting

/// `verify` as the command line runs it.
public struct Verifier {
    public var archivePath: String
    public var trustedKeyPath: String
    public var quiet: Bool
    /// Age identity files that open an encrypted archive.
    public var identityPaths: [String]
    public init(archivePath: String, trustedKeyPath: String, quiet: Bool, identityPaths: [String] = []) {
        self.archivePath = archivePath
        self.identityPaths = identityPaths
        self.trustedKeyPath = trustedKeyPath
        self.quiet = quiet
    }

    public func run() throws -> VerificationResult {
        let key = try PublicKey(pemFile: trustedKeyPath)
        let progress = ProgressReporter(label: "verify", quiet: quiet)
        let result = try ArchiveVerifier.verify(
            path: archivePath, trust: key, identities: AgeKeyFile.identities(files: identityPaths), started: { progress.setTotal(items: $0, bytes: $1) },
            progress: { progress.update(items: $0, bytes: $1) })
        progress.finish()
        return result
    }
}
