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
