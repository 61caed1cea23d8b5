import GRDB
import SystemLayer

/// Brings the files in line with the committed rows when the spool is opened (before any writer exists).
/// The rules are in format-spec/buffer-spool.md, "Crash recovery".
enum SpoolRecovery {
    /// Every name in a spool directory, sorted (names that are not UTF-8 included, decoded with replacement).
    private static func names(in directory: String) throws -> [String] {
        let listing = try SpoolError.io { try SystemCall.listDirectory(directory) }
        return (listing.names + listing.undecodable).sorted()
    }

    static func run(layout: SpoolLayout, database: DatabaseQueue) throws -> RecoveryReport {
        var report = RecoveryReport()

        // 1. incoming/: nothing there was ever committed (commit renames first). Delete every temporary file.
        for name in try names(in: layout.incoming) {
            guard SpoolLayout.token(of: name, suffix: ".tmp") != nil else {
                report.unknownFiles.append("incoming/" + name)
                continue
            }
            try SpoolError.io { try SystemCall.unlinkIfPresent(layout.incoming + "/" + name) }
            report.discardedIncoming.append(name)
        }

        // 2. messages/ against the committed rows.
        let committed: [String: (MessageID, Int64)]
        do {
            committed = try database.read { db in
                var rows: [String: (MessageID, Int64)] = [:]
                let cursor = try Row.fetchCursor(db, sql: "SELECT seq, token, size FROM message")
                while let row = try cursor.next() {
                    rows[row["token"]] = (MessageID(rawValue: row["seq"]), row["size"])
                }
                return rows
            }
        } catch {
            throw SpoolError.from(error, databasePath: layout.database)
        }
        var present = Set<String>()
        for name in try names(in: layout.messages) {
            guard let token = SpoolLayout.token(of: name, suffix: ".eml") else {
                report.unknownFiles.append("messages/" + name)
                continue
            }
            if let (id, size) = committed[token] {
                present.insert(token)
                if let info = try SpoolError.io({ try SystemCall.lstatIfPresent(layout.messageFile(token)) }), Int64(info.st_size) != size {
                    report.wrongSize.append(id)
                }
            } else {
                // Renamed but its row never committed: the client never got 250.
                try SpoolError.io { try SystemCall.unlinkIfPresent(layout.messageFile(token)) }
                report.discardedUncommitted.append(name)
            }
        }
        report.missingFiles = committed.filter { !present.contains($0.key) }.map(\.value.0).sorted()
        report.wrongSize.sort()

        if !report.discardedIncoming.isEmpty { try SpoolError.io { try SystemCall.syncDirectory(layout.incoming) } }
        if !report.discardedUncommitted.isEmpty { try SpoolError.io { try SystemCall.syncDirectory(layout.messages) } }
        return report
    }
}
