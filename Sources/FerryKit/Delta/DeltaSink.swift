import FerryArchive
import MailModel
import SystemLayer

/// What a delta export found, per kind of change.
public struct DeltaCounts: Codable, Sendable {
    public var newItems = 0
    public var kept = 0
    public var flagChanges = 0
    public var moves = 0
    public var deleted = 0
    public var renamedFolders = 0
    public var deletedFolders = 0
    /// Messages the source vouched unchanged by CONDSTORE: not even their flags were fetched.
    public var unchangedByModSeq = 0
    /// Folders whose UIDVALIDITY changed since the previous archive: carried whole again.
    public var foldersCarriedAgain = 0
    public init() {}
}

/// Sits between a source and the archive writer during a delta export. Messages the previous archive already
/// carried (same source key and size) are turned away before their bytes are read and recorded as `keep` lines
/// with their folder and metadata now; everything else is written as a new entry. At the end of each user, what
/// the previous archive had and the source no longer has becomes `delete` lines, and vanished folders whose
/// messages all went to one new folder (or whose object id reappears under a new name) become renames.
final class DeltaSink: MailboxSink {
    /// One archive, or a volume set (`VolumeSetWriter`): a delta is written either way.
    let writer: any ChangeRecordingSink
    let previous: PreviousState
    private(set) var counts = DeltaCounts()

    private var remaining = PreviousItems()
    /// The previous items' container paths (`PreviousState.Item.container`).
    private var previousContainers: [[String]] = [[]]
    private var previousFolders: [FolderInfo] = []
    private var previousSyncTokens: [ItemKind: [String: String]] = [:]
    private var folders: [Int: FolderInfo] = [:]
    private var books: [Int: String] = [:]
    private var calendars: [Int: String] = [:]
    /// Previous folder path → current folder path → messages that went that way.
    private var movedTo: [[String]: [[String]: Int]] = [:]
    /// Previous folder path → UID → the item's place in `remaining`, for messages a source vouches unchanged (built for every folder in one
    /// pass over the user's previous items, on first use).
    private var placesByUID: [[String]: [UInt32: PreviousItems.Place]]?
    /// Delta exports of contacts and events: the user's previous objects by kind and collection name, in manifest
    /// order, built once per user (not a scan of everything left for each collection).
    private var objectsByCollection: [ItemKind: [String: [PreviousState.Item]]]?
    /// Folders (numbers of this archive) whose UIDVALIDITY is not the one the previous archive recorded: their UIDs
    /// mean other messages now (RFC 9051 section 2.3.1.1), so every message in them is carried again.
    private var carriedAgain: Set<Int> = []
    private let hasher = SHA256()

    init(writer: any ChangeRecordingSink, previous: PreviousState) {
        self.writer = writer
        self.previous = previous
    }

    func beginUser(_ user: UserInfo) throws {
        try writer.beginUser(user)
        let state = try previous.user(user.address)
        remaining = state?.items ?? PreviousItems()
        previousContainers = state?.containers ?? [[]]
        previousFolders = state?.folders ?? []
        previousSyncTokens = state?.syncTokens ?? [:]
        folders = [:]
        books = [:]
        calendars = [:]
        movedTo = [:]
        placesByUID = nil
        objectsByCollection = nil
        carriedAgain = []
    }

    func knownModSeq(of folder: FolderInfo) -> UInt64? {
        let name = Self.name(folder)
        guard let old = previousFolders.first(where: { Self.name($0) == name }), let validity = old.uidValidity,
            validity == folder.uidValidity, old.guid == folder.guid
        else { return nil }
        return old.highestModSeq
    }

    func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool {
        guard let path = folders[folder].map(Self.name) else { return false }
        if placesByUID == nil {
            var index: [[String]: [UInt32: PreviousItems.Place]] = [:]
            remaining.forEachLeft { place, item in
                if item.kind == .message && item.uid != 0 { index[previousContainers[Int(item.container)], default: [:]][item.uid] = place }
            }
            placesByUID = index
        }
        // An item taken since (by its key) is gone from its place: passed over.
        guard let place = placesByUID?[path]?[uid], let item = remaining.item(at: place) else { return false }
        let details = try previous.details(of: item)
        guard let info = details.message else { return false }
        remaining.remove(at: place)
        try keep(item, details, info: info, folder: folder)
        counts.unchangedByModSeq += 1
        return true
    }

    func folder(_ folder: FolderInfo) throws -> Int {
        let n = try writer.folder(folder)
        folders[n] = folder
        if let now = folder.uidValidity,
            let old = previousFolders.first(where: { Self.name($0) == Self.name(folder) }), let was = old.uidValidity, was != now
        {
            carriedAgain.insert(n)
            counts.foldersCarriedAgain += 1
        }
        return n
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        let n = try writer.addressBook(book)
        books[n] = book.name
        return n
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        let n = try writer.calendar(calendar)
        calendars[n] = calendar.name
        return n
    }

