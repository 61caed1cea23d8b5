import Connectors
import FerryArchive
import FerryKit
import Foundation
import MailModel
import Receipts
import Reporting
import SystemLayer

/// Station B's side of a plan: imports the archives that came (in the order they build on one another, whatever
/// order they are named in), reconciles, and writes per user a signed receipt and, per archive, the reconcile
/// report beside them, in the folder carried back to station A. An archive the ledger already lists as imported
/// into this target (a second run after a crash) is reconciled again instead, so its receipts are written anyway.
public struct StationBImport {
    public var archives: [String]
    public var target: ConnectorSet
    public var trustedKeyPath: String
    /// Age identity files that open encrypted archives.
    public var identityPaths: [String] = []
    public var receipts: ReceiptWriter
    public var receiptsDirectory: String
    public var options: ConnectorOptions
    public var jobs: Int
    public var quiet: Bool

    public init(
        archives: [String], target: ConnectorSet, trustedKeyPath: String, receipts: ReceiptWriter, receiptsDirectory: String,
        options: ConnectorOptions, jobs: Int, quiet: Bool
    ) {
        self.archives = archives
        self.target = target
        self.trustedKeyPath = trustedKeyPath
        self.receipts = receipts
        self.receiptsDirectory = receiptsDirectory
        self.options = options
        self.jobs = jobs
        self.quiet = quiet
    }

    /// The archives in chain order: a delta after the archive it builds on; otherwise by sequence, then as given.
    public func ordered() throws -> [(path: String, header: ArchiveHeader)] {
        let key = try PublicKey(pemFile: trustedKeyPath)
        let identities = try AgeKeyFile.identities(files: identityPaths)
        var headers: [(path: String, header: ArchiveHeader)] = []
        for path in archives {
            let reader = try ArchiveReader(path: path, identities: identities)
            try reader.verifySignature(with: key)
            headers.append((path, try reader.loadManifest().header))
        }
        var ordered: [(path: String, header: ArchiveHeader)] = []
        var left = headers.enumerated().sorted { ($0.element.header.sequence, $0.offset) < ($1.element.header.sequence, $1.offset) }.map(\.element)
        while !left.isEmpty {
            // The first whose base is not among those still to come.
            let index = left.firstIndex { h in !left.contains { $0.header.archiveID == h.header.deltaOf } } ?? 0
            ordered.append(left.remove(at: index))
        }
        return ordered
    }

    /// Imports (or reconciles again) every archive; returns the reports, in the order the archives were applied.
    public func run(_ say: (String) -> Void) throws -> [ReconcileReport] {
        let ledger = try ImportLedger(directory: options.journalDirectory)
        var reports: [ReconcileReport] = []
        let chain = try ordered()
        let identities = try AgeKeyFile.identities(files: identityPaths)
        for (path, header) in chain {
            let reader = try ArchiveReader(path: path, identities: identities)
            try reader.verifySignature(with: PublicKey(pemFile: trustedKeyPath))
            let users = try reader.loadManifest().users.map(\.address)
            let done = users.allSatisfy { user in
                ledger.accepted.contains { $0.archiveID == header.archiveID && $0.target == target.ledgerName && $0.user == user }
            }
            let superseded = chain.contains { $0.header.deltaOf == header.archiveID }
                || ledger.accepted.contains { $0.deltaOf == header.archiveID && $0.target == target.ledgerName }
            if done && superseded {
                // A later delta moved the target on; reconciling this one again would only show the differences.
                say("\(path): already imported into \(target), and a later archive builds on it; skipped")
                continue
            }
            let report: ReconcileReport
            if done {
                say("\(path): already imported into \(target); reconciling again")
                var reconcile = ReconcileCommand(archivePath: path, trustedKeyPath: trustedKeyPath, target: target, users: [], options: options)
                reconcile.identityPaths = identityPaths
                var again = try reconcile.run()
                // Keep what the import itself did (written, rewritten, refused) from the report of the first run.
                let earlier = receiptsDirectory + "/" + header.archiveID + ".report.json"
                if let data = FileManager.default.contents(atPath: earlier),
                    let first = try? JSONDecoder().decode(ReconcileReport.self, from: data)
                {
                    again.imported = first.imported
                }
                report = again
            } else {
                var importer = Importer(
                    archivePath: path, trustedKeyPath: trustedKeyPath, target: target, users: [], quiet: quiet, options: options,
                    jobs: jobs)
                importer.ledger = ledger
                importer.identityPaths = identityPaths
                report = try importer.run()
            }
            try receipts.write(report)
            try FerryError.io { try AtomicReplace.write(try Self.json(report), to: receiptsDirectory + "/" + report.archiveID + ".report.json", mode: 0o644) }
            reports.append(report)
        }
        return reports
    }

    static func json(_ report: ReconcileReport) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(report)) + [10]
    }
}
