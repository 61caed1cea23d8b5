import FerryArchive
import MailModel
import SystemLayer

/// What the source held when the previous archive of a chain was made, read from that archive's signed manifest:
/// for a full archive its entries; for a delta its new entries and its `keep` lines (a delta lists every item
/// still at the source). A delta export compares the source with this.
///
/// One user at a time is held in memory, and of each item only what the source is matched on (source key, kind,
/// size, folder, UID) and where its manifest line is: about 150 bytes an item, so that a mailbox of hundreds of
/// thousands of messages stays within the memory budget. The rest of an item (origin, hash, metadata) is read
/// again from the manifest copy (`details(of:)`) for the items that need it: those kept, deleted or compared by
/// hash. The other users stay in the manifest copy.
struct PreviousState {
    struct Item {
        var kind: ItemKind
        var size: Int64
        /// Index into the user's `containers`: the folder path, or the address book or calendar name (0, the empty
        /// path, for Sieve scripts).
        var container: Int32
        /// The message's UID at the source when the archive recorded one; 0 otherwise (no IMAP UID is 0).
        var uid: UInt32
        var line: ManifestLineRef
    }

    /// What an item's line says besides what it is matched on.
    struct Details {
        var sourceKey: String
        var origin: ItemOrigin
        var sha256: String
        var message: MessageInfo?
        var contact: ContactInfo?
        var calendarItem: CalendarItemInfo?
        var sieve: SieveScriptInfo?
    }

    struct User {
        var items = PreviousItems()
        var folders: [FolderInfo] = []
        /// The container paths items name by index (`Item.container`); the first is the empty path.
        var containers: [[String]] = [[]]
        /// The sync tokens the archive recorded for the user's address books (kind `.contact`) and calendars
        /// (`.calendarItem`), by name.
        var syncTokens: [ItemKind: [String: String]] = [:]
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
        for c in manifest.containers where c.user == number {
            if let book = c.addressBook, let token = book.syncToken { user.syncTokens[.contact, default: [:]][book.name] = token }
            if let calendar = c.calendar, let token = calendar.syncToken { user.syncTokens[.calendarItem, default: [:]][calendar.name] = token }
        }
        var containerNumbers: [[String]: Int32] = [[]: 0]
        func container(_ kind: ItemKind, _ container: Int?) -> Int32 {
            let containerKind: ContainerRecord.Kind
            switch kind {
            case .message: containerKind = .folder
            case .contact: containerKind = .addressBook
            case .calendarItem: containerKind = .calendar
            case .sieveScript: return 0
            }
            guard let container, let c = manifest.container(user: number, kind: containerKind, number: container) else { return 0 }
            let path = c.folder.map { $0.isInbox ? ["INBOX"] : $0.path } ?? [c.displayName]
            if let n = containerNumbers[path] { return n }
            let n = Int32(user.containers.count)
            user.containers.append(path)
            containerNumbers[path] = n
            return n
        }
        let changes = manifest.changeLines(of: number)
        while let c = try changes.next() {
            if c.user > number { break }
            guard c.user == number, c.op == .keep, let kind = c.kind, let key = c.sourceKey, let size = c.size,
                let line = changes.lastLine
            else { continue }
            user.items.add(
                Item(kind: kind, size: size, container: container(kind, c.container), uid: c.message?.uid ?? 0, line: line),
                key: key)
        }
        if let run = runs[number] {
            let entries = manifest.entries(of: run)
            while let e = try entries.next() {
                guard let line = entries.lastLine else { continue }
                user.items.add(
                    Item(kind: e.kind, size: e.size, container: container(e.kind, e.container), uid: e.message?.uid ?? 0,
                        line: line),
                    key: e.sourceKey!)
            }
        }
        return user
    }

