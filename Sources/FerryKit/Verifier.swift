import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

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

/// What `verify` of a volume set found: the set and each volume's verification, in the set's order.
public struct SetVerificationResult: Sendable {
    public var set: VolumeSet
    public var volumes: [VerificationResult]
    public var entries: Int { volumes.reduce(0) { $0 + $1.entries } }
    public var bytes: Int64 { volumes.reduce(0) { $0 + $1.bytes } }
}

extension Verifier {
    /// `verify` of a volume set (`paths`: volumes in any order, the set statement, or folders holding them): the set
    /// first (`VolumeSet`: every volume there, each the one the signed set statement names), then every volume as a
    /// single archive is verified.
    public static func verifySet(
        _ paths: [String], trustedKeyPath: String, quiet: Bool, identityPaths: [String] = []
    ) throws -> SetVerificationResult {
        let key = try PublicKey(pemFile: trustedKeyPath)
        let identities = try AgeKeyFile.identities(files: identityPaths)
        let set = try VolumeSet.open(paths, trusting: key, identities: identities, requireAll: true)
        var results: [VerificationResult] = []
        for path in set.present {
            let progress = ProgressReporter(label: "verify \(SystemCall.lastComponent(of: path))", quiet: quiet)
            results.append(
                try ArchiveVerifier.verify(
                    path: path, trust: key, identities: identities, started: { progress.setTotal(items: $0, bytes: $1) },
                    progress: { progress.update(items: $0, bytes: $1) }))
            progress.finish()
        }
        return SetVerificationResult(set: set, volumes: results)
    }
}
