import FerryArchive
import MailModel
import Reporting
import SystemLayer

/// Makes each imported user's identity map (`IdentityMap`): the manifest's folders and messages, with the source's
/// identity of each, joined by entry with where the import's target said it put them (`ImportCounts.placements`
/// and `folderPlacements`). Every row streams into `<prefix>.<address>.map.csv`; the first `rowLimit` message rows
/// are kept for the HTML page.
struct IdentityMapWriter {
    let manifest: VerifiedManifest
    let counts: ImportCounts
    let users: Set<Int>
    /// Nil writes no file (the page's rows only).
    let prefix: String?
    let rowLimit: Int

    static func csvPath(prefix: String, address: String) -> String {
        let safe = String(address.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
        return "\(prefix).\(safe).map.csv"
    }

    func write() throws -> [String: IdentityMap] {
        let placed = try counts.placements.index()
        let runs = try manifest.userEntries()
        let containers = Dictionary(grouping: manifest.containers.filter { $0.kind == .folder }, by: \.user)
        var maps: [String: IdentityMap] = [:]
        for user in manifest.users where users.contains(user.user) {
            var map = IdentityMap(address: user.address)
            let folderPlaced = Dictionary(
                (counts.folderPlacements[user.address] ?? []).map { ($0.source, $0) }, uniquingKeysWith: { first, _ in first })
            var folders: [Int: FolderInfo] = [:]
            var folderRows: [IdentityMap.Row] = []
            for container in containers[user.user] ?? [] {
                guard let folder = container.folder else { continue }
                folders[container.number] = folder
                folderRows.append(IdentityMap.folderRow(
                    source: folder.path, sourceGUID: folder.guid, sourceUIDValidity: folder.uidValidity,
                    placed: folderPlaced[folder.path]))
            }
            map.rows = folderRows
            map.folderCount = folderRows.count
            func messageRows(_ each: (IdentityMap.Row) throws -> Void) throws {
                guard let run = runs[user.user] else { return }
                let entries = manifest.entries(of: run)
                while let entry = try entries.next() {
                    guard entry.kind == .message, let message = entry.message else { continue }
                    let folder = entry.container.flatMap { folders[$0] }
                    try each(IdentityMap.messageRow(
                        sourceFolder: folder?.path ?? [], sourceUIDValidity: folder?.uidValidity, sourceUID: message.uid,
                        sourceGUID: message.guid, sourceKey: entry.sourceKey, entry: entry.path, placed: try placed.placement(of: entry.path)))
                }
            }
            func keep(_ row: IdentityMap.Row) {
                map.messageCount += 1
                if map.messageCount <= rowLimit { map.rows.append(row) }
            }
            if let prefix {
                let path = Self.csvPath(prefix: prefix, address: user.address)
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
            maps[user.address] = map
        }
        return maps
    }
}
