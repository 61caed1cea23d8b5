import MailModel

/// Several targets written as one: each container and item goes to the part claiming its kind (mail folders and
/// messages to the mail part, address books and contacts to the contacts part, ...), so one import, one reconcile
/// and one receipt per user cover them all.
struct ConnectorSetTarget: MailboxTarget {
    struct Part {
        let target: any MailboxTarget
        let kinds: Set<ItemKind>
        let name: String
    }

    let parts: [Part]
    let excludedKinds: Set<ItemKind>

    func open(user: UserInfo) throws -> any UserMailboxTarget {
        try ConnectorSetUserTarget(
            parts: parts.map { (target: try $0.target.open(user: user), kinds: $0.kinds, name: $0.name) }, excludedKinds: excludedKinds)
    }
}

final class ConnectorSetUserTarget: UserMailboxTarget, DeltaTarget {
    private let parts: [(target: any UserMailboxTarget, kinds: Set<ItemKind>, name: String)]
    let excludedKinds: Set<ItemKind>
    private var combined = PlacementLog()

    init(parts: [(target: any UserMailboxTarget, kinds: Set<ItemKind>, name: String)], excludedKinds: Set<ItemKind>) {
        self.parts = parts
        self.excludedKinds = excludedKinds
    }

    /// The part that holds `kind`; the set made sure there is at most one.
    private func part(for kind: ItemKind) -> (target: any UserMailboxTarget, kinds: Set<ItemKind>, name: String)? {
        parts.first { $0.kinds.contains(kind) }
    }

    private func target(for kind: ItemKind) throws -> any UserMailboxTarget {
        guard let part = part(for: kind) else {
            throw FerryError(.usage, "none of the targets of this run holds \(ConnectorSet.typeName(kind))")
        }
        return part.target
    }

    var heldKinds: Set<ItemKind> {
        parts.reduce(into: []) { $0.formUnion($1.kinds.intersection($1.target.heldKinds)) }
    }

    func folder(_ folder: FolderInfo) throws -> Int { try target(for: .message).folder(folder) }
    func addressBook(_ book: AddressBookInfo) throws -> Int { try target(for: .contact).addressBook(book) }
    func calendar(_ calendar: CalendarInfo) throws -> Int { try target(for: .calendarItem).calendar(calendar) }

    func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        try target(for: .message).writeMessage(info, inFolder: folder, key: key, body: body, check: check)
    }

    func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        try target(for: .contact).writeContact(info, inAddressBook: book, key: key, body: body, check: check)
    }

    func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        try target(for: .calendarItem).writeCalendarItem(info, inCalendar: calendar, key: key, body: body, check: check)
    }

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        try target(for: .sieveScript).writeSieveScript(info, key: key, body: body, check: check)
    }

    /// Every part made durable. The settings (a vacation reply, a filter) go to the part carrying Sieve scripts, or
    /// without one to the mail part, as a single target would take them.
    func finish(settings: UserSettings) throws {
        let owner = part(for: .sieveScript)?.name ?? part(for: .message)?.name
        for part in parts {
            try part.target.finish(settings: part.name == owner ? settings : UserSettings())
        }
        combined = try PlacementLog.joined(parts.map(\.target.placements))
    }

    var placements: PlacementLog { combined }

    func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement]) {
        let read = try parts.map { try $0.target.readPlacements() }
        return (try PlacementLog.joined(read.map(\.items)), read.flatMap(\.folders))
    }

    var badItems: [BadItem] { parts.flatMap(\.target.badItems) }
    var convertedItems: [RewrittenItem] { parts.flatMap(\.target.convertedItems) }

    // MARK: Deltas: folders are mail folders; items go to the part of their kind.

    private func delta(for kind: ItemKind) throws -> (any DeltaTarget)? {
        guard let part = part(for: kind) else { return nil }
        guard let delta = part.target as? any DeltaTarget else {
            throw FerryError(.usage, "\(part.name) cannot apply a delta archive (no moves, flag changes or deletions there)")
        }
        return delta
    }

    func beginDelta() {
        for part in parts { (part.target as? any DeltaTarget)?.beginDelta() }
    }

    func renameFolder(from: [String], to: [String]) throws -> Bool {
        try delta(for: .message)?.renameFolder(from: from, to: to) ?? false
    }

    func deleteFolder(_ path: [String]) throws -> Bool {
        try delta(for: .message)?.deleteFolder(path) ?? false
    }

    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate {
        try delta(for: .message)?.updateMessage(key: key, info: info, inFolder: folder) ?? .notFound
    }

    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool {
        try delta(for: kind)?.deleteItem(key: key, kind: kind) ?? false
    }

    func deleteItem(key: ItemKey, kind: ItemKind, sourceKey: String?, heldSHA256: String?) throws -> Bool {
        try delta(for: kind)?.deleteItem(key: key, kind: kind, sourceKey: sourceKey, heldSHA256: heldSHA256) ?? false
    }
}
