import SystemLayer

/// Where the messages a `MaildirTarget` wrote are, by the digest in their names (`ItemKeyDigest`): a folder's
/// committed files, or every folder's for a delta. A table of path strings cost about 200 bytes a message (90 MB at
/// 200,000 for the two a delta builds); this one keeps a file in the name form the target writes,
/// `SECONDS.MF<digest>.mailferry,S=SIZE[:2,FLAGS]`, as its numbers and flags in about 60 bytes, in an array sorted by
/// digest once the folders are scanned. Files named otherwise (renamed by hand or by another program), changes made
/// after the scan (a delta's moves and deletions), and digests that are not 32 hex digits are kept as paths beside it.
struct MaildirFileIndex {
    private struct Key: Comparable {
        var high: UInt64
        var low: UInt64
        static func < (a: Key, b: Key) -> Bool { (a.high, a.low) < (b.high, b.low) }

        /// From 32 lowercase hex digits; nil for anything else.
        init?(_ hex: String) {
            guard let words = Hex.words(hex, count: 2) else { return nil }
            (high, low) = (words[0], words[1])
        }
    }

    /// A file in the target's own name form, by its parts.
    private struct File {
        var key: Key
        var seconds: Int64
        var size: Int64
        /// The letters after `:2,` (nil for a name without them, as in `new/`). Short: stored inline.
        var flags: String?
        /// Its directory (`…/cur` or `…/new`), by number.
        var directory: UInt32
    }

    private var directories: [String] = []
    private var directoryNumbers: [String: UInt32] = [:]
    private var files: [File] = []
    /// Paths that are not in `files`: other names, and everything set after the scan (nil: removed).
    private var paths: [String: String?] = [:]

    /// Adds what a scan found; `finishScan` must follow before lookups.
    mutating func scanned(digest: String, directory: String, name: String) {
        if let key = Key(digest), let file = Self.parse(name, key: key, digest: digest, directory: number(of: directory)) {
            files.append(file)
        } else {
            paths[digest] = .some("\(directory)/\(name)")
        }
    }

    /// Sorts what was scanned; a digest found twice keeps its last file, as a table would.
    mutating func finishScan() {
        files.sort { $0.key < $1.key }
        var kept: [File] = []
        kept.reserveCapacity(files.count)
        for file in files {
            if let last = kept.last, last.key == file.key { kept[kept.count - 1] = file } else { kept.append(file) }
        }
        files = kept
    }

    subscript(digest: String) -> String? {
        get {
            if let changed = paths[digest] { return changed }
            guard let key = Key(digest), let file = find(key) else { return nil }
            return "\(directories[Int(file.directory)])/\(Self.name(of: file, digest: digest))"
        }
        set { paths[digest] = .some(newValue) }
    }

    private func find(_ key: Key) -> File? {
        var low = 0
        var high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].key < key { low = mid + 1 } else { high = mid }
        }
        return low < files.count && files[low].key == key ? files[low] : nil
    }

    private mutating func number(of directory: String) -> UInt32 {
        if let known = directoryNumbers[directory] { return known }
        directories.append(directory)
        directoryNumbers[directory] = UInt32(directories.count - 1)
        return UInt32(directories.count - 1)
    }

    private static func name(of file: File, digest: String) -> String {
        "\(file.seconds).\(MaildirTarget.digestPrefix)\(digest).mailferry,S=\(file.size)" + (file.flags.map { ":2,\($0)" } ?? "")
    }

    /// The parts of `name` when it is exactly in the target's form (it is written back from them and compared).
    private static func parse(_ name: String, key: Key, digest: String, directory: UInt32) -> File? {
        let utf8 = Array(name.utf8)
        guard let dot = utf8.firstIndex(of: UInt8(ascii: ".")), let seconds = Int64(String(decoding: utf8[..<dot], as: UTF8.self))
        else { return nil }
        let marker = Array(",S=".utf8)
        guard let sizeStart = Self.firstIndex(of: marker, in: utf8) else { return nil }
        var end = sizeStart + marker.count
        while end < utf8.count, utf8[end] >= UInt8(ascii: "0"), utf8[end] <= UInt8(ascii: "9") { end += 1 }
        guard let size = Int64(String(decoding: utf8[(sizeStart + marker.count)..<end], as: UTF8.self)) else { return nil }
        var flags: String?
        if end < utf8.count {
            let info = Array(":2,".utf8)
            guard utf8.count - end >= info.count, Array(utf8[end..<end + info.count]) == info else { return nil }
            flags = String(decoding: utf8[(end + info.count)...], as: UTF8.self)
            // Longer letters would take a string of their own: keep the path instead.
            guard flags!.utf8.count <= 15 else { return nil }
        }
        let file = File(key: key, seconds: seconds, size: size, flags: flags, directory: directory)
        return Self.name(of: file, digest: digest) == name ? file : nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}

