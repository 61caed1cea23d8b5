/// Writes users' mailboxes into one system. The importer drives it from the archive.
public protocol MailboxTarget {
    func open(user: UserInfo) throws -> any UserMailboxTarget
}

/// Identifies one archived item everywhere a target must recognise it again: a re-run import, a
/// resumed one, reconcile. `archiveID` with `entryPath` is unique; `sha256` is of the item's bytes.
public struct ItemKey: Hashable, Sendable, Codable {
    public var archiveID: String
    public var entryPath: String
    public var sha256: String
    public var size: Int64
    public init(archiveID: String, entryPath: String, sha256: String, size: Int64) {
        self.archiveID = archiveID
        self.entryPath = entryPath
        self.sha256 = sha256
        self.size = size
    }
}

/// One user's side of a target. Each `write…` call commits an item atomically: the bytes are staged
/// under a temporary name while `check` runs over them, and only if `check` returns without throwing
/// is the item placed under its final name. A write whose key is already committed does nothing and
/// returns false (imports are idempotent and resumable).
public protocol UserMailboxTarget: AnyObject {
    /// Creates the folder if missing (and its parents), applies subscription; returns its number.
    func folder(_ folder: FolderInfo) throws -> Int
    func addressBook(_ book: AddressBookInfo) throws -> Int
    func calendar(_ calendar: CalendarInfo) throws -> Int

    func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool
    func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool
    func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody,
        check: () throws -> Void
    ) throws -> Bool
    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void)
        throws -> Bool

    /// Applies settings and makes everything written durable (fsync or the system's equivalent).
    func finish(settings: UserSettings) throws

    /// The kinds of item this target can hold (`ConnectorURL.heldKinds` says the same of its kind of target). An
    /// import opens no container and writes no item of another kind: it lists them as not imported.
    var heldKinds: Set<ItemKind> { get }
    /// The kinds the operator left out of this run (`--types`): not imported either, but listed as left out rather
    /// than as not held.
    var excludedKinds: Set<ItemKind> { get }

    /// Where the target placed each item it wrote, where it can say (IMAP's APPENDUID); complete after `finish`.
    var placements: PlacementLog { get }
    /// Where each item and each folder opened went, as completely as the target can say: `placements` with the
    /// target's own id of each item, and each folder's name, UIDVALIDITY and GUID there. Asked once after `finish`
    /// by an import, which maps identities (a server may be asked, so it is not a property).
    func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement])
    /// Items the target refused (too large, a rejected flag, bad bytes), each with the target's reason.
    var badItems: [BadItem] { get }
    /// Messages the target holds in `CRLFForm` where the archive's line endings differed (LF-only mail into IMAP),
    /// with the hash and size it holds; complete after `finish`.
    var convertedItems: [RewrittenItem] { get }
}

extension UserMailboxTarget {
    public var heldKinds: Set<ItemKind> { Set(ItemKind.allCases) }
    public var excludedKinds: Set<ItemKind> { [] }
    public var placements: PlacementLog { PlacementLog() }
    public func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement]) { (placements, []) }
    public var badItems: [BadItem] { [] }
    public var convertedItems: [RewrittenItem] { [] }
}

/// An item the target holds with bytes other than the archive's: a contact or calendar item the user mapping
/// rewrote, or a message whose line endings were made CRLF for a target that holds that form. The reconcile
/// expects `sha256` for `entry` instead of the archived hash.
public struct RewrittenItem: Codable, Sendable, Hashable {
    public var entry: String
    public var sha256: String
    public var size: Int64
    /// The archived bytes' SHA-256.
    public var archivedSHA256: String?
    public init(entry: String, sha256: String, size: Int64, archivedSHA256: String? = nil) {
        self.entry = entry
        self.sha256 = sha256
        self.size = size
        self.archivedSHA256 = archivedSHA256
    }
}

