import MailModel

/// The manifest is JSON Lines: one JSON object per line, each with exactly one key naming the
/// record's kind. Order: one `archive` line, then every `user`, then every `folder`, `addressBook`
/// and `calendar`, then one `entry` per item in archive order. Readers stream it line by line, so
/// its size does not bound what a reader can hold in memory.
public enum ManifestLine: Codable, Sendable {
    case archive(ArchiveHeader)
    case user(UserRecord)
    case container(ContainerRecord)
    case change(ChangeRecord)
    case entry(EntryRecord)

    enum CodingKeys: String, CodingKey {
        case archive, user, container, change, entry
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "a manifest line has exactly one key"))
        }
        switch key {
        case .archive: self = .archive(try c.decode(ArchiveHeader.self, forKey: key))
        case .user: self = .user(try c.decode(UserRecord.self, forKey: key))
        case .container: self = .container(try c.decode(ContainerRecord.self, forKey: key))
        case .change: self = .change(try c.decode(ChangeRecord.self, forKey: key))
        case .entry: self = .entry(try c.decode(EntryRecord.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .archive(let v): try c.encode(v, forKey: .archive)
        case .user(let v): try c.encode(v, forKey: .user)
        case .container(let v): try c.encode(v, forKey: .container)
        case .change(let v): try c.encode(v, forKey: .change)
        case .entry(let v): try c.encode(v, forKey: .entry)
        }
    }
}

public enum ArchiveFormat {
    public static let name = "mailferry-archive"
    /// The version this tool writes (format-spec section 14). Version 2 added `entry.sourceKey`,
    /// `archive.changeCount` and the `change` records of delta archives.
    public static let version = 2
    /// The versions this tool reads: every archive it ever wrote.
    public static let readableVersions = 1...3
    /// The version of a volume of a volume set (format-spec section 13.1): a version 2 archive whose statement says
    /// which set it belongs to and which volume it is. Plain single archives stay version 2, so older readers read them.
    public static let volumeVersion = 3
    public static let statementName = "mailferry-statement"
    /// The statement's own structure version, which has not changed since version 1.
    public static let statementVersion = 1
}

/// The first manifest line: what this archive is.
public struct ArchiveHeader: Codable, Sendable, Hashable {
    public var format: String
    public var version: Int
    public var archiveID: String
    /// RFC 3339 UTC time the export started.
    public var created: String
    /// The exporting station's name (host name unless given).
    public var station: String
    /// Increases with each archive a station makes for the same migration.
    public var sequence: Int
    /// The archive this one is a delta of, or nil for a full archive.
    public var deltaOf: String?
    public var tool: String
    public var signerKeyID: String
    public var userCount: Int
    public var entryCount: Int
    /// Sum of all item sizes.
    public var itemBytes: Int64
    public var totals: Counts
    /// Number of `change` lines (version 2; 0 for a full archive, absent in version 1).
    public var changeCount: Int?
    /// Every user the migration renames (source address to target address), including users not in this archive,
    /// so that the importer rewrites references to any of them; absent when nobody is renamed.
    public var renamedUsers: [String: String]?
}

/// Counts per type. Contact and calendar resources are files that may each hold several objects,
/// so both the files and the objects are counted.
public struct Counts: Codable, Sendable, Hashable {
    public var messages = 0
    public var messageBytes: Int64 = 0
    public var contactFiles = 0
    public var contacts = 0
    public var calendarFiles = 0
    public var events = 0
    public var tasks = 0
    public var sieveScripts = 0
    public var otherBytes: Int64 = 0
    public init() {}

    /// Counts one item entry: what the writer states and what readers recount.
    public mutating func add(_ e: EntryRecord) {
        switch e.kind {
        case .message:
            messages += 1
            messageBytes += e.size
        case .contact:
            contactFiles += 1
            contacts += e.contact?.cards.count ?? 0
            otherBytes += e.size
        case .calendarItem:
            calendarFiles += 1
            events += e.calendarItem?.components.filter { $0.kind == "VEVENT" }.count ?? 0
            tasks += e.calendarItem?.components.filter { $0.kind == "VTODO" }.count ?? 0
            otherBytes += e.size
        case .sieveScript:
            sieveScripts += 1
            otherBytes += e.size
        }
    }

