import FerryArchive
import MailModel
import Reporting
import SystemLayer

/// Makes each imported user's identity map (`IdentityMap`): the manifest's folders and messages, with the source's
/// identity of each, joined by entry with where the import's target said it put them (`ImportCounts.placements`
/// and `folderPlacements`). Every row streams into `<prefix>.<address>.map.csv`; the first `rowLimit` message rows
/// are kept for the HTML page.
struct IdentityMapWriter {
    /// One archive, or each volume of a volume set with what its import did (`Reconciler.Part` names entries the same
    /// way: `prefix` + entry path).
    struct Part {
        let manifest: VerifiedManifest
        let counts: ImportCounts
        let users: Set<Int>
        var prefix = ""
    }

    let parts: [Part]
    /// Nil writes no file (the page's rows only).
    let prefix: String?
    let rowLimit: Int

    init(manifest: VerifiedManifest, counts: ImportCounts, users: Set<Int>, prefix: String?, rowLimit: Int) {
        self.init(parts: [Part(manifest: manifest, counts: counts, users: users)], prefix: prefix, rowLimit: rowLimit)
    }

    /// A user that spans volumes gets one map: the folders once, each volume's messages in turn.
    init(parts: [Part], prefix: String?, rowLimit: Int) {
        self.parts = parts
        self.prefix = prefix
        self.rowLimit = rowLimit
    }

    static func csvPath(prefix: String, address: String) -> String {
        let safe = String(address.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
        return "\(prefix).\(safe).map.csv"
    }

    func write() throws -> [String: IdentityMap] {
        let placed = try parts.map { try $0.counts.placements.index() }
        let runs = try parts.map { try $0.manifest.userEntries() }
        let containers = parts.map { Dictionary(grouping: $0.manifest.containers.filter { $0.kind == .folder }, by: \.user) }
        var maps: [String: IdentityMap] = [:]
        for held in UsersAcrossArchives.group(parts.map { ($0.manifest, $0.users) }) {
            let address = held[0].record.address
            var map = IdentityMap(address: address)
            let folderPlaced = Dictionary(
                held.flatMap { parts[$0.part].counts.folderPlacements[address] ?? [] }.map { ($0.source, $0) },
                uniquingKeysWith: { first, _ in first })
            var folders: [[Int: FolderInfo]] = Array(repeating: [:], count: parts.count)
            var folderRows: [IdentityMap.Row] = []
            var listed = Set<[String]>()
            for h in held {
                for container in containers[h.part][h.record.user] ?? [] {
                    guard let folder = container.folder else { continue }
                    folders[h.part][container.number] = folder
                    // A folder a later volume declares again is listed once.
                    guard listed.insert(folder.path).inserted else { continue }
                    folderRows.append(IdentityMap.folderRow(
                        source: folder.path, sourceGUID: folder.guid, sourceUIDValidity: folder.uidValidity,
                        placed: folderPlaced[folder.path]))
                }
            }
            map.rows = folderRows
            map.folderCount = folderRows.count
            func messageRows(_ each: (IdentityMap.Row) throws -> Void) throws {
                for h in held {
                    guard let run = runs[h.part][h.record.user] else { continue }
                    let entries = parts[h.part].manifest.entries(of: run)
                    while let entry = try entries.next() {
                        guard entry.kind == .message, let message = entry.message else { continue }
                        let folder = entry.container.flatMap { folders[h.part][$0] }
                        try each(IdentityMap.messageRow(
                            sourceFolder: folder?.path ?? [], sourceUIDValidity: folder?.uidValidity, sourceUID: message.uid,
                            sourceGUID: message.guid, sourceKey: entry.sourceKey, entry: parts[h.part].prefix + entry.path,
                            placed: try placed[h.part].placement(of: entry.path)))
                    }
                }
            }
            func keep(_ row: IdentityMap.Row) {
                map.messageCount += 1
                if map.messageCount <= rowLimit { map.rows.append(row) }
            }
            if let prefix {
                let path = Self.csvPath(prefix: prefix, address: address)
                try FerryError.io {
                    try AtomicReplace.write(to: path, mode: 0o644) { sink in
                        var buffer: [UInt8] = []
                        func add(_ row: [String]) throws {
                            buffer += Array(IdentityMap.csvLine(row).utf8)
                            if buffer.count >= 1 << 16 {
                                try buffer.withUnsafeBytes { try sink($0) }
                                buffer.removeAll(keepingCapacity: true)
                            }
                        }
                        try add(IdentityMap.columns)
                        for row in folderRows { try add(row.values) }
                        try messageRows { row in
                            keep(row)
                            try add(row.values)
                        }
                        try buffer.withUnsafeBytes { try sink($0) }
                    }
                }
                map.csvPath = path
            } else {
                try messageRows { keep($0) }
            }
            maps[address] = map
        }
        return maps
    }
}
