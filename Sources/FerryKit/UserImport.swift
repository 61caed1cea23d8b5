import FerryArchive
import MailModel
import Reporting

/// One user's import into a target: the user's mailbox with every container created up front, each checked item
/// written into its container, and the counts once the target made everything durable. The one-job, parallel and
/// delta imports all write through this unit, so a new target type is met in one place.
final class UserImport {
    let record: UserRecord
    let target: any UserMailboxTarget
    let containers: [Importer.ContainerKey: Int]
    private let mapping: UserMapping
    private let archiveID: String
    private var counts = ImportCounts()

    /// Opens the user's containers at `target` (already opened for the user: a delta renames folders first).
    init(_ record: UserRecord, at target: any UserMailboxTarget, manifest: VerifiedManifest, mapping: UserMapping) throws {
        self.record = record
        self.target = target
        self.mapping = mapping
        archiveID = manifest.header.archiveID
        containers = try Importer.openContainers(of: record, in: manifest, at: target, mapping: mapping, rewritten: &counts.rewritten)
    }

    /// What the report calls each kind of item left out.
    static func kindName(_ kind: ItemKind) -> String {
        switch kind {
        case .message: return "message"
        case .contact: return "contact"
        case .calendarItem: return "calendar item"
        case .sieveScript: return "Sieve script"
        }
    }

    /// Opens the user's mailbox at the target, then its containers.
    convenience init(_ record: UserRecord, in mailboxes: any MailboxTarget, manifest: VerifiedManifest, mapping: UserMapping) throws {
        try self.init(record, at: mailboxes.open(user: UserInfo(address: record.targetMailbox)), manifest: manifest, mapping: mapping)
    }

    /// Writes one item, committed only once its bytes matched the manifest.
    func write(_ entry: EntryRecord, body: some CheckedItemBody) throws {
        guard target.heldKinds.contains(entry.kind) else {
            let kind = Self.kindName(entry.kind)
            let reason = target.excludedKinds.contains(entry.kind) ? "left out of this run by --types" : "the target holds no \(kind)s"
            counts.notImported.append(BadItem(entry: entry.path, folder: kind, reason: reason))
            return
        }
        let key = ItemKey(archiveID: archiveID, entryPath: entry.path, sha256: entry.sha256, size: entry.size)
        if try Importer.write(entry, body: body, key: key, to: target, containers: containers, mapping: mapping, counts: &counts) {
            counts.written += 1
            counts.bytesWritten += entry.size
        } else {
            counts.alreadyPresent += 1
        }
    }

    /// Applies the user's settings, makes everything durable, and gives what was done.
    func finish() throws -> ImportCounts {
        try target.finish(settings: record.settings)
        try counts.collect(from: target, user: record.address)
        return counts
    }
}
