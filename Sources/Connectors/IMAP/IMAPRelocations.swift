import Foundation
import MailModel
import SystemLayer

/// This station's record of where delta imports moved items and renamed folders on one server for one user, so
/// that a later delta finds them without searching. A `JSONLinesFile`, one line per move or rename, each synced
/// before the move or rename is counted as done.
final class IMAPRelocations {
    private struct Line: Codable {
        var archiveID: String?
        var entry: String?
        var folder: String?
        var renamedFrom: String?
        var renamedTo: String?
    }

    let path: String
    private var moved: [String: String] = [:]
    private var renames: [(from: String, to: String)] = []
    /// Opened at the first move or rename, then kept for the rest of the import.
    private var file: JSONLinesFile?

    init(directory: String, user: String, server: String) throws {
        path = directory + "/relocations/" + IMAPImportJournal.safeName(user.lowercased()) + "@" + IMAPImportJournal.safeName(server) + ".jsonl"
        // Files written before `JSONLinesFile` may hold a torn line glued to the next one: passed over, as always.
        let lines = try io("cannot read the relocation record") {
            try JSONLinesFile.read(path, as: Line.self, skippingDamagedLines: true)
        }
        for line in lines ?? [] { apply(line) }
    }

    private func apply(_ line: Line) {
        if let archiveID = line.archiveID, let entry = line.entry, let folder = line.folder {
            moved[archiveID + "\u{0}" + entry] = folder
        } else if let from = line.renamedFrom, let to = line.renamedTo {
            renames.append((from, to))
            for (k, v) in moved where v == from { moved[k] = to }
        }
    }

    func folder(of key: ItemKey) -> String? { moved[key.archiveID + "\u{0}" + key.entryPath] }

    /// A folder's name after the renames recorded since.
    func currentName(of folder: String) -> String {
        var name = folder
        for r in renames where name == r.from { name = r.to }
        return name
    }

    func recordMove(_ key: ItemKey, to folder: String) throws {
        try append(Line(archiveID: key.archiveID, entry: key.entryPath, folder: folder))
    }

    func recordRename(from: String, to: String) throws {
        try append(Line(renamedFrom: from, renamedTo: to))
    }

    private func append(_ line: Line) throws {
        try io("cannot write the relocation record") {
            if file == nil {
                _ = try FileSystem.makeDirectories(SystemCall.parentDirectory(of: path))
                file = try JSONLinesFile.open(path, replaying: Line.self, skippingDamagedLines: true).file
            }
            try file!.append(line, encoder: JSONEncoder())
        }
        apply(line)
    }

    private func io<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ConnectorError {
            throw error
        } catch let error as SystemError {
            throw ConnectorError(location: path, message: "\(what): \(error.operation) failed: \(error.reason)")
        } catch {
            throw ConnectorError(location: path, message: "\(what): \(error)")
        }
    }
}
