import Foundation
import MailModel
import SystemLayer

/// The importing station's memory of the contacts and calendar items the user mapping rewrote, per target:
/// archived SHA-256 to the SHA-256 the target holds. A delta's reconcile needs it, because an item a delta only
/// keeps was rewritten by an earlier import whose bytes the delta does not carry. JSON Lines beside the import
/// ledger (`JSONLinesFile`), appended and synced; small (a line per rewritten item).
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

    /// Archived SHA-256 to the SHA-256 held at `target`; empty when the file is missing or cannot be read.
    public func held(at target: String) -> [String: String] {
        // Files written before `JSONLinesFile` may hold a torn line glued to the next one: passed over, as always.
        guard let lines = try? JSONLinesFile.read(path, as: Line.self, skippingDamagedLines: true) else { return [:] }
        return Self.map(lines, at: target)
    }

    private static func map(_ lines: [Line], at target: String) -> [String: String] {
        var map: [String: String] = [:]
        for l in lines where l.target == target { map[l.archived] = l.held }
        return map
    }

    /// Records the rewrites of one import (those not recorded yet), in one durable append.
    public func record(_ items: [RewrittenItem], target: String) throws {
        guard items.contains(where: { $0.archivedSHA256 != nil }) else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let (file, lines) = try JSONLinesFile.open(path, replaying: Line.self, skippingDamagedLines: true)
            let known = Self.map(lines, at: target)
            let new = items.filter { item in item.archivedSHA256.map { known[$0] != item.sha256 } ?? false }
            guard !new.isEmpty else { return }
            try file.append(contentsOf: new.map { Line(target: target, archived: $0.archivedSHA256!, held: $0.sha256) }, encoder: encoder)
        } catch {
            throw FerryError(.ioError, "\(path): cannot record the rewritten items: \(error)")
        }
    }
}
