import MailModel

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
        var digest: Digest?
    }

    /// A SHA-256 as four words.
    private struct Digest: Hashable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64

        init?(hex: String) {
            var words: [UInt64] = []
            words.reserveCapacity(4)
            var word: UInt64 = 0
            var count = 0
            for byte in hex.utf8 {
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                word = word << 4 | UInt64(nibble)
                count += 1
                if count % 16 == 0 {
                    words.append(word)
                    word = 0
                }
            }
            guard count == 64 else { return nil }
            (a, b, c, d) = (words[0], words[1], words[2], words[3])
        }

        var hex: String {
            var text = ""
            text.reserveCapacity(64)
            for word in [a, b, c, d] {
                let digits = String(word, radix: 16)
                text += String(repeating: "0", count: 16 - digits.count) + digits
            }
            return text
        }
    }

    private var folders = InternedValues<String>()
    private var placed: [String: Placed] = [:]
    /// Hashes not in the lowercase hex form, kept as written.
    private var otherHashes: [String: String] = [:]

    init() {}

    var count: Int { placed.count }

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
            let digest = location.sha256.flatMap(Digest.init(hex:))
            otherHashes[entry] = digest == nil ? location.sha256 : nil
            placed[entry] = Placed(folder: folder, uidValidity: location.uidValidity, uid: location.uid, size: location.size, digest: digest)
        }
    }
}
