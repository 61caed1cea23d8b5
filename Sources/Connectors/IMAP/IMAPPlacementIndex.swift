import MailModel
import SystemLayer

/// Where one import placed each item (`IMAPImportJournal.Location` by entry path), read from its journal once and
/// kept compact, so that a delta finds every item it moves, reflags or deletes without reading the journal again.
///
/// Folder names are stored once each, and an entry's UIDs and size are packed into 24 bytes; a held hash (only
/// items whose bytes were converted on the way have one) is kept aside, as its 32 bytes when it is lowercase hex
/// (the only form this tool writes). An entry costs about 110 bytes with its key, so 200,000 items take about 22 MB.
struct IMAPPlacementIndex {
    private struct Placed {
        var folder: UInt32
        var uidValidity: UInt32
        var uid: UInt32
        /// Which of `uidValidity`, `uid` and `size` are set (`hasUIDValidity`, `hasUID`, `hasSize`).
        var present: UInt8
        var size: Int64

        static let hasUIDValidity: UInt8 = 1, hasUID: UInt8 = 2, hasSize: UInt8 = 4
    }

    private var folders = InternedValues<String>()
    private var placed: [String: Placed] = [:]
    private var digests: [String: SHA256Digest] = [:]
    /// Hashes not in the lowercase hex form, kept as written.
    private var otherHashes: [String: String] = [:]

    init() {}

    var count: Int { placed.count }
    /// The entry paths placed.
    var keys: some Collection<String> { placed.keys }

    subscript(entry: String) -> IMAPImportJournal.Location? {
        get {
            guard let p = placed[entry] else { return nil }
            var location = IMAPImportJournal.Location(
                folder: folders[p.folder], uidValidity: p.present & Placed.hasUIDValidity != 0 ? p.uidValidity : nil,
                uid: p.present & Placed.hasUID != 0 ? p.uid : nil)
            location.size = p.present & Placed.hasSize != 0 ? p.size : nil
            location.sha256 = digests[entry]?.hex ?? otherHashes[entry]
            return location
        }
        set {
            guard let location = newValue else {
                placed[entry] = nil
                digests[entry] = nil
                otherHashes[entry] = nil
                return
            }
            let digest = location.sha256.flatMap(SHA256Digest.init(hex:))
            digests[entry] = digest
            otherHashes[entry] = digest == nil ? location.sha256 : nil
            var present: UInt8 = 0
            if location.uidValidity != nil { present |= Placed.hasUIDValidity }
            if location.uid != nil { present |= Placed.hasUID }
            if location.size != nil { present |= Placed.hasSize }
            placed[entry] = Placed(
                folder: folders.number(for: location.folder), uidValidity: location.uidValidity ?? 0, uid: location.uid ?? 0,
                present: present, size: location.size ?? 0)
        }
    }
}
