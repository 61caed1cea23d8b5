import Foundation
import MailModel
import SystemLayer

/// The importing station's record of what one import has placed on an IMAP server, per archive, user and server:
/// what makes a re-run add nothing and a killed import finish without duplicates.
///
/// An IMAP server cannot be asked "did my last APPEND land?", and the client cannot make an APPEND and a local
/// write atomic. So the journal is allowed to be behind the server by a known amount, and only that amount is ever
/// looked up on the server:
/// - an item's line is written when the server has confirmed its APPEND (tagged OK), and lines reach the disk in
///   groups of `syncInterval`;
/// - at most `window` APPENDs are in flight at once;
/// - the archive is imported in one order, so after a crash every item that may be on the server without a durable
///   line is among the first `window + syncInterval` items without a line. A resumed import looks those up on the
///   server (size, then the SHA-256 of candidates' bytes) before appending, and writes each answer durably at once;
/// - a run that ended cleanly writes `finished`, and the next run looks nothing up.
///
/// The file is JSON Lines (`JSONLinesFile`); a torn last line (a crash while writing) is cut off.
public final class IMAPImportJournal {
    /// Where one item now is on the server, from APPENDUID (RFC 4315); uid and uidValidity are nil when the server
    /// did not say or when the item was found by a lookup.
    public struct Location: Codable, Sendable, Equatable {
        public var folder: String
        public var uidValidity: UInt32?
        public var uid: UInt32?
        /// The size and SHA-256 of the bytes the server holds, where they differ from the archive's (a message whose
        /// line endings were made CRLF, `CRLFForm`): what a later delta looks the item up by.
        public var size: Int64?
        public var sha256: String?
        public init(folder: String, uidValidity: UInt32?, uid: UInt32?, held: ItemKey? = nil) {
            self.folder = folder
            self.uidValidity = uidValidity
            self.uid = uid
            size = held?.size
            sha256 = held?.sha256
        }

        /// `key` with the size and hash of the bytes the server holds.
        public func held(_ key: ItemKey) -> ItemKey {
            guard let size, let sha256 else { return key }
            return ItemKey(archiveID: key.archiveID, entryPath: key.entryPath, sha256: sha256, size: size)
        }
    }

    private struct Line: Codable, JSONLineFastDecodable {
        /// The archive entry path, or nil for a `finished` or `started` marker.
        var entry: String?
        var location: Location?
        /// The server refused the entry (a bad item), with its reason.
        var refused: String?
        var mark: String?

        /// A line per message, read whole by a delta import and its reconcile: read without JSONDecoder. Any
        /// member this does not know, or a value of another type, leaves the line to JSONDecoder.
        static func decodeLine(_ scanner: inout JSONLineScanner) -> Line? {
            var line = Line()
            let read = scanner.object { name, value in
                switch name {
                case "entry": return store(value.string(), in: &line.entry)
                case "refused": return store(value.string(), in: &line.refused)
                case "mark": return store(value.string(), in: &line.mark)
                case "location": return store(Self.location(&value), in: &line.location)
                default: return false
                }
            }
            return read ? line : nil
        }

        private static func location(_ scanner: inout JSONLineScanner) -> Location? {
            var folder: String?
            var location = Location(folder: "", uidValidity: nil, uid: nil)
            let read = scanner.object { name, value in
                switch name {
                case "folder": return store(value.string(), in: &folder)
                case "uidValidity": return store(value.uint32(), in: &location.uidValidity)
                case "uid": return store(value.uint32(), in: &location.uid)
                case "size": return store(value.int64(), in: &location.size)
                case "sha256": return store(value.string(), in: &location.sha256)
                default: return false
                }
            }
            guard read, let folder else { return nil }
            location.folder = folder
            return location
        }

        /// Stores what the scanner read; false when it read nothing (null, a value of another type), which gives
        /// up on the line.
        private static func store<T>(_ value: T?, in field: inout T?) -> Bool {
            field = value
            return value != nil
        }
    }

    public let path: String
    public let archiveID: String
    /// Items committed on the server, by entry path; compact, since an import of 200,000 items holds them all.
    private(set) var done = IMAPPlacementIndex()
    /// Items the server refused (bad items). They are tried again by a later run, but they are not on the
    /// server, so they take none of the lookups a resumed import owes.
    public private(set) var refused: Set<String> = []
    /// How many of the first items without a line a resumed import must look up on the server.
    public private(set) var itemsToLookUp: Int
    public let syncInterval: Int
    private let file: JSONLinesFile
    private let encoder = JSONEncoder()