    private static func name(_ folder: FolderInfo) -> [String] { folder.isInbox ? ["INBOX"] : folder.path }

    /// Takes the previous item with this key (and size, and hash when known) out of what is left to match, with
    /// the rest of what its line says.
    private func take(
        _ key: String, kind: ItemKind, size: Int64, sha256: String? = nil
    ) throws -> (item: PreviousState.Item, details: PreviousState.Details)? {
        for item in remaining.candidates(key) where item.kind == kind && item.size == size {
            let details = try previous.details(of: item)
            guard details.sourceKey == key, sha256 == nil || details.sha256 == sha256 else { continue }
            remaining.remove(item, key: key)
            return (item, details)
        }
        return nil
    }

    /// A DAV object whose entity tag is the one the previous archive recorded for the same resource is the same
    /// object (RFC 9110 8.8.3: a strong tag changes with the bytes): kept as it was, without reading it.
    func takesUnchangedObject(_ kind: ItemKind, resourceName: String, inContainer container: Int, etag: String) throws -> Bool {
        let key: String
        switch kind {
        case .contact: key = ArchiveWriter.sourceKey(contact: ContactInfo(resourceName: resourceName, cards: []), book: books[container] ?? "")
        case .calendarItem:
            key = ArchiveWriter.sourceKey(calendarItem: CalendarItemInfo(resourceName: resourceName, components: []), calendar: calendars[container] ?? "")
        case .message, .sieveScript: return false
        }
        for item in remaining.candidates(key) where item.kind == kind {
            let details = try previous.details(of: item)
            guard details.sourceKey == key, (details.contact?.etag ?? details.calendarItem?.etag) == etag else { continue }
            remaining.remove(item, key: key)
            try keepResource((item, details), container: container) {
                $0.contact = details.contact
                $0.calendarItem = details.calendarItem
            }
            return true
        }
        return false
    }

    /// The name of address book or calendar `container` of this archive.
    private func collectionName(_ kind: ItemKind, _ container: Int) -> String? {
        switch kind {
        case .contact: books[container]
        case .calendarItem: calendars[container]
        case .message, .sieveScript: nil
        }
    }

    func syncToken(of kind: ItemKind, collection: String) -> String? { previousSyncTokens[kind]?[collection] }

    /// The previous archive's objects of the same collection that the source did not report changed or removed since
    /// its sync token are the same objects (RFC 6578 section 3.5: every change of a member is reported): kept as they
    /// were, without reading them.
    func takesUnreportedObjects(_ kind: ItemKind, inContainer container: Int, reported: Set<String>) throws -> Int {
        guard let name = collectionName(kind, container) else { return 0 }
        if objectsByCollection == nil {
            var index: [ItemKind: [String: [PreviousState.Item]]] = [:]
            for item in remaining.all where item.kind == .contact || item.kind == .calendarItem {
                let path = previousContainers[Int(item.container)]
                guard path.count == 1 else { continue }
                index[item.kind, default: [:]][path[0], default: []].append(item)
            }
            objectsByCollection = index
        }
        var taken = 0
        for item in objectsByCollection?[kind]?[name] ?? [] {
            let details = try previous.details(of: item)
            // An item taken since (by its key) is no longer among its key's candidates: passed over.
            guard remaining.candidates(details.sourceKey).contains(where: { $0.line == item.line }),
                let resourceName = details.contact?.resourceName ?? details.calendarItem?.resourceName,
                !reported.contains(resourceName)
            else { continue }
            remaining.remove(item, key: details.sourceKey)
            try keepResource((item, details), container: container) {
                $0.contact = details.contact
                $0.calendarItem = details.calendarItem
            }
            taken += 1
        }
        return taken
    }

    func skipsMessage(_ info: MessageInfo, inFolder folder: Int, size: Int64) throws -> Bool {
        guard !carriedAgain.contains(folder), let key = info.sourceKey, let old = try take(key, kind: .message, size: size)
        else { return false }
        try keep(old.item, old.details, info: info, folder: folder)
        return true
    }

