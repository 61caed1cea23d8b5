import BufferSpool
import Foundation
import MailModel
import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// What release needs to remember that BufferSpool (format version 1) has no place for, kept in
/// `<spool>/release-state.json` (written atomically: temporary name, fsync, rename, directory fsync):
///
/// - `spoolID`: 32 random hex digits made once; with a message's sequence number it forms the `ItemKey` that lets
///   a Maildir target recognise a message delivered before a crash.
/// - per user: whether the source's forwarding to the buffer is recorded as removed (`buffer forwarding --off`),
///   which undo requires, and the archive id of the first receipt a release was started with, which later runs
///   must match.
///
/// Changes are serialised by an exclusive flock on `<spool>/release-state.lock` (not the spool's own lock, so
/// `buffer forwarding` works while the server runs).
public struct ReleaseStateFile: Codable, Sendable, Equatable {
    public static let fileName = "release-state.json"
    public static let lockName = "release-state.lock"

    public var format = "mailferry-buffer-release-state"
    public var version = 1
    public var spoolID: String
    public var users: [String: UserRecord]

    public struct UserRecord: Codable, Sendable, Equatable {
        /// "on": the source still forwards the user's mail to the buffer; "off": recorded as removed.
        public var forwarding: Forwarding?
        public var forwardingChanged: String?
        /// The archive the user's release was started with.
        public var archiveID: String?
        /// The address held mail is delivered to at the target, when the migration renames the user (the
        /// plan's mapping); the linger pass delivers there too.
        public var deliverAs: String?
        public init() {}
    }

    public enum Forwarding: String, Codable, Sendable { case on, off }

    /// Reads the state of `spoolDirectory`, runs `change` on it and writes it back, under the lock. Creates the
    /// file (with a new spool id) if missing.
    @discardableResult
    public static func update<T>(spoolDirectory: String, _ change: (inout ReleaseStateFile) throws -> T) throws -> T {
        let lockPath = spoolDirectory + "/" + lockName
        let lock: FileLock?
        do {
            lock = try FileLock.acquire(lockPath, wait: true)
        } catch where error.operation == "open" {
            throw FerryError(.ioError, "\(lockPath): cannot open: \(error.reason) (is \(spoolDirectory) the spool directory?)")
        } catch {
            throw FerryError(.ioError, "\(lockPath): flock failed: \(error.reason)")
        }
        defer { lock?.release() }
        var state = try read(spoolDirectory: spoolDirectory) ?? ReleaseStateFile(spoolID: newSpoolID(), users: [:])
        let before = state
        let result = try change(&state)
        if state != before || !FileManager.default.fileExists(atPath: path(spoolDirectory)) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try FerryError.io { try AtomicReplace.write(Array(try encoder.encode(state)) + [10], to: path(spoolDirectory), mode: 0o600) }
        }
        return result
    }

    /// The document's name in a shared spool (`SpoolStore.updateDocument`).
    static let documentName = "release-state"

    /// `update(spoolDirectory:)` for an open spool: the file in a file spool's directory, or the document a
    /// shared spool keeps in its database (changed under its row lock, so hosts take turns).
    @discardableResult
    public static func update<T>(spool: any SpoolStore, _ change: (inout ReleaseStateFile) throws -> T) throws -> T {
        if let directory = spool.localDirectory { return try update(spoolDirectory: directory, change) }
        return try spool.updateDocument(documentName) { data in
            var state = try data.map { try decode($0, origin: "\(spool.location) document \(documentName)") }
                ?? ReleaseStateFile(spoolID: newSpoolID(), users: [:])
            let before = state
            let result = try change(&state)
            guard state != before || data == nil else { return (nil, result) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return (try encoder.encode(state), result)
        }
    }

    /// `read(spoolDirectory:)` for an open spool.
    public static func read(spool: any SpoolStore) throws -> ReleaseStateFile? {
        if let directory = spool.localDirectory { return try read(spoolDirectory: directory) }
        return try spool.updateDocument(documentName) { data in
            (nil, try data.map { try decode($0, origin: "\(spool.location) document \(documentName)") })
        }
    }

    static func decode(_ data: Data, origin: String) throws -> ReleaseStateFile {
        let state: ReleaseStateFile
        do { state = try JSONDecoder().decode(ReleaseStateFile.self, from: data) } catch {
            throw FerryError(.ioError, "\(origin): cannot be read (\(error))")
        }
        guard state.format == "mailferry-buffer-release-state", state.version == 1 else {
            throw FerryError(.ioError, "\(origin): not a version-1 release state")
        }
        return state
    }

    /// The state as stored, nil if there is none yet.
    public static func read(spoolDirectory: String) throws -> ReleaseStateFile? {
        let file = path(spoolDirectory)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            let state = try JSONDecoder().decode(ReleaseStateFile.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            guard state.format == "mailferry-buffer-release-state", state.version == 1 else {
                throw FerryError(.ioError, "\(file): not a version-1 release state file")
            }
            return state
        } catch let e as FerryError {
            throw e
        } catch {
            throw FerryError(.ioError, "\(file): cannot be read (\(error)); restore it from a backup: it holds the spool id that makes Maildir delivery exactly-once")
        }
    }

    static func path(_ spoolDirectory: String) -> String { spoolDirectory + "/" + fileName }

    static func newSpoolID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    /// Users are recorded by their address in lower case.
    public static func key(_ user: String) -> String { user.lowercased() }
}
