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

    public enum Verdict: String, Codable, Sendable { case pass, fail }

    public struct ImportCounts: Codable, Sendable {
        public var written = 0
        public var alreadyPresent = 0
        public var bytesWritten: Int64 = 0
        public var seconds: Double = 0
        /// Items the target refused, with its reasons (counted against --max-bad-items).
        public var badItems: [BadItem] = []
        /// Where each written item is at the target, where the target says (IMAP APPENDUID).
        public var placements: [ItemPlacement] = []
        /// For a delta archive: the changes applied to items and folders already at the target.
        public var changes: DeltaImportCounts?
        /// What the user mapping rewrote on the way in (ACL identifiers, contact EMAIL, event ORGANIZER and
        /// ATTENDEE naming renamed users), one line each.
        public var rewritten: [String] = []
        /// Items written with rewritten bytes, and the hash the target holds for each instead of the archive's.
        public var rewrittenItems: [RewrittenItem] = []
        /// Messages written in CRLF form (`CRLFForm`) because the target holds that form and the archive's line
        /// endings differed, with the hash the target holds for each.
        public var convertedItems: [RewrittenItem] = []

        public init() {}

        private enum CodingKeys: String, CodingKey {
            case written, alreadyPresent, bytesWritten, seconds, badItems, placements, rewritten, rewrittenItems, convertedItems, changes
        }

        /// Reads reports written before the lists were added: a missing list is empty.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            written = try c.decode(Int.self, forKey: .written)
            alreadyPresent = try c.decode(Int.self, forKey: .alreadyPresent)
            bytesWritten = try c.decode(Int64.self, forKey: .bytesWritten)
            seconds = try c.decode(Double.self, forKey: .seconds)
            badItems = try c.decodeIfPresent([BadItem].self, forKey: .badItems) ?? []
            placements = try c.decodeIfPresent([ItemPlacement].self, forKey: .placements) ?? []
            rewritten = try c.decodeIfPresent([String].self, forKey: .rewritten) ?? []
            rewrittenItems = try c.decodeIfPresent([RewrittenItem].self, forKey: .rewrittenItems) ?? []
            convertedItems = try c.decodeIfPresent([RewrittenItem].self, forKey: .convertedItems) ?? []
            changes = try c.decodeIfPresent(DeltaImportCounts.self, forKey: .changes)
        }

        /// Adds another part's counts (a user imported by another job); `seconds` stays this one's.
        mutating func add(_ other: ImportCounts) {
            written += other.written
            alreadyPresent += other.alreadyPresent
            bytesWritten += other.bytesWritten
            badItems += other.badItems
            placements += other.placements
            rewritten += other.rewritten
            rewrittenItems += other.rewrittenItems
            convertedItems += other.convertedItems
        }

        /// Takes what a user's target reports once it finished: placements, refused and converted items.
        mutating func collect(from target: any UserMailboxTarget) {
            placements += target.placements
            badItems += target.badItems
            convertedItems += target.convertedItems
        }
    }

    public struct UserReport: Codable, Sendable {
        public var address: String
        /// The user's address at the target, when the migration renames the user.
        public var targetAddress: String?
        public var verdict: Verdict
        public var archive: Counts
        public var target: Counts
        public var containers: [ContainerReport]
        public var problems: [String]
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
        /// The items counted in `extra`, as the target has them.
        public var extraItems: [ItemDetail]?
    }

    public struct Mismatch: Codable, Sendable {
        public var entry: String
        public var difference: String
        /// What differs, by name: `bytes`, `flags`, `keywords`, `date`, `name`, `active`.
        public var aspects: [String]?
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
    }
}
