import MailModel
import SystemLayer

/// Where one import placed each item (`IMAPImportJournal.Location` by entry path), read from its journal once and
/// kept compact, so that a delta finds every item it moves, reflags or deletes without reading the journal again.
///
/// Folder names are stored once each; a lowercase hex SHA-256 (the only form this tool writes) is kept as its 32
/// bytes. An entry costs about 190 bytes with its key (80 for the value, the rest the entry path and the table),
/// so 200,000 items take about 38 MB.
struct IMAPPlacementIndex {
    private struct Placed {
        var folder: UInt32
        var uidValidity: UInt32?
        var uid: UInt32?
        var size: Int64?
        var digest: SHA256Digest?
    }

    private var folders = InternedValues<String>()
    private var placed: [String: Placed] = [:]
    /// Hashes not in the lowercase hex form, kept as written.
    private var otherHashes: [String: String] = [:]

    init() {}

    var count: Int { placed.count }
    /// The entry paths placed.
    var keys: some Collection<String> { placed.keys }

    subscript(entry: String) -> IMAPImportJournal.Location? {
        get {
            guard let p = placed[entry] else { return nil }
            var location = IMAPImportJournal.Location(folder: folders[p.folder], uidValidity: p.uidValidity, uid: p.uid)
            location.size = p.size
            location.sha256 = p.digest?.hex ?? otherHashes[entry]
            return location
        }
        set {
            guard let location = newValue else {
                placed[entry] = nil
                otherHashes[entry] = nil
                return
            }
            let folder = folders.number(for: location.folder)
            let digest = location.sha256.flatMap(SHA256Digest.init(hex:))
            otherHashes[entry] = digest == nil ? location.sha256 : nil
            placed[entry] = Placed(folder: folder, uidValidity: location.uidValidity, uid: location.uid, size: location.size, digest: digest)
        }
    }
}
