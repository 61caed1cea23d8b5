import SystemLayer

/// Many `ItemKey`s held compactly: each archive id once, entry paths in a `TextArena`, a lowercase hex SHA-256 (the
/// only form this tool writes) as its 32 bytes. The reconcile after a delta asks where every kept message was
/// placed; as `[ItemKey]` a 200,000-message mailbox's keys took about 37 MB (four strings each), here about 14 MB.
public struct ItemKeyList: RandomAccessCollection, Sendable {
    private struct Row: Sendable {
        var archive: UInt32
        var path: TextArena.Text
        var size: Int64
        /// Nil for a hash not in lowercase hex form, which is kept in `otherHashes`.
        var digest: SHA256Digest?
    }

    private var archives: [String] = []
    private var archiveNumbers: [String: UInt32] = [:]
    private var paths = TextArena()
    private var rows: [Row] = []
    private var otherHashes: [Int: String] = [:]

    public init() {}

    public init(_ keys: some Sequence<ItemKey>) {
        for key in keys { append(key) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }

    public subscript(position: Int) -> ItemKey {
        let row = rows[position]
        return ItemKey(
            archiveID: archives[Int(row.archive)], entryPath: paths.string(row.path),
            sha256: row.digest?.hex ?? otherHashes[position] ?? "", size: row.size)
    }

    public mutating func append(_ key: ItemKey) {
        let archive: UInt32
        if let known = archiveNumbers[key.archiveID] {
            archive = known
        } else {
            archive = UInt32(archives.count)
            archives.append(key.archiveID)
            archiveNumbers[key.archiveID] = archive
        }
        let digest = SHA256Digest(hex: key.sha256)
        if digest == nil { otherHashes[rows.count] = key.sha256 }
        rows.append(Row(archive: archive, path: paths.add(key.entryPath.utf8), size: key.size, digest: digest))
    }
}
