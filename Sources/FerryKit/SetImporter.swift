import FerryArchive
import Foundation
import MailModel
import Reporting

/// `import` of a volume set (format-spec 13.1): the set is checked first (`VolumeSet`: the signed set statement, then
/// every volume given against it), and every volume's ledger check is made before anything is written. Then each
/// volume present is imported as a single archive is (each item committed only once checked); with volumes missing,
/// that is all, and `Result.set.missing` names them: the same import run again with the rest finishes the set (the
/// volumes already imported are read again, and the target recognises what it holds). Only with every volume there
/// does the reconcile run, volume by volume after all are imported (the items of the set's other volumes are extra in
/// each volume's report, which does not fail it), and only then does the ledger accept the set's volumes, for the users
/// that passed in every volume that holds them.
public struct SetImporter {
    public var paths: [String]
    /// Each volume is imported by this importer with the volume's path; its ledger checks and records the set.
    public var importer: Importer

    public init(paths: [String], importer: Importer) {
        self.paths = paths
        self.importer = importer
    }

    public struct Result {
        public var set: VolumeSet
        /// Each volume imported now, in the set's order, with its counts.
        public var imported: [(path: String, counts: ImportCounts)]
        /// Each volume's reconcile report, in the set's order; empty while volumes are missing.
        public var reports: [ReconcileReport]
        public var complete: Bool { self.set.missing.isEmpty }
    }

    public func run() throws -> Result {
        let key = try PublicKey(pemFile: importer.trustedKeyPath)
        let identities = try AgeKeyFile.identities(files: importer.identityPaths)
        let set = try VolumeSet.open(paths, trusting: key, identities: identities, requireAll: false)

        // Which users each volume holds, and the ledger's word on each, before anything is written.
        var volumes: [(path: String, header: ArchiveHeader, users: [String])] = []
        for path in set.present {
            let reader = try ArchiveReader(path: path, identities: identities)
            try reader.verifySignature(with: key)
            let manifest = try reader.loadManifest()
            volumes.append((path, manifest.header, manifest.users.map(\.address)))
        }
        let named = Set(importer.users.map { $0.lowercased() })
        func taken(_ users: [String]) -> [String] { named.isEmpty ? users : users.filter { named.contains($0.lowercased()) } }
        if let absent = importer.users.first(where: { name in !volumes.contains { $0.users.contains { $0.lowercased() == name.lowercased() } } }),
            set.missing.isEmpty
        {
            throw FerryError(.usage, "the volume set \(set.statement.setID) holds no user \(absent)")
        }
        // A target of one user takes one user of the set, named (each volume would check only its own users).
        let everyone = Set(volumes.flatMap(\.users))
        if importer.target.holdsOneUser, named.isEmpty, everyone.count > 1 {
            throw FerryError(
                .usage, "the volume set holds \(everyone.count) users (\(everyone.sorted().joined(separator: ", "))) but the target holds one: name it with --user")
        }
        if let ledger = importer.ledger {
            for volume in volumes {
                for user in taken(volume.users) { try ledger.check(volume.header, target: importer.target.ledgerName, user: user) }
            }
        }

        var imported: [(path: String, counts: ImportCounts)] = []
        var written: [(path: String, header: ArchiveHeader, import: Importer, written: Importer.Written)] = []
        for volume in volumes {
            let users = taken(volume.users)
            guard !users.isEmpty else { continue }
            var one = importer
            one.archivePath = volume.path
            one.importsVolume = true
            one.ledger = nil
            one.users = named.isEmpty ? [] : users
            let result = try one.importItems()
            imported.append((volume.path, result.counts))
            written.append((volume.path, volume.header, one, result))
        }
        guard set.missing.isEmpty else { return Result(set: set, imported: imported, reports: []) }

        var reports: [ReconcileReport] = []
        for volume in written {
            let report = try volume.import.reconcileAndRecord(
                volume.written.manifest, selected: volume.written.selected, counts: volume.written.counts,
                ledgerTarget: importer.target.ledgerName)
            reports.append(report)
        }
        if let ledger = importer.ledger {
            let failed = Set(reports.flatMap { $0.users.filter { $0.verdict != .pass }.map(\.address) })
            for (volume, report) in zip(written, reports) {
                let passed = report.users.map(\.address).filter { !failed.contains($0) }
                if !passed.isEmpty { try ledger.accept(volume.header, target: importer.target.ledgerName, users: passed) }
            }
        }
        return Result(set: set, imported: imported, reports: reports)
    }
}
