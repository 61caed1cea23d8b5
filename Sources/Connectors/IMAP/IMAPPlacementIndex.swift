import MailModel
import SystemLayer

/// Where one import placed each item (`IMAPImportJournal.Location` by entry path), read from its journal once and
/// kept compact, so that a delta finds every item it moves, reflags or deletes without reading the journal again.
///
/// Kept as rows of 40 bytes: an entry's folder (each name stored once), UIDs and size packed, and its entry path in
/// a `TextArena` (no string each). Rows are found through a table from the path's 64-bit hash to a row, with a
/// chain for paths that share a hash, so a lookup compares the path itself. A held hash (only items whose bytes
/// were converted on the way have one) is kept aside, as its 32 bytes when it is lowercase hex (the only form this
/// tool writes). An entry costs about 60 bytes, so 200,000 items take about 12 MB; as a dictionary by path string
/// they took 45 MB.
struct IMAPPlacementIndex {
    private struct Placed {
        var folder: UInt32
        var uidValidity: UInt32
        var uid: UInt32
        /// Which of `uidValidity`, `uid` and `size` are set (`hasUIDValidity`, `hasUID`, `hasSize`), or `removed`.
        var present: UInt8
        var size: Int64
        var path: TextArena.Text

        static let hasUIDValidity: UInt8 = 1, hasUID: UInt8 = 2, hasSize: UInt8 = 4, removed: UInt8 = 0x80
    }

    private var folders = InternedValues<String>()
    private var rows: [Placed] = []
    private var paths = TextArena()
    /// A path's hash to its first row; `nextRow` chains the rows of paths sharing a hash (-1 ends a chain).
    private var firstRow: [UInt64: Int32] = [:]
    private var nextRow: [Int32] = []
    private var digests: [Int32: SHA256Digest] = [:]
    /// Hashes not in the lowercase hex form, kept as written.
    private var otherHashes: [Int32: String] = [:]
    private(set) var count = 0
    private let hash: (String) -> UInt64

    /// `hash`: the process's own by default (`Hasher`, randomly seeded); a test gives one under which paths collide.
    init(hash: @escaping (String) -> UInt64 = ProcessHash.of) {
        self.hash = hash
    }


    /// The row holding `entry`, if any (removed rows are unlinked, so never found).
    private func row(of entry: String, hash h: UInt64) -> Int32? {
        var r = firstRow[h] ?? -1
        while r >= 0 {
            if paths.equals(rows[Int(r)].path, entry) { return r }
            r = nextRow[Int(r)]
        }
        return nil
    }

    /// The entry paths placed.
    var keys: [String] {
        rows.filter { $0.present & Placed.removed == 0 }.map { paths.string($0.path) }
    }

    subscript(entry: String) -> IMAPImportJournal.Location? {
        get {
            guard let r = row(of: entry, hash: hash(entry)) else { return nil }
            let p = rows[Int(r)]
            var location = IMAPImportJournal.Location(
                folder: folders[p.folder], uidValidity: p.present & Placed.hasUIDValidity != 0 ? p.uidValidity : nil,
                uid: p.present & Placed.hasUID != 0 ? p.uid : nil)
            location.size = p.present & Placed.hasSize != 0 ? p.size : nil
            location.sha256 = digests[r]?.hex ?? otherHashes[r]
            return location
        }
        set {
            let h = hash(entry)
            let existing = row(of: entry, hash: h)
            guard let location = newValue else {
                if let r = existing { unlink(r, hash: h) }
                return
            }
            var present: UInt8 = 0
            if location.uidValidity != nil { present |= Placed.hasUIDValidity }
            if location.uid != nil { present |= Placed.hasUID }
            if location.size != nil { present |= Placed.hasSize }
            let r: Int32
            if let existing {
                r = existing
                rows[Int(r)].folder = folders.number(for: location.folder)
                rows[Int(r)].uidValidity = location.uidValidity ?? 0
                rows[Int(r)].uid = location.uid ?? 0
                rows[Int(r)].present = present
                rows[Int(r)].size = location.size ?? 0
            } else {
                r = Int32(rows.count)
                rows.append(Placed(
                    folder: folders.number(for: location.folder), uidValidity: location.uidValidity ?? 0,
                    uid: location.uid ?? 0, present: present, size: location.size ?? 0, path: paths.add(entry.utf8)))
                nextRow.append(firstRow[h] ?? -1)
                firstRow[h] = r
                count += 1
            }
            let digest = location.sha256.flatMap(SHA256Digest.init(hex:))
            digests[r] = digest
            otherHashes[r] = digest == nil ? location.sha256 : nil
        }
    }

    /// Takes row `r` out of its chain and marks it removed (its bytes stay in the arena).
    private mutating func unlink(_ r: Int32, hash h: UInt64) {
        if firstRow[h] == r {
            let next = nextRow[Int(r)]
            firstRow[h] = next >= 0 ? next : nil
        } else {
            var p = firstRow[h] ?? -1
            while p >= 0, nextRow[Int(p)] != r { p = nextRow[Int(p)] }
            if p >= 0 { nextRow[Int(p)] = nextRow[Int(r)] }
        }
        rows[Int(r)].present |= Placed.removed
        digests[r] = nil
        otherHashes[r] = nil
        count -= 1
    }
}
