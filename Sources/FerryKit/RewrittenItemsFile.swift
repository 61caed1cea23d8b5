import Foundation
import MailModel

/// The importing station's memory of the contacts and calendar items the user mapping rewrote, per target:
/// archived SHA-256 to the SHA-256 the target holds. A delta's reconcile needs it, because an item a delta only
/// keeps was rewritten by an earlier import whose bytes the delta does not carry. JSON Lines beside the import
/// ledger, appended and synced; small (a line per rewritten item).
public final class RewrittenItemsFile {
    struct Line: Codable {
        var target: String
        var archived: String
        var held: String
    }

    public static let fileName = "rewritten-items.jsonl"
    public let path: String

    public init(directory: String) {
        path = directory + "/" + Self.fileName
    }

    /// Archived SHA-256 to the SHA-256 held at `target`.
    public func held(at target: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var map: [String: String] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let l = try? decoder.decode(Line.self, from: Data(line)), l.target == target else { continue }
            map[l.archived] = l.held
        }
        return map
    }

    /// Records the rewrites of one import (those not recorded yet).
    public func record(_ items: [RewrittenItem], target: String) throws {
        let known = held(at: target)
        let new = items.filter { item in item.archivedSHA256.map { known[$0] != item.sha256 } ?? false }
        guard !new.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Data()
        for item in new {
            bytes += try encoder.encode(Line(target: target, archived: item.archivedSHA256!, held: item.sha256))
            bytes.append(UInt8(ascii: "\n"))
        }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
        } catch {
            throw FerryError(.ioError, "\(path): cannot record the rewritten items: \(error.localizedDescription)")
        }
    }
}