    private func keep(_ old: PreviousState.Item, _ details: PreviousState.Details, info: MessageInfo, folder: Int) throws {
        var now = info
        // The header summary is for people; the previous archive read it, this one does not read the bytes.
        now.subject = details.message?.subject
        now.from = details.message?.from
        now.messageID = details.message?.messageID
        var changed: [String] = []
        if let was = details.message {
            if was.flags != now.flags || was.maildirPassed != now.maildirPassed { changed.append("flags") }
            if Set(was.keywords) != Set(now.keywords) { changed.append("keywords") }
        }
        let path = folders[folder].map(Self.name) ?? []
        let oldPath = previousContainers[Int(old.container)]
        if path != oldPath {
            changed.append("folder")
            movedTo[oldPath, default: [:]][path, default: 0] += 1
            counts.moves += 1
        }
        if changed.contains("flags") || changed.contains("keywords") { counts.flagChanges += 1 }
        var record = ChangeRecord(op: .keep, user: 0)
        record.kind = .message
        record.container = folder
        record.sourceKey = details.sourceKey
        record.origin = details.origin
        record.size = old.size
        record.sha256 = details.sha256
        record.message = now
        record.changed = changed.isEmpty ? nil : changed
        try writer.recordChange(record)
        counts.kept += 1
    }

    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        var info = info
        if info.sourceKey == nil {
            // A source without stable ids (mbox) is recognised by content, which means reading every message.
            let sha = try hash(body)
            let key = ArchiveWriter.contentSourceKey(sha256: sha)
            if let old = try take(key, kind: .message, size: body.byteCount, sha256: sha) {
                try keep(old.item, old.details, info: info, folder: folder)
                return
            }
            info.sourceKey = key
        }
        counts.newItems += 1
        try writer.message(info, inFolder: folder, body: body)
    }

    /// Contacts, calendar items and scripts are small: compared by content, carried again when it changed (the
    /// target replaces the resource of the same name).
    private func unchanged(
        _ key: String, kind: ItemKind, body: any ItemBody
    ) throws -> (item: PreviousState.Item, details: PreviousState.Details)? {
        guard !remaining.candidates(key).isEmpty else { return nil }
        let sha = try hash(body)
        if let same = try take(key, kind: kind, size: body.byteCount, sha256: sha) { return same }
        // Changed: the new version replaces the old one, which is therefore not deleted.
        for item in remaining.candidates(key) where try previous.details(of: item).sourceKey == key {
            remaining.remove(item, key: key)
        }
        return nil
    }

    private func keepResource(
        _ old: (item: PreviousState.Item, details: PreviousState.Details), container: Int?, fill: (inout ChangeRecord) -> Void
    ) throws {
        var record = ChangeRecord(op: .keep, user: 0)
        record.kind = old.item.kind
        record.container = container
        record.sourceKey = old.details.sourceKey
        record.origin = old.details.origin
        record.size = old.item.size
        record.sha256 = old.details.sha256
        fill(&record)
        try writer.recordChange(record)
        counts.kept += 1
    }

    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        let key = ArchiveWriter.sourceKey(contact: info, book: books[book] ?? "")
        if let old = try unchanged(key, kind: .contact, body: body) {
            try keepResource(old, container: book) { $0.contact = info }
            return
        }
        counts.newItems += 1
        try writer.contact(info, inAddressBook: book, body: body)
    }

    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        let key = ArchiveWriter.sourceKey(calendarItem: info, calendar: calendars[calendar] ?? "")
        if let old = try unchanged(key, kind: .calendarItem, body: body) {
            try keepResource(old, container: calendar) { $0.calendarItem = info }
            return
        }
        counts.newItems += 1
        try writer.calendarItem(info, inCalendar: calendar, body: body)
    }

    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        let key = ArchiveWriter.sourceKey(sieve: info)
        if let old = try unchanged(key, kind: .sieveScript, body: body), old.details.sieve?.active == info.active {
            try keepResource(old, container: nil) { $0.sieve = info }
            return
        }
        counts.newItems += 1
        try writer.sieveScript(info, body: body)
    }

    func endUser(settings: UserSettings) throws {
        for old in remaining.all {
            let details = try previous.details(of: old)
            var record = ChangeRecord(op: .delete, user: 0)
            record.kind = old.kind
            record.sourceKey = details.sourceKey
            record.origin = details.origin
            record.size = old.size
            record.sha256 = details.sha256
            try writer.recordChange(record)
            counts.deleted += 1
        }
        remaining = PreviousItems()
        try recordFolderChanges()
        try writer.endUser(settings: settings)
    }

    private func recordFolderChanges() throws {
        let now = Set(folders.values.map(Self.name))
        let before = Set(previousFolders.map(Self.name))
        var claimed = Set<[String]>()
        for old in previousFolders where !now.contains(Self.name(old)) {
            let oldName = Self.name(old)
            // The same mailbox id under a new name, else the new folder most of its messages went to.
            var renamedTo: [String]?
            if let guid = old.guid, let same = folders.values.first(where: { $0.guid == guid }) {
                renamedTo = Self.name(same)
            } else if let best = movedTo[oldName]?.filter({ !before.contains($0.key) }).max(by: { $0.value < $1.value }) {
                renamedTo = best.key
            }
            if let to = renamedTo, !before.contains(to), !claimed.contains(to) {
                claimed.insert(to)
                var record = ChangeRecord(op: .renameFolder, user: 0)
                record.from = oldName
                record.to = to
                try writer.recordChange(record)
                counts.renamedFolders += 1
            } else {
                var record = ChangeRecord(op: .deleteFolder, user: 0)
                record.folder = oldName
                try writer.recordChange(record)
                counts.deletedFolders += 1
            }
        }
    }

    func warning(_ problem: SourceProblem) { writer.warning(problem) }

    private func hash(_ body: any ItemBody) throws -> String {
        try body.stream { hasher.update($0) }
        return hasher.finalizeHex()
    }
}
