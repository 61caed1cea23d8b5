import MailModel

/// What an import did at the target, beside the reconcile that follows it: items written and already there, where
/// they went, what the target refused, and what it holds in another form than the archive's.
public struct ImportCounts: Codable, Sendable {
    public var written = 0
    public var alreadyPresent = 0
    public var bytesWritten: Int64 = 0
    public var seconds: Double = 0
    /// Items the target refused, with its reasons (counted against --max-bad-items).
    public var badItems: [BadItem] = []
    /// Items of a kind the target does not hold (Sieve scripts for an IMAP server, mail for a ManageSieve server),
    /// left out: `folder` names the kind. The reconcile fails the user while any are left behind.
    public var notImported: [BadItem] = []
    /// Where each written item is at the target, where the target says (IMAP APPENDUID, a Maildir's UID and file).
    /// Not in the JSON report: the identity map's CSV beside it holds these rows, joined with the source's identity
    /// of each item, and a report of a large mailbox stays small.
    public var placements = PlacementLog()
    /// Where each user's folders are at the target, by the user's address in the archive.
    public var folderPlacements: [String: [FolderPlacement]] = [:]
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
        // Not `placements`: the identity map's CSV files hold them.
        case written, alreadyPresent, bytesWritten, seconds, badItems, folderPlacements, rewritten, rewrittenItems
        case convertedItems, changes, notImported
    }

    /// Reads reports written before the lists were added: a missing list is empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        written = try c.decode(Int.self, forKey: .written)
        alreadyPresent = try c.decode(Int.self, forKey: .alreadyPresent)
        bytesWritten = try c.decode(Int64.self, forKey: .bytesWritten)
        seconds = try c.decode(Double.self, forKey: .seconds)
        badItems = try c.decodeIfPresent([BadItem].self, forKey: .badItems) ?? []
        notImported = try c.decodeIfPresent([BadItem].self, forKey: .notImported) ?? []
        folderPlacements = try c.decodeIfPresent([String: [FolderPlacement]].self, forKey: .folderPlacements) ?? [:]
        rewritten = try c.decodeIfPresent([String].self, forKey: .rewritten) ?? []
        rewrittenItems = try c.decodeIfPresent([RewrittenItem].self, forKey: .rewrittenItems) ?? []
        convertedItems = try c.decodeIfPresent([RewrittenItem].self, forKey: .convertedItems) ?? []
        changes = try c.decodeIfPresent(DeltaImportCounts.self, forKey: .changes)
    }
}

/// What applying a delta's change lines did at the target.
public struct DeltaImportCounts: Codable, Sendable {
    public var movedOrFlagged = 0
    public var unchanged = 0
    /// `keep` lines whose item the target does not have (reconcile reports them missing).
    public var notFound = 0
    public var deleted = 0
    public var renamedFolders = 0
    public var deletedFolders = 0
    public init() {}
}
