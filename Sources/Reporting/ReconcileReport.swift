import FerryArchive
import MailModel

/// What `import` and `reconcile` found: per user and container, what the archive held and what the
/// target holds, every difference by entry, and a verdict. Written as JSON for scripts and people.
public struct ReconcileReport: Codable, Sendable {
    public var format = "mailferry-reconcile-report"
    public var version = 1
    public var archive: String
    public var archiveID: String
    public var manifestSHA256: String
    public var signerKeyID: String
    public var target: String
    public var created: String
    public var verdict: Verdict
    public var users: [UserReport]
    public var imported: ImportCounts?
    /// For a volume set (format-spec 13.1), reconciled whole: its volumes' archive ids, in order. `archiveID` is then
    /// the set's id and `manifestSHA256` the SHA-256 of its signed set statement line. Nil for one archive.
    public var volumes: [String]?
    /// Each imported user's identity map, by address, for the HTML page; the JSON names the maps' CSV files
    /// (`identityMapFiles`), which hold every row.
    public var identityMaps: [String: IdentityMap] = [:] {
        didSet {
            let files = identityMaps.compactMapValues(\.csvPath)
            identityMapFiles = files.isEmpty ? nil : files
        }
    }
    /// Each identity map's CSV file, by address.
    public private(set) var identityMapFiles: [String: String]?

    private enum CodingKeys: String, CodingKey {
        case format, version, archive, archiveID, manifestSHA256, signerKeyID, target, created, verdict, users, imported
        case identityMapFiles, volumes
    }

    public init(
        archive: String, archiveID: String, manifestSHA256: String, signerKeyID: String, target: String,
        created: String, verdict: Verdict, users: [UserReport], imported: ImportCounts? = nil
    ) {
        self.archive = archive
        self.archiveID = archiveID
        self.manifestSHA256 = manifestSHA256
        self.signerKeyID = signerKeyID
        self.target = target
        self.created = created
        self.verdict = verdict
        self.users = users
        self.imported = imported
    }

    public enum Verdict: String, Codable, Sendable { case pass, fail }

    /// Extra items listed per container (`ContainerReport.extraItems`); `extra` counts them all.
    public static let listedExtraLimit = 1000

    public struct UserReport: Codable, Sendable {
        public var address: String
        /// The user's address at the target, when the migration renames the user.
        public var targetAddress: String?
        public var verdict: Verdict
        public var archive: Counts
        public var target: Counts
        public var containers: [ContainerReport]
        public var problems: [String]

        public init(
            address: String, targetAddress: String? = nil, verdict: Verdict, archive: Counts, target: Counts,
            containers: [ContainerReport], problems: [String]
        ) {
            self.address = address
            self.targetAddress = targetAddress
            self.verdict = verdict
            self.archive = archive
            self.target = target
            self.containers = containers
            self.problems = problems
        }
    }

    public struct ContainerReport: Codable, Sendable {
        public var kind: String
        public var name: String
        public var archiveItems: Int
        public var archiveBytes: Int64
        /// Items of the archive found at the target with the same bytes (and, for messages, flags,
        /// keywords and date).
        public var matched: Int
        /// Items at the target that the archive does not hold (not a failure: the target may have had mail).
        public var extra: Int
        public var missing: [String]
        public var mismatched: [Mismatch]
        /// Items the import's target refused, within `--max-bad-items`: not at the target, listed with their
        /// reasons in `imported.badItems`, and not counted as missing.
        public var refused: [String] = []
        /// Messages the target holds in CRLF form whose archived line endings differed (LF-only mail from a Maildir
        /// or mbox into IMAP): compared, and counted in `matched`, in that form. Absent when none.
        public var lineEndingsConverted: Int?
        /// What the archive says about each entry listed in `missing`, `mismatched` and `refused` (subject, date,
        /// size), for people reading the report.
        public var details: [ItemDetail]?
        /// The items counted in `extra`, as the target has them: the first `listedExtraLimit` by date (a target that
        /// already held a large mailbox would otherwise list all of it).
        public var extraItems: [ItemDetail]?
        /// A folder's own properties (ACL, subscription, special use) at the target against the archive's, after
        /// the user mapping: one line per property compared or not held. Nil for address books, calendars and
        /// scripts, and in reports written before folder properties were compared.
        public var folderProperties: [FolderProperty]?

