import MailModel
import Reporting

// How the operations add up counts; the counts themselves are plain report values (Reporting).
extension ImportCounts {
    /// Adds another part's counts (a user imported by another job); `seconds` stays this one's.
    mutating func add(_ other: ImportCounts) throws {
        written += other.written
        alreadyPresent += other.alreadyPresent
        bytesWritten += other.bytesWritten
        badItems += other.badItems
        notImported += other.notImported
        try placements.append(contentsOf: other.placements)
        folderPlacements.merge(other.folderPlacements) { $0 + $1 }
        rewritten += other.rewritten
        rewrittenItems += other.rewrittenItems
        convertedItems += other.convertedItems
        if let more = other.changes {
            var sum = changes ?? DeltaImportCounts()
            sum.movedOrFlagged += more.movedOrFlagged
            sum.unchanged += more.unchanged
            sum.notFound += more.notFound
            sum.deleted += more.deleted
            sum.renamedFolders += more.renamedFolders
            sum.deletedFolders += more.deletedFolders
            changes = sum
        }
    }

    /// These counts with each listed entry named as `prefix` + entry (a volume's file name, in a set's report), and
    /// without placements (kept by the part they belong to).
    func naming(prefix: String) -> ImportCounts {
        var c = self
        c.placements = PlacementLog()
        c.badItems = badItems.map { var b = $0; b.entry = prefix + b.entry; return b }
        c.notImported = notImported.map { var b = $0; b.entry = prefix + b.entry; return b }
        c.rewrittenItems = rewrittenItems.map { var r = $0; r.entry = prefix + r.entry; return r }
        c.convertedItems = convertedItems.map { var r = $0; r.entry = prefix + r.entry; return r }
        return c
    }

    /// Takes what a user's target reports once it finished: placements, refused and converted items.
    mutating func collect(from target: any UserMailboxTarget, user: String) throws {
        let (items, folders) = try target.readPlacements()
        try placements.append(contentsOf: items)
        if !folders.isEmpty { folderPlacements[user, default: []] += folders }
        badItems += target.badItems
        convertedItems += target.convertedItems
    }
}
