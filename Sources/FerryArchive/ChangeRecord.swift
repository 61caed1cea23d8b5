import MailModel

/// One line of a delta archive's change list (format-spec section 6.8): what happened at the source to items
/// and folders an earlier archive of the chain carried. A delta lists every item still at the source: new ones
/// as entries, the others as `keep` lines with their current folder and metadata, so a delta alone says what
/// the target must hold after it is applied.
/// Decoded on a fast path too (`CanonicalManifestLine`, in the writer's exact form): a field or a check added to
/// its decoding must be added there as well, or lines holding it must be left to JSONDecoder.
public struct ChangeRecord: Codable, Sendable, Hashable {
    public enum Operation: String, Codable, Sendable {
        /// An item carried earlier is still at the source; `container` and the metadata object are its state now.
        case keep
        /// An item carried earlier is gone from the source.
        case delete
        /// A folder was renamed from `from` to `to` (applied before anything else).
        case renameFolder
        /// A folder is gone from the source (applied after everything else).
        case deleteFolder
    }

    public var op: Operation
    public var user: Int
    public var kind: ItemKind?
    /// `keep`: the container number in this archive the item is in now (absent for Sieve scripts).
    public var container: Int?
    public var sourceKey: String?
    /// `keep`, `delete`: the archive and entry whose bytes carried the item.
    public var origin: ItemOrigin?
    public var size: Int64?
    public var sha256: String?
    public var message: MessageInfo?
    public var contact: ContactInfo?
    public var calendarItem: CalendarItemInfo?
    public var sieve: SieveScriptInfo?
    /// `keep`: what changed since the previous archive, for people: `flags`, `keywords`, `folder`.
    public var changed: [String]?
    /// `renameFolder`: the old and new folder paths.
    public var from: [String]?
    public var to: [String]?
    /// `deleteFolder`: the folder's path.
    public var folder: [String]?

    public init(op: Operation, user: Int) {
        self.op = op
        self.user = user
    }

    /// The key a target knows the item by: the one it was first written with.
    public var itemKey: ItemKey? {
        guard let origin, let sha256, let size else { return nil }
        return ItemKey(archiveID: origin.archiveID, entryPath: origin.path, sha256: sha256, size: size)
    }
}

/// Where an item's bytes travelled: an archive id and the entry path in that archive.
public struct ItemOrigin: Codable, Sendable, Hashable {
    public var archiveID: String
    public var path: String
    public init(archiveID: String, path: String) {
        self.archiveID = archiveID
        self.path = path
    }
}
