import FerryArchive
import MailModel

/// What `export` did.
public struct ExportSummary: Codable, Sendable {
    public var archive: String
    public var archiveID: String
    public var signerKeyID: String
    public var users: [String]
    public var totals: Counts
    public var fileSize: Int64
    public var frames: Int
    public var warnings: [SourceProblem]
    public var seconds: Double
    /// For a delta (`--since`): the archive it builds on, its place in the chain and what changed.
    public var deltaOf: String?
    public var sequence: Int = 1
    public var changes: DeltaCounts?
    /// For a volume set (`--volume-size`): its volumes, in order; `archive` is then the set statement and `archiveID`
    /// the set's id.
    public var volumes: [Volume]?

    public struct Volume: Codable, Sendable {
        public var path: String
        public var archiveID: String
        public var fileSize: Int64
    }
}
