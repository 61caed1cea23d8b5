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
    /// Each imported user's identity map, by address, for the HTML page; not part of the JSON (its CSV files are,
    /// and `imported.placements` holds the target's side).
    public var identityMaps: [String: IdentityMap] = [:]

    private enum CodingKeys: String, CodingKey {
        case format, version, archive, archiveID, manifestSHA256, signerKeyID, target, created, verdict, users, imported
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
        /// The items counted in `extra`, as the target has them.
        public var extraItems: [ItemDetail]?

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