    public static func += (a: inout Counts, b: Counts) {
        a.messages += b.messages
        a.messageBytes += b.messageBytes
        a.contactFiles += b.contactFiles
        a.contacts += b.contacts
        a.calendarFiles += b.calendarFiles
        a.events += b.events
        a.tasks += b.tasks
        a.sieveScripts += b.sieveScripts
        a.otherBytes += b.otherBytes
    }
}

public struct UserRecord: Codable, Sendable, Hashable {
    /// The number in entry paths (`u/<user>/...`).
    public var user: Int
    public var address: String
    /// Where the user goes at the target when the migration renames users (`c.smith@abc.com` to
    /// `c_smith@abc.com`); absent when the address stays.
    public var targetAddress: String?
    public var settings: UserSettings
    public var counts: Counts
}

/// A folder, address book or calendar. Exactly one of `folder`, `addressBook`, `calendar` is set.
public struct ContainerRecord: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case folder, addressBook, calendar }
    public var kind: Kind
    public var user: Int
    /// The number in entry paths, unique per user and kind.
    public var number: Int
    public var folder: FolderInfo?
    public var addressBook: AddressBookInfo?
    public var calendar: CalendarInfo?
    public var items: Int
    public var bytes: Int64

    /// The name to show and to match folders by.
    public var displayName: String {
        folder?.displayName ?? addressBook?.name ?? calendar?.name ?? "?"
    }
}

/// One item entry: where it is, how big, its hash, and the item's metadata.
/// Decoded on a fast path too (`CanonicalManifestLine`, in the writer's exact form): a field or a check added to
/// its decoding must be added there as well, or lines holding it must be left to JSONDecoder.
public struct EntryRecord: Codable, Sendable, Hashable {
    public var path: String
    public var kind: ItemKind
    public var user: Int
    /// Folder, address book or calendar number; nil for Sieve scripts.
    public var container: Int?
    public var size: Int64
    public var sha256: String
    /// Offset of the entry's first header byte in the decompressed tar stream.
    public var offset: Int64
    /// The zstd frame that offset falls in (see the seek table).
    public var frame: Int
    public var message: MessageInfo?
    public var contact: ContactInfo?
    public var calendarItem: CalendarItemInfo?
    public var sieve: SieveScriptInfo?
    /// The stable identifier the source gives the item (version 2), by which a later delta export recognises it.
    public var sourceKey: String?

    public init(
        path: String, kind: ItemKind, user: Int, container: Int?, size: Int64, sha256: String, offset: Int64, frame: Int
    ) {
        self.path = path
        self.kind = kind
        self.user = user
        self.container = container
        self.size = size
        self.sha256 = sha256
        self.offset = offset
        self.frame = frame
    }

    /// The subject, contact name or calendar summary, for listings.
    public var title: String {
        if let m = message { return m.subject ?? "" }
        if let c = contact { return c.cards.compactMap(\.formattedName).joined(separator: ", ") }
        if let k = calendarItem { return k.components.map { "\($0.kind) \($0.summary ?? "")" }.joined(separator: ", ") }
        if let s = sieve { return s.name + (s.active ? " (active)" : "") }
        return ""
    }
}

/// The small document the signer signs. It binds the archive's identity to the manifest's exact
/// bytes (size and SHA-256), so the signature can be checked with `openssl pkeyutl -verify -rawin`
/// on this file alone and the manifest then with `sha256sum`, and so a reader checks the signature
/// before it parses anything larger than this.
public struct Statement: Codable, Sendable, Hashable {
    public var format: String
    public var version: Int
    public var archiveFormat: String
    public var archiveVersion: Int
    public var archiveID: String
    public var created: String
    public var signerKeyID: String
    public var manifest: ManifestReference
    /// Version 3 only: the volume set this archive is a volume of (format-spec section 13.1); absent otherwise.
    public var volume: VolumeMembership? = nil

    public struct ManifestReference: Codable, Sendable, Hashable {
        public var path: String
        public var size: Int64
        public var sha256: String
        /// Offset of the manifest's tar header in the decompressed stream; it starts a frame.
        public var offset: Int64
        public var frame: Int
    }
}

/// A volume's place in its set, in its signed statement (`volume` member, format-spec section 13.1).
public struct VolumeMembership: Codable, Sendable, Hashable {
    /// The set's id (hex, 32 digits): the `setID` of the set statement.
    public var set: String
    /// The volume's number in the set, from 1.
    public var number: Int
    public init(set: String, number: Int) {
        self.set = set
        self.number = number
    }
}
