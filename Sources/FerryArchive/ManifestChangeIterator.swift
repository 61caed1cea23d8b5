import MailModel
import SystemLayer

/// Streams a delta's change lines from the verified manifest copy (they were checked when its head was read). One
/// user's lines (`VerifiedManifest.changes(of:)`) come first from those the manifest keeps decoded (`KeptChanges`),
/// then from the copy; a user read from its first line is kept for the next pass.
public final class ManifestChangeIterator {
    let lines: ManifestLineReader
    private let kept: KeptChanges
    /// Lines decoded before, served first.
    private let served: [ChangeRecord]
    private var nextServed = 0
    /// Lines still to decode from `lines`.
    private var remaining: Int
    /// The user whose whole run this reads from its first line (one the limit admits), collected to be kept at its
    /// end.
    private var keeping: Int?
    private var collected: [ChangeRecord] = []
    private var collectedEnd: Int64 = 0

    init(lines: ManifestLineReader, count: Int, kept: KeptChanges, served: [ChangeRecord] = [], keeping user: Int? = nil) {
        self.lines = lines
        self.kept = kept
        self.served = served
        self.remaining = count
        self.keeping = user
    }

    /// Where the line `next()` returned last lies in the manifest; nil for a line served from those kept decoded.
    public private(set) var lastLine: ManifestLineRef?

    public func next() throws -> ChangeRecord? {
        lastLine = nil
        if nextServed < served.count {
            nextServed += 1
            return served[nextServed - 1]
        }
        guard remaining > 0 else { return nil }
        guard case .change(let change)? = try lines.next() else {
            throw ArchiveError(.format, lines.location, "the change records end early")
        }
        remaining -= 1
        lastLine = lines.lastLine
        kept.countDecoded()
        if let user = keeping {
            collected.append(change)
            collectedEnd = lines.offset
            if remaining == 0 {
                kept.keep(KeptChanges.Run(user: user, records: collected, endOffset: collectedEnd))
                keeping = nil
                collected = []
            }
        }
        return change
    }
}

/// The checks one change line must pass (format-spec section 6.8).
enum ChangeCheck {
    /// `containers`: how many containers of each kind each user has (`"user/kind"`); they are numbered from 1.
    static func check(_ c: ChangeRecord, containers: [String: Int], location: String) throws {
        func fail(_ why: String) -> ArchiveError { ArchiveError(.format, location, "a \(c.op.rawValue) change record \(why)") }
        switch c.op {
        case .keep, .delete:
            guard let kind = c.kind, let key = c.sourceKey, !key.isEmpty, let origin = c.origin,
                Hex.isLowerHex(origin.archiveID, length: 32), EntryPath.isItemPath(origin.path),
                let sha = c.sha256, Hex.isLowerHex(sha, length: 64), let size = c.size, size >= 0
            else { throw fail("lacks its kind, sourceKey, origin, sha256 or size") }
            guard c.op == .keep else { return }
            let containerKind: ContainerRecord.Kind?
            let objectMatches: Bool
            switch kind {
            case .message: containerKind = .folder; objectMatches = c.message != nil
            case .contact: containerKind = .addressBook; objectMatches = c.contact != nil
            case .calendarItem: containerKind = .calendar; objectMatches = c.calendarItem != nil
            case .sieveScript: containerKind = nil; objectMatches = c.sieve != nil
            }
            guard objectMatches else { throw fail("does not carry the metadata object of its kind") }
            if let containerKind {
                guard let n = c.container, n >= 1, n <= containers["\(c.user)/\(containerKind.rawValue)"] ?? 0
                else { throw fail("names a container that is not listed") }
            } else if c.container != nil {
                throw fail("of a Sieve script names a container")
            }
        case .renameFolder:
            guard let from = c.from, let to = c.to, !from.isEmpty, !to.isEmpty, from != to else {
                throw fail("lacks from and to")
            }
        case .deleteFolder:
            guard let folder = c.folder, !folder.isEmpty else { throw fail("lacks the folder") }
        }
    }
}