    /// The rest of `item`, from its line in the manifest copy (checked when the archive was loaded).
    func details(of item: Item) throws -> Details {
        switch try manifest.line(item.line) {
        case .entry(let e):
            return Details(
                sourceKey: e.sourceKey ?? "", origin: ItemOrigin(archiveID: header.archiveID, path: e.path), sha256: e.sha256,
                message: e.message, contact: e.contact, calendarItem: e.calendarItem, sieve: e.sieve)
        case .change(let c):
            if let key = c.sourceKey, let origin = c.origin, let sha = c.sha256 {
                return Details(
                    sourceKey: key, origin: origin, sha256: sha, message: c.message, contact: c.contact,
                    calendarItem: c.calendarItem, sieve: c.sieve)
            }
        default: break
        }
        throw FerryError(.ioError, "\(manifest.archivePath): the manifest line at byte \(item.line.offset) is not the item read there before")
    }
}

/// One user's previous items by source key. A key is held as its 64-bit hash, not as a string (a Maildir key is
/// about 50 bytes): what is found under a hash is a candidate, which the caller confirms with the source key its
/// line holds (`PreviousState.details(of:)`), so two keys with one hash are told apart there. A hash that more than
/// one item has (a repeated key: identical mbox messages, copies sharing an object id; or two keys with one hash)
/// keeps a list; every other hash one item's place, without a list's allocation.
///
/// The items are held once, in one array in the order added (the manifest's), and named elsewhere by their place in
/// it (`Place`, 4 bytes); an item taken is marked, not moved. At 200,000 messages the dictionaries of whole items
/// this replaced (by key hash, and the delta sink's by UID) held 41 MB; this about 20 MB.
struct PreviousItems {
    typealias Place = Int32
    private typealias Item = PreviousState.Item
    private var items: [Item] = []
    private var taken: [Bool] = []
    private var left = 0
    private var single: [UInt64: Place] = [:]
    private var shared: [UInt64: [Place]] = [:]
    private let hash: (String) -> UInt64

    /// `hash`: the process's own by default (`Hasher`, randomly seeded: stable for as long as this is held); a
    /// test gives one under which keys collide.
    init(hash: @escaping (String) -> UInt64 = ProcessHash.of) {
        self.hash = hash
    }


    var isEmpty: Bool { left == 0 }

    mutating func add(_ item: PreviousState.Item, key: String) {
        let place = Place(items.count)
        items.append(item)
        taken.append(false)
        left += 1
        let h = hash(key)
        if shared[h] != nil {
            shared[h]!.append(place)
        } else if let first = single.removeValue(forKey: h) {
            shared[h] = [first, place]
        } else {
            single[h] = place
        }
    }

    private func places(_ key: String) -> [Place] {
        let h = hash(key)
        if let one = single[h] { return [one] }
        return shared[h] ?? []
    }

    /// The items left whose key has `key`'s hash, in the order added.
    func candidates(_ key: String) -> [PreviousState.Item] {
        places(key).compactMap { item(at: $0) }
    }

    /// Takes `item` (one of `key`'s candidates, told apart by its manifest line) out.
    mutating func remove(_ item: PreviousState.Item, key: String) {
        if let place = places(key).first(where: { !taken[Int($0)] && items[Int($0)].line == item.line }) {
            remove(at: place)
        }
    }

    /// The item at `place`, or nil once it was taken.
    func item(at place: Place) -> PreviousState.Item? {
        taken[Int(place)] ? nil : items[Int(place)]
    }

    /// Takes the item at `place` out.
    mutating func remove(at place: Place) {
        guard !taken[Int(place)] else { return }
        taken[Int(place)] = true
        left -= 1
    }

    /// Every item left with its place, in manifest order.
    func forEachLeft(_ body: (Place, PreviousState.Item) throws -> Void) rethrows {
        for (n, item) in items.enumerated() where !taken[n] { try body(Place(n), item) }
    }

    /// Every item left, in manifest order (a delta's delete lines come out in the same order every time).
    var all: [PreviousState.Item] {
        items.indices.filter { !taken[$0] }.map { items[$0] }.sorted { $0.line.offset < $1.line.offset }
    }
}
