import FerryArchive
import MailModel

/// What the source held when the previous archive of a chain was made, read from that archive's signed manifest:
/// for a full archive its entries; for a delta its new entries and its `keep` lines (a delta lists every item
/// still at the source). A delta export compares the source with this.
///
/// Held in memory per user (a source key, an origin and a folder path per item: roughly 300 bytes an item).
struct PreviousState {
    struct Item {
        var kind: ItemKind
        var sourceKey: String
        var origin: ItemOrigin
        var sha256: String
        var size: Int64
        /// The folder path, or the address book or calendar name; empty for Sieve scripts.
        var container: [String]
        var message: MessageInfo?
        var contact: ContactInfo?
        var calendarItem: CalendarItemInfo?
        var sieve: SieveScriptInfo?
    }

    struct User {
        /// Items by source key; a key can repeat (identical mbox messages, copies sharing an object id).
        var items: [String: [Item]] = [:]
        var folders: [FolderInfo] = []
    }

    let header: ArchiveHeader
    private(set) var users: [String: User] = [:]

    init(manifest: VerifiedManifest) throws {
        header = manifest.header
        guard manifest.header.version >= 2 else {
            throw FerryError(.usage, "\(manifest.archivePath): a version \(manifest.header.version) archive records no source keys; a delta needs a base written by this MailFerry")
        }
        var addresses: [Int: String] = [:]
        for u in manifest.users {
            addresses[u.user] = u.address.lowercased()
            users[u.address.lowercased()] = User()
        }
        for c in manifest.containers where c.kind == .folder {
            users[addresses[c.user]!]!.folders.append(c.folder!)
        }
        func containerPath(_ user: Int, _ kind: ItemKind, _ number: Int?) -> [String] {
            let containerKind: ContainerRecord.Kind
            switch kind {
            case .message: containerKind = .folder
            case .contact: containerKind = .addressBook
            case .calendarItem: containerKind = .calendar
            case .sieveScript: return []
            }
            guard let number, let c = manifest.container(user: user, kind: containerKind, number: number) else { return [] }
            return c.folder.map { $0.isInbox ? ["INBOX"] : $0.path } ?? [c.displayName]
        }
        let changes = manifest.changes()
        while let c = try changes.next() {
            guard c.op == .keep, let kind = c.kind, let key = c.sourceKey, let origin = c.origin, let sha = c.sha256,
                let size = c.size
            else { continue }
            let item = Item(
                kind: kind, sourceKey: key, origin: origin, sha256: sha, size: size,
                container: containerPath(c.user, kind, c.container), message: c.message, contact: c.contact,
                calendarItem: c.calendarItem, sieve: c.sieve)
            users[addresses[c.user]!]!.items[key, default: []].append(item)
        }
        let entries = manifest.entries()
        while let e = try entries.next() {
            let key = e.sourceKey!
            let item = Item(
                kind: e.kind, sourceKey: key, origin: ItemOrigin(archiveID: manifest.header.archiveID, path: e.path),
                sha256: e.sha256, size: e.size, container: containerPath(e.user, e.kind, e.container), message: e.message,
                contact: e.contact, calendarItem: e.calendarItem, sieve: e.sieve)
            users[addresses[e.user]!]!.items[key, default: []].append(item)
        }
    }

    func user(_ address: String) -> User? { users[address.lowercased()] }
}
