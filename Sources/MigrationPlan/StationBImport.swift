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

    /// An archive given, or a volume set (its statement, or a folder holding it): what orders the chain.
    public struct ChainEntry: Sendable {
        public var path: String
        /// The archive's id; a set's id for a set.
        public var archiveID: String
        public var deltaOf: String?
        public var sequence: Int
        /// A volume set: its volumes' archive ids (the ledger records each).
        public var volumes: [String]?
    }

    /// The archives in chain order: a delta after the archive it builds on; otherwise by sequence, then as given. A
    /// volume set (its statement or its folder) is one link, with its volumes' `deltaOf` and `sequence`.
    public func ordered() throws -> [ChainEntry] {
        let key = try PublicKey(pemFile: trustedKeyPath)
        let identities = try AgeKeyFile.identities(files: identityPaths)
        var entries: [ChainEntry] = []
        for path in archives {
            if VolumeSet.names([path]) {
                let set = try VolumeSet.open([path], trusting: key, identities: identities, requireAll: false)
                guard let first = set.present.first else {
                    throw FerryError(.usage, "\(set.statementPath): none of the volumes of set \(set.statement.setID) is beside it")
                }
                let reader = try ArchiveReader(path: first, identities: identities)
                try reader.verifySignature(with: key)
                let header = try reader.loadManifest().header
                entries.append(ChainEntry(
                    path: path, archiveID: set.statement.setID, deltaOf: header.deltaOf, sequence: header.sequence,
                    volumes: set.statement.volumes.map(\.archiveID)))
                continue
            }
            let reader = try ArchiveReader(path: path, identities: identities)
            try reader.verifySignature(with: key)
            let header = try reader.loadManifest().header
            entries.append(ChainEntry(path: path, archiveID: header.archiveID, deltaOf: header.deltaOf, sequence: header.sequence))
        }
        var ordered: [ChainEntry] = []
        var left = entries.enumerated().sorted { ($0.element.sequence, $0.offset) < ($1.element.sequence, $1.offset) }.map(\.element)
        while !left.isEmpty {
            // The first whose base is not among those still to come.
            let index = left.firstIndex { h in !left.contains { $0.archiveID == h.deltaOf } } ?? 0
            ordered.append(left.remove(at: index))
        }
        return ordered
    }

    /// Imports (or reconciles again) every archive; returns the reports, in the order the archives were applied. A
    /// volume set is imported by `SetImporter`: one report and one receipt per user for the whole set, once every
    /// volume is there (with volumes missing, those there are imported and the run stops, naming the others).
    public func run(_ say: (String) -> Void) throws -> [ReconcileReport] {
        let ledger = try ImportLedger(directory: options.journalDirectory)
        var reports: [ReconcileReport] = []
        let chain = try ordered()
        let identities = try AgeKeyFile.identities(files: identityPaths)
        for link in chain {
            let path = link.path
            // Users of the archive (of every volume of a set), and whether the ledger accepted it for each already.
            let parts: [(archiveID: String, users: [String])]
            if link.volumes != nil {
                let set = try VolumeSet.open([path], trusting: PublicKey(pemFile: trustedKeyPath), identities: identities, requireAll: false)
                parts = try set.present.map { volume in
                    let reader = try ArchiveReader(path: volume, identities: identities)
                    try reader.verifySignature(with: PublicKey(pemFile: trustedKeyPath))
                    let manifest = try reader.loadManifest()
                    return (manifest.header.archiveID, manifest.users.map(\.address))
                } + set.missing.map { ($0.archiveID, []) }
            } else {
                let reader = try ArchiveReader(path: path, identities: identities)
                try reader.verifySignature(with: PublicKey(pemFile: trustedKeyPath))
                parts = [(link.archiveID, try reader.loadManifest().users.map(\.address))]
            }
            // A set is done only whole: a volume not here (no users read) is not.
            let done = parts.allSatisfy { part in
                part.users.allSatisfy { user in
                    ledger.accepted.contains { $0.archiveID == part.archiveID && $0.target == target.ledgerName && $0.user == user }
                }
            } && (link.volumes == nil || parts.allSatisfy { !$0.users.isEmpty })
            let superseded = chain.contains { $0.deltaOf == link.archiveID }
                || ledger.accepted.contains { $0.deltaOf == link.archiveID && $0.target == target.ledgerName }
            if done && superseded {
                // A later delta moved the target on; reconciling this one again would only show the differences.
                say("\(path): already imported into \(target), and a later archive builds on it; skipped")
                continue
            }
            let report: ReconcileReport
            if link.volumes != nil {
                var importer = Importer(
                    archivePath: path, trustedKeyPath: trustedKeyPath, target: target, users: [], quiet: quiet, options: options)
                importer.identityPaths = identityPaths
                // A set imported already is imported again without the ledger (which would refuse it as a replay): what
                // the target holds is not written again, and the reconcile and its receipts are made anew.
                importer.ledger = done ? nil : ledger
                if done { say("\(path): already imported into \(target); reconciling again") }
                let result = try SetImporter(paths: [path], importer: importer).run()
                guard let whole = result.report else {
                    throw FerryError(
                        .usage,
                        "\(result.set.statementPath): the volumes here are imported; set \(result.set.statement.setID) still lacks "
                            + result.set.missing.map { "volume \($0.number) (\($0.file), archive \($0.archiveID))" }.joined(separator: ", ")
                            + ". Its receipts are written once every volume is imported: run the same command again with them")
                }
                report = whole
            } else if done {
                say("\(path): already imported into \(target); reconciling again")
                var reconcile = ReconcileCommand(archivePath: path, trustedKeyPath: trustedKeyPath, target: target, users: [], options: options)
                reconcile.identityPaths = identityPaths
                var again = try reconcile.run()
                // Keep what the import itself did (written, rewritten, refused) from the report of the first run.
                let earlier = receiptsDirectory + "/" + link.archiveID + ".report.json"
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