/// One archived item's place at the target, so that clients and later passes can find it: the folder, and on IMAP
/// the UIDVALIDITY and UID (RFC 4315 APPENDUID), in a Maildir those of its `dovecot-uidlist` and its file name.
public struct ItemPlacement: Codable, Sendable, Hashable {
    public var entry: String
    /// The source's object id (GUID, EMAILID), when the archive has one.
    public var guid: String?
    public var folder: String
    public var uidValidity: UInt32?
    public var uid: UInt32?
    /// A file store's name for the item: a Maildir message's unique name (before `:2,`, which flag changes keep).
    public var file: String?
    /// The target's own id for the item, where it has one: RFC 8474 EMAILID or Dovecot's X-GUID on an IMAP server,
    /// the GUID a Dovecot serving a Maildir target shows.
    public var targetGUID: String?
    public init(
        entry: String, guid: String?, folder: String, uidValidity: UInt32?, uid: UInt32?, file: String? = nil,
        targetGUID: String? = nil
    ) {
        self.entry = entry
        self.guid = guid
        self.folder = folder
        self.uidValidity = uidValidity
        self.uid = uid
        self.file = file
        self.targetGUID = targetGUID
    }
}

/// One archived folder's place at the target: its name there (a special-use folder may take another's), and the
/// target's UIDVALIDITY and folder GUID where the target can say.
public struct FolderPlacement: Codable, Sendable, Hashable {
    /// The folder's path in the archive.
    public var source: [String]
    public var folder: String
    public var uidValidity: UInt32?
    public var guid: String?
    public init(source: [String], folder: String, uidValidity: UInt32?, guid: String?) {
        self.source = source
        self.folder = folder
        self.uidValidity = uidValidity
        self.guid = guid
    }
}

/// An item the target would not take, with its reason in the target's words.
public struct BadItem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var entry: String
    public var folder: String
    public var reason: String
    public init(entry: String, folder: String, reason: String) {
        self.entry = entry
        self.folder = folder
        self.reason = reason
    }
    public var description: String { "\(entry) in \(folder): \(reason)" }
}

/// What `updateMessage` did to an item written earlier.
public enum ItemUpdate: Sendable, Equatable {
    /// It was where and as the delta says already.
    case unchanged
    /// It was moved or its flags were set.
    case changed
    /// The target does not have it.
    case notFound
}

/// The changes a delta archive carries (format-spec section 6.8), applied to items and folders an earlier import
/// wrote. Each is idempotent: applied again, it changes nothing and says so. Items are named by the `ItemKey`
/// they were first written with (the archive that carried their bytes).
public protocol DeltaTarget: AnyObject {
    /// Renames a folder (and the folders under it) when `from` exists and `to` does not; true when it did.
    func renameFolder(from: [String], to: [String]) throws -> Bool
    /// Removes a folder and what is left in it; true when it existed.
    func deleteFolder(_ path: [String]) throws -> Bool
    /// Puts an earlier item into `folder` (a number from `folder(_:)`) with `info`'s flags and keywords.
    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate
    /// Removes an earlier item; true when it was there.
    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool
    /// Removes an earlier item that a target finds by its name: `sourceKey` as the delta records it
    /// (`contact:BOOK/NAME`, `calendar:CALENDAR/NAME`), `heldSHA256` the hash of the form this target was recorded
    /// holding when it is not the archived one (`RewrittenItem`). By default `deleteItem(key:kind:)`.
    func deleteItem(key: ItemKey, kind: ItemKind, sourceKey: String?, heldSHA256: String?) throws -> Bool
    /// Called once a user is opened for a delta: the new versions of changed items then replace the old ones.
    func beginDelta()
}

extension DeltaTarget {
    public func deleteItem(key: ItemKey, kind: ItemKind, sourceKey: String?, heldSHA256: String?) throws -> Bool {
        try deleteItem(key: key, kind: kind)
    }
    public func beginDelta() {}
}
