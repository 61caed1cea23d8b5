import Connectors
import FerryArchive
import MailModel
import Reporting

/// Imports a delta archive, user by user: folder renames first, then the folders the delta lists, the new
/// items through the same checked write path as a full import, then the `keep` lines (moves, flags), the
/// deletions and the folder deletions. Every step is idempotent, so an interrupted import run again finishes.
struct DeltaImport {
    let manifest: VerifiedManifest
    let archive: VerifiedArchive
    let selected: Set<Int>
    let mailboxes: any MailboxTarget
    let target: ConnectorSet
    let progress: ProgressReporter
    /// The archive's user mapping (renamed users' target addresses).
    let mapping: UserMapping
    /// Archived SHA-256 to the one held at this target, for items earlier imports recorded in another form.
    var heldForms: [String: String] = [:]
    /// For a volume of a delta set: the folder renames of the whole set, by lower-cased address. A user's renames are in
    /// the volume where the user ends, but its earlier volumes already declare the new names; applied first, as one
    /// archive's are. Renaming is idempotent, so the volume's own renames, applied again, change nothing.
    var setRenames: [String: [(from: [String], to: [String])]] = [:]

    /// The change lines of one user (read from where they begin; decoded once for both passes over them, since the
    /// manifest keeps the user's decoded lines: `KeptChanges`).
    private func changes(of user: Int, _ body: (ChangeRecord) throws -> Void) throws {
        let iterator = manifest.changes(of: user)
        while let c = try iterator.next() { try body(c) }
    }

    private struct Open {
        var unit: UserImport
        var delta: any DeltaTarget
        var user: UserRecord { unit.record }
    }

    /// Opens a user: folder renames first, then every container the delta lists.
    private func open(_ user: UserRecord, _ applied: inout DeltaImportCounts) throws -> Open {
        let userTarget = try mailboxes.open(user: UserInfo(address: user.targetMailbox))
        guard let delta = userTarget as? any DeltaTarget else {
            throw FerryError(.usage, "\(target) cannot apply a delta archive (no moves, flag changes or deletions there)")
        }
        delta.beginDelta()
        var renamed = 0
        for r in setRenames[user.address.lowercased()] ?? [] where try delta.renameFolder(from: r.from, to: r.to) { renamed += 1 }
        // Read for renames only when the user has some (the pass after them then finds the lines decoded).
        if manifest.folderRenames(of: user.user) > 0 {
            try changes(of: user.user) { c in
                if c.op == .renameFolder, let from = c.from, let to = c.to, try delta.renameFolder(from: from, to: to) { renamed += 1 }
            }
        }
        applied.renamedFolders += renamed
        return Open(unit: try UserImport(user, at: userTarget, manifest: manifest, mapping: mapping), delta: delta)
    }

    /// After a user's new items: the keep lines, the deletions, the folder deletions; then durability.
    private func close(_ o: Open, _ applied: inout DeltaImportCounts, _ counts: inout ImportCounts) throws {
        var folderDeletions: [[String]] = []
        var result = applied
        try changes(of: o.user.user) { c in
            switch c.op {
            case .keep:
                guard c.kind == .message, let info = c.message, let key = c.itemKey, let folder = c.container,
                    let number = o.unit.containers[Importer.ContainerKey(kind: .folder, number: folder)]
                else { return }
                switch try o.delta.updateMessage(key: key, info: info, inFolder: number) {
                case .changed: result.movedOrFlagged += 1
                case .unchanged: result.unchanged += 1
                case .notFound: result.notFound += 1
                }
            case .delete:
                if let key = c.itemKey, let kind = c.kind,
                    try o.delta.deleteItem(key: key, kind: kind, sourceKey: c.sourceKey, heldSHA256: heldForms[key.sha256])
                {
                    result.deleted += 1
                }
            case .deleteFolder:
                if let folder = c.folder { folderDeletions.append(folder) }
            case .renameFolder:
                break
            }
        }
        // Deepest first, so a folder goes before its parent.
        for folder in folderDeletions.sorted(by: { $0.count > $1.count }) where try o.delta.deleteFolder(folder) {
            result.deletedFolders += 1
        }
        applied = result
        try counts.add(try o.unit.finish())
    }

    /// One user at a time (one target connection, one user's state in memory) while the whole archive streams and
    /// is checked entry by entry; entries come in user order.
    func run(into counts: inout ImportCounts) throws {
        var applied = DeltaImportCounts()
        var waiting = manifest.users.filter { selected.contains($0.user) }[...]
        var current: Open?
        /// Finishes the open user and handles, in order, the selected users up to (not including) `user`, then opens it.
        func advance(to user: Int?) throws {
            if let o = current {
                try close(o, &applied, &counts)
                current = nil
            }
            while let next = waiting.first, user == nil || next.user < user! {
                waiting.removeFirst()
                try close(try open(next, &applied), &applied, &counts)
            }
            if let user, let next = waiting.first, next.user == user {
                waiting.removeFirst()
                current = try open(next, &applied)
            }
        }
        let items = archive.items(manifest)
        var seenItems = 0
        var seenBytes: Int64 = 0
        while let (record, body) = try items.next() {
            seenItems += 1
            seenBytes += record.size
            progress.update(items: seenItems, bytes: seenBytes)
            if current?.user.user != record.user, selected.contains(record.user) {
                guard waiting.contains(where: { $0.user == record.user }) else {
                    throw FerryError(.verificationFailed, "\(archive.path): entry \(record.path): user \(record.user)'s entries are not one run")
                }
                try advance(to: record.user)
            }
            guard let o = current, o.user.user == record.user else { continue }
            try o.unit.write(record, body: body)
        }
        try advance(to: nil)
        counts.changes = applied
    }
}