    /// Opens (creating) the journal for `archiveID`, `user` and `server` under `directory`.
    /// `window` is the importer's number of APPENDs in flight.
    public init(directory: String, archiveID: String, user: String, server: String, window: Int, syncInterval: Int = 256) throws {
        let folder = directory + "/" + Self.safeName(archiveID)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ConnectorError(location: folder, message: "cannot create the import journal's folder: \(error.localizedDescription)")
        }
        self.archiveID = archiveID
        path = folder + "/" + Self.safeName(user.lowercased()) + "@" + Self.safeName(server) + ".journal"
        self.syncInterval = syncInterval
        let existed = FileManager.default.fileExists(atPath: path)
        let records: [Line]
        do {
            // Journals written before `JSONLinesFile` may hold a torn line glued to the next one: passed over, as
            // they always were.
            (file, records) = try JSONLinesFile.open(path, replaying: Line.self, skippingDamagedLines: true)
        } catch let error as SystemError {
            throw ConnectorError(location: path, message: "cannot open the import journal: \(error.operation) failed: \(error.reason)")
        }
        var finished = true
        for record in records {
            if let entry = record.entry, let location = record.location {
                done[entry] = location
                refused.remove(entry)
            } else if let entry = record.entry, record.refused != nil {
                refused.insert(entry)
            } else if record.mark == "started" {
                finished = false
            } else if record.mark == "finished" {
                finished = true
            }
        }
        itemsToLookUp = existed && !finished ? window + syncInterval : 0
        try recordStarted()
    }

    /// Marks that APPENDs are about to go out: until the next `recordFinished`, a crash leaves work to look up.
    public func recordStarted() throws {
        try append(Line(mark: "started"), durably: true)
        isFinished = false
    }

    /// Whether the last mark is `finished` (set by `recordFinished`, cleared by `recordStarted`).
    public private(set) var isFinished = false

    /// Uses up one of the lookups a resumed import owes; true while some remain.
    public func takeLookUp() -> Bool {
        guard itemsToLookUp > 0 else { return false }
        itemsToLookUp -= 1
        return true
    }

    /// Records a confirmed item. `durably` is for answers found by a lookup, which must not be lost again.
    public func recordDone(_ entry: String, at location: Location, durably: Bool = false) throws {
        done[entry] = location
        try append(Line(entry: entry, location: location), durably: durably)
    }

    /// Records an item the server refused. Not synced at once: a lost line only costs a lookup.
    public func recordRefused(_ entry: String, reason: String) throws {
        refused.insert(entry)
        try append(Line(entry: entry, refused: reason), durably: false)
    }

    /// Makes every line so far durable.
    public func sync() throws {
        do {
            try file.sync()
        } catch {
            throw ConnectorError(location: path, message: "cannot sync the import journal: \(error.operation) failed: \(error.reason)")
        }
    }

    /// Marks a clean end: every APPEND confirmed and recorded.
    public func recordFinished() throws {
        try append(Line(mark: "finished"), durably: true)
        isFinished = true
    }

    private func append(_ line: Line, durably: Bool) throws {
        do {
            try file.append(line, encoder: encoder, durably: false)
        } catch let error as SystemError {
            throw ConnectorError(location: path, message: "cannot write the import journal: \(error.operation) failed: \(error.reason)")
        }
        if durably || file.unsyncedLines >= syncInterval { try sync() }
    }

    /// Where an import of `archiveID` placed each item, read without opening the journal for writing; empty when
    /// that import kept no journal here.
    public static func placements(directory: String, archiveID: String, user: String, server: String) -> [String: Location] {
        var found: [String: Location] = [:]
        forEachPlacement(directory: directory, archiveID: archiveID, user: user, server: server) { found[$0] = $1 }
        return found
    }

    /// The same, as a compact index: what a delta reads once per archive and user to find the items it moves,
    /// reflags or deletes.
    static func placementIndex(directory: String, archiveID: String, user: String, server: String) -> IMAPPlacementIndex {
        var index = IMAPPlacementIndex()
        forEachPlacement(directory: directory, archiveID: archiveID, user: user, server: server) { index[$0] = $1 }
        return index
    }

    /// Streams the journal's placements (a later line for the same entry wins); a journal that cannot be read
    /// places nothing, as before.
    private static func forEachPlacement(
        directory: String, archiveID: String, user: String, server: String, _ body: (String, Location) -> Void
    ) {
        let path = directory + "/" + safeName(archiveID) + "/" + safeName(user.lowercased()) + "@" + safeName(server) + ".journal"
        do {
            try JSONLinesFile.forEachRecord(in: path, as: Line.self, skippingDamagedLines: true) { record in
                if let entry = record.entry, let location = record.location { body(entry, location) }
            }
        } catch {}
    }

    /// A file-name-safe form: letters, digits and `.-_@+` kept, anything else as `%XX`.
    static func safeName(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "+"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out.hasPrefix(".") ? "%2E" + out.dropFirst() : out
    }
}
