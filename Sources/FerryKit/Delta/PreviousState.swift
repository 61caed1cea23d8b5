import FerryArchive
import MailModel

/// What the source held when the previous archive of a chain was made, read from that archive's signed manifest:
/// for a full archive its entries; for a delta its new entries and its `keep` lines (a delta lists every item
/// still at the source). A delta export compares the source with this.
///
/// One user at a time is held in memory (a source key, an origin and a folder path per item: roughly 300 bytes an
/// item); the others stay in the manifest copy.
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
    private let manifest: VerifiedManifest
    private let numbers: [String: Int]
    private let runs: [Int: VerifiedManifest.UserEntries]

    init(manifest: VerifiedManifest) throws {
        header = manifest.header
        guard manifest.header.version >= 2 else {
            throw FerryError(.usage, "\(manifest.archivePath): a version \(manifest.header.version) archive records no source keys; a delta needs a base written by this MailFerry")
        }
        self.manifest = manifest
        numbers = Dictionary(manifest.users.map { ($0.address.lowercased(), $0.user) }, uniquingKeysWith: { a, _ in a })
        runs = try manifest.userEntries()
    }

    /// One user's items, read from the manifest copy when asked (one user in memory at a time): the user's run of
    /// entries, and the user's keep lines.
    func user(_ address: String) throws -> User? {
        guard let number = numbers[address.lowercased()] else { return nil }
        var user = User()
        user.folders = manifest.containers.filter { $0.user == number && $0.kind == .folder }.map { $0.folder! }
        func containerPath(_ kind: ItemKind, _ container: Int?) -> [String] {
            let containerKind: ContainerRecord.Kind
            switch kind {
            case .message: containerKind = .folder
            case .contact: containerKind = .addressBook
            case .calendarItem: containerKind = .calendar
            case .sieveScript: return []
            }
            guard let container, let c = manifest.container(user: number, kind: containerKind, number: container) else { return [] }
            return c.folder.map { $0.isInbox ? ["INBOX"] : $0.path } ?? [c.displayName]
        }
        let changes = manifest.changes(of: number)
        while let c = try changes.next() {
            if c.user > number { break }
            guard c.user == number, c.op == .keep, let kind = c.kind, let key = c.sourceKey, let origin = c.origin,
                let sha = c.sha256, let size = c.size
            else { continue }
            user.items[key, default: []].append(Item(
                kind: kind, sourceKey: key, origin: origin, sha256: sha, size: size,
                container: containerPath(kind, c.container), message: c.message, contact: c.contact,
                calendarItem: c.calendarItem, sieve: c.sieve))
        }
        if let run = runs[number] {
            let entries = manifest.entries(of: run)
            while let e = try entries.next() {
                let key = e.sourceKey!
                user.items[key, default: []].append(Item(
                    kind: e.kind, sourceKey: key, origin: ItemOrigin(archiveID: header.archiveID, path: e.path),
                    sha256: e.sha256, size: e.size, container: containerPath(e.kind, e.container), message: e.message,
                    contact: e.contact, calendarItem: e.calendarItem, sieve: e.sieve))
            }
        }
        return user
    }
}
