import MailModel
import SystemLayer

/// Streams a delta's change lines from the verified manifest copy (they were checked when its head was read).
public final class ManifestChangeIterator {
    let lines: ManifestLineReader
    private var remaining: Int

    init(lines: ManifestLineReader, count: Int) {
        self.lines = lines
        self.remaining = count
    }

    public func next() throws -> ChangeRecord? {
        guard remaining > 0 else { return nil }
        guard case .change(let change)? = try lines.next() else {
            throw ArchiveError(.format, lines.location, "the change records end early")
        }
        remaining -= 1
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
