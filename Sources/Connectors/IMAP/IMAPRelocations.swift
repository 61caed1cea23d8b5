import Foundation
import MailModel
import SystemLayer

/// This station's record of where delta imports moved items and renamed folders on one server for one user, so
/// that a later delta finds them without searching. A `JSONLinesFile`, one line per move or rename, synced before
/// the move or rename is counted as done (the moves one command made, together). A move records the item's UID in
/// its new folder and that folder's UIDVALIDITY when the server said them (COPYUID, RFC 4315).
final class IMAPRelocations {
    private struct Line: Codable {
        var archiveID: String?
        var entry: String?
        var folder: String?
        var uidValidity: UInt32?
        var uid: UInt32?
        var renamedFrom: String?
        var renamedTo: String?
    }

    let path: String
    private var moved: [String: String] = [:]
    /// A moved item's UIDVALIDITY and UID in its folder, where the server said them.
    private var movedUIDs: [String: (uidValidity: UInt32, uid: UInt32)] = [:]
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
            let id = archiveID + "\u{0}" + entry
            moved[id] = folder
            if let uidValidity = line.uidValidity, let uid = line.uid {
                movedUIDs[id] = (uidValidity, uid)
            } else {
                movedUIDs[id] = nil
            }
        } else if let from = line.renamedFrom, let to = line.renamedTo {
            renames.append((from, to))
            for (k, v) in moved where v == from { moved[k] = to }
        }
    }

    func folder(of key: ItemKey) -> String? { moved[key.archiveID + "\u{0}" + key.entryPath] }

    /// The UIDVALIDITY and UID the item was given where it was last moved, when the server said them.
    func uid(of key: ItemKey) -> (uidValidity: UInt32, uid: UInt32)? { movedUIDs[key.archiveID + "\u{0}" + key.entryPath] }

    /// A folder's name after the renames recorded since.
    func currentName(of folder: String) -> String {
        var name = folder
        for r in renames where name == r.from { name = r.to }
        return name
    }

    func recordMove(_ key: ItemKey, to folder: String, uidValidity: UInt32? = nil, uid: UInt32? = nil) throws {
        try recordMoves([(key, uidValidity.flatMap { v in uid.map { (v, $0) } })], to: folder)
    }

    /// The moves one command made into `folder`, in one write and one fsync; each with its new UID where known.
    func recordMoves(_ moves: [(key: ItemKey, placed: (uidValidity: UInt32, uid: UInt32)?)], to folder: String) throws {
        try append(moves.map {
            Line(archiveID: $0.key.archiveID, entry: $0.key.entryPath, folder: folder, uidValidity: $0.placed?.uidValidity, uid: $0.placed?.uid)
        })
    }

    func recordRename(from: String, to: String) throws {
        try append([Line(renamedFrom: from, renamedTo: to)])
    }

    private func append(_ lines: [Line]) throws {
        guard !lines.isEmpty else { return }
        try io("cannot write the relocation record") {
            if file == nil {
                _ = try FileSystem.makeDirectories(SystemCall.parentDirectory(of: path))
                file = try JSONLinesFile.open(path, replaying: Line.self, skippingDamagedLines: true).file
            }
            try file!.append(contentsOf: lines, encoder: JSONEncoder())
        }
        for line in lines { apply(line) }
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
