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

        /// Adds another part's counts (a user imported by another job); `seconds` stays this one's.
        mutating func add(_ other: ImportCounts) {
            written += other.written
            alreadyPresent += other.alreadyPresent
            bytesWritten += other.bytesWritten
            badItems += other.badItems
            placements += other.placements
        }
    }

    public struct UserReport: Codable, Sendable {
        public var address: String
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
    }

    public struct Mismatch: Codable, Sendable {
        public var entry: String
        public var difference: String
    }
}
