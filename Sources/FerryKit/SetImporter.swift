import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// `import` of a volume set (format-spec 13.1): the set is checked first (`VolumeSet`: the signed set statement, then
/// every volume given against it), and every volume's ledger check is made before anything is written. Then each
/// volume present is imported as a single archive is (each item committed only once checked); with volumes missing,
/// that is all, and `Result.set.missing` names them: the same import run again with the rest finishes the set (the
/// volumes already imported are read again, and the target recognises what it holds). Only with every volume there
/// does the reconcile run, once for the whole set (`Reconciler` over every volume: each user against all that the
/// volumes hold of it), so one report, and one receipt per user, covers the set; only then does the ledger accept the
/// set's volumes, for the users that passed.
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
        /// The reconcile of the whole set (one per user, over every volume that holds it, with `volumes` set); nil
        /// while volumes are missing.
        public var report: ReconcileReport?
        public var complete: Bool { self.set.missing.isEmpty }
    }

    public func run() throws -> Result {
        let key = try PublicKey(pemFile: importer.trustedKeyPath)
        let identities = try AgeKeyFile.identities(files: importer.identityPaths)
        let set = try VolumeSet.open(paths, trusting: key, identities: identities, requireAll: false)

        // Which users each volume holds, and the ledger's word on each, before anything is written.
        var volumes: [(path: String, header: ArchiveHeader, users: [String])] = []
        var renames: [String: [(from: [String], to: [String])]] = [:]
        for path in set.present {
            let reader = try ArchiveReader(path: path, identities: identities)
            try reader.verifySignature(with: key)
            let manifest = try reader.loadManifest()
            volumes.append((path, manifest.header, manifest.users.map(\.address)))
            for user in manifest.users where manifest.folderRenames(of: user.user) > 0 {
                let changes = manifest.changes(of: user.user)
                while let c = try changes.next() {
                    if c.op == .renameFolder, let from = c.from, let to = c.to { renames[user.address.lowercased(), default: []].append((from, to)) }
                }
            }
        }
        // A delta's change lines (moves, deletions, folder renames) span its volumes as its items do: a delta set is
        // applied only whole, volume by volume in order, the set's folder renames first.
        if volumes.contains(where: { $0.header.deltaOf != nil }), !set.missing.isEmpty {
            throw FerryError(
                .usage,
                "\(set.statementPath): set \(set.statement.setID) is a delta (of archive \(volumes.first { $0.header.deltaOf != nil }!.header.deltaOf!)), "
                    + "which is applied only whole, and it lacks "
                    + set.missing.map { "volume \($0.number) (\($0.file), archive \($0.archiveID))" }.joined(separator: ", ")
                    + "; nothing was written. Run the same import with every volume")
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
        var written: [(path: String, header: ArchiveHeader, written: Importer.Written)] = []
        for volume in volumes {
            let users = taken(volume.users)
            guard !users.isEmpty else { continue }
            var one = importer
            one.archivePath = volume.path
            one.importsVolume = true
            one.ledger = nil
            one.users = named.isEmpty ? [] : users
            one.setRenames = renames
            let result = try one.importItems()
            imported.append((volume.path, result.counts))
            written.append((volume.path, volume.header, result))
        }
        guard set.missing.isEmpty else { return Result(set: set, imported: imported, report: nil) }

        // One reconcile of the whole set: each user against everything every volume holds of it.
        var parts: [Reconciler.Part] = []
        var counts = ImportCounts()
        for volume in written {
            let prefix = SystemCall.lastComponent(of: volume.path) + ":"
            var part = Reconciler.Part(manifest: volume.written.manifest, users: volume.written.selected, prefix: prefix)
            let c = volume.written.counts
            part.refused = Set(c.badItems.map(\.entry))
            part.rewritten = c.rewrittenItems
            part.converted = c.convertedItems
            part.placements = c.placements
            parts.append(part)
            try counts.add(c.naming(prefix: prefix))
            counts.seconds += c.seconds
        }
        let reconciler = Reconciler(
            parts: parts, archivePath: set.statementPath, target: importer.target, options: importer.options,
            identity: .init(
                archiveID: set.statement.setID, manifestSHA256: set.statementSHA256, signerKeyID: set.statement.signerKeyID,
                volumes: set.statement.volumes.map(\.archiveID)))
        let signer = written.contains { $0.header.deltaOf != nil } ? set.statement.signerKeyID : nil
        var report = try importer.reconcile(reconciler, delta: signer, counts: counts)
        if importer.makesIdentityMaps {
            // One map per user over every volume, its entries named as in the report.
            FreeMemory.returnToSystem()
            report.identityMaps = try IdentityMapWriter(
                parts: zip(written, parts).map { volume, part in
                    IdentityMapWriter.Part(
                        manifest: volume.written.manifest, counts: volume.written.counts, users: volume.written.selected, prefix: part.prefix)
                },
                prefix: importer.identityMapPrefix, rowLimit: ReportPage.defaultRowLimit
            ).write()
        }
        if let ledger = importer.ledger {
            let passed = Set(report.users.filter { $0.verdict == .pass }.map { $0.address.lowercased() })
            for volume in written {
                let users = volume.written.manifest.users.filter { volume.written.selected.contains($0.user) && passed.contains($0.address.lowercased()) }
                if !users.isEmpty { try ledger.accept(volume.header, target: importer.target.ledgerName, users: users.map(\.address)) }
            }
        }
        return Result(set: set, imported: imported, report: report)
    }
}