        /// Whether a folder property differs (which fails the user).
        public var propertiesDiffer: Bool { folderProperties?.contains { $0.outcome == .different } ?? false }

        public init(
            kind: String, name: String, archiveItems: Int, archiveBytes: Int64, matched: Int, extra: Int,
            missing: [String], mismatched: [Mismatch]
        ) {
            self.kind = kind
            self.name = name
            self.archiveItems = archiveItems
            self.archiveBytes = archiveBytes
            self.matched = matched
            self.extra = extra
            self.missing = missing
            self.mismatched = mismatched
        }
    }

    public struct Mismatch: Codable, Sendable {
        public var entry: String
        public var difference: String
        /// What differs, by name: `bytes`, `flags`, `keywords`, `date`, `name`, `active`.
        public var aspects: [String]?

        public init(entry: String, difference: String, aspects: [String]? = nil) {
            self.entry = entry
            self.difference = difference
            self.aspects = aspects
        }
    }

    /// One property of a folder as the archive has it (after the user mapping rewrote renamed users in its ACL) and
    /// as the target shows it.
    public struct FolderProperty: Codable, Sendable, Equatable {
        public enum Property: String, Codable, Sendable {
            /// The access rights, as `identifier rights` pairs (RFC 4314), rights letters compared as sets.
            case acl
            case subscribed
            /// RFC 6154 special use (`\Sent`).
            case specialUse
            /// An address book's or calendar's own properties (a DAV collection's): WebDAV `displayname`, the
            /// CardDAV/CalDAV description, the calendar's colour, time zone (compared by its TZID) and supported
            /// components (compared as a set).
            case displayName
            case collectionDescription = "description"
            case color
            case timeZone
            case components
        }

        public enum Outcome: String, Codable, Sendable {
            /// The same on both sides.
            case match
            /// Not as in the archive: fails the user.
            case different
            /// The target has more than the archive (a subscription or special use of its own, which an import does
            /// not take away): not a failure, as extra items are not.
            case extra
            /// The target cannot hold the property (`reason` says why): not compared, not a failure.
            case notHeld
        }

        public var property: Property
        public var outcome: Outcome
        /// The value in the archive and at the target, as people read it; `target` is nil when not held.
        public var archive: String
        public var target: String?
        /// Why the target does not hold the property, or what the target has beyond the archive.
        public var reason: String?
        /// The archive's folder, when the target holds it under another name (its own special-use folder).
        public var archiveFolder: String?

        public init(
            property: Property, outcome: Outcome, archive: String, target: String?, reason: String? = nil,
            archiveFolder: String? = nil
        ) {
            self.property = property
            self.outcome = outcome
            self.archive = archive
            self.target = target
            self.reason = reason
            self.archiveFolder = archiveFolder
        }

        /// One line for people: `subscribed: subscribed in the archive, not subscribed at the target`.
        public var description: String {
            let name = property.displayName
            switch outcome {
            case .match: return "\(name): \(archive), as in the archive"
            case .different: return "\(name): \(archive) in the archive, \(target ?? "nothing") at the target"
            case .extra:
                let why = reason.map { " (\($0))" } ?? ""
                return "\(name): \(archive) in the archive, \(target ?? "nothing") at the target\(why)"
            case .notHeld: return "\(name): \(archive) in the archive, not held by this target: \(reason ?? "")"
            }
        }
    }

    /// One item as a person recognises it: its subject (or contact names, event summary, script name), sender,
    /// date, size and hash. `entry` is the archive entry; nil for an item found only at the target.
    public struct ItemDetail: Codable, Sendable {
        public var entry: String?
        public var title: String
        public var from: String?
        public var date: String?
        public var size: Int64
        public var sha256: String

        public init(entry: String?, title: String, from: String?, date: String?, size: Int64, sha256: String) {
            self.entry = entry
            self.title = title
            self.from = from
            self.date = date
            self.size = size
            self.sha256 = sha256
        }
    }
}

extension ReconcileReport.FolderProperty.Property {
    /// The property as people name it.
    public var displayName: String {
        switch self {
        case .acl: return "ACL"
        case .subscribed: return "subscription"
        case .specialUse: return "special use"
        case .displayName: return "display name"
        case .collectionDescription: return "description"
        case .color: return "colour"
        case .timeZone: return "time zone"
        case .components: return "components"
        }
    }
}
