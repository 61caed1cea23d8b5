import FerryArchive
import Foundation
import MailModel

/// The importing station's record of the archives it has accepted, per signing key, target and user: what makes
/// it refuse a replayed archive, a delta whose base it has not imported, and a delta out of order
/// (format-spec section 13.3).
///
/// An archive is recorded only when its import into a user has finished and reconciled, so an import that was
/// interrupted (or failed) can be run again and resume. The file is JSON Lines, small (a line per archive and
/// user), rewritten whole through a temporary name, fsync and rename.
public final class ImportLedger {
    public struct Acceptance: Codable, Sendable, Hashable {
        public var signerKeyID: String
        public var target: String
        public var user: String
        public var archiveID: String
        public var station: String
        public var sequence: Int
        public var deltaOf: String?
        public var accepted: String
    }

    public let path: String
    public private(set) var accepted: [Acceptance] = []

    public static let fileName = "accepted-archives.jsonl"
    static let sizeLimit = 64 << 20

    /// Opens the ledger in `directory` (the import journal's folder), creating nothing until something is accepted.
    public init(directory: String) throws {
        path = directory + "/" + Self.fileName
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard data.count <= Self.sizeLimit else {
            throw FerryError(.ioError, "\(path): larger than \(Self.sizeLimit) bytes; not an import ledger")
        }
        let decoder = JSONDecoder()
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            do {
                accepted.append(try decoder.decode(Acceptance.self, from: Data(line)))
            } catch {
                throw FerryError(.ioError, "\(path) line \(number + 1): not a ledger line (\(error)); the ledger is damaged, restore it from a backup")
            }
        }
    }

    /// Throws (exit 1) when `header` must not be imported into `target` for `user` now. With `again` (`--reimport`)
    /// an accepted archive may be imported again if it is the last one accepted from its station: an older one
    /// would roll back what later deltas changed.
    public func check(_ header: ArchiveHeader, target: String, user: String, again: Bool = false) throws {
        let mine = accepted.filter {
            $0.signerKeyID == header.signerKeyID && $0.target == target && $0.user.lowercased() == user.lowercased()
        }
        if let done = mine.first(where: { $0.archiveID == header.archiveID }) {
            guard again else {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) was already imported into \(target) for \(user) on \(done.accepted); a replay is refused (\(path))")
            }
            let latest = mine.filter { $0.station == header.station }.max { $0.sequence < $1.sequence }
            if let latest, latest.archiveID != header.archiveID {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) was imported into \(target) for \(user) before \(latest.archiveID) (sequence \(latest.sequence)); importing it again would undo what came after it")
            }
            return
        }
        if let base = header.deltaOf {
            guard mine.contains(where: { $0.archiveID == base }) else {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) is a delta of \(base), which has not been imported into \(target) for \(user); import \(base) first")
            }
            let latest = mine.filter { $0.station == header.station }.max { $0.sequence < $1.sequence }
            if let latest, latest.archiveID != base {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) is a delta of \(base), but the last archive imported into \(target) for \(user) is \(latest.archiveID) (sequence \(latest.sequence)); deltas are applied in order, each on the one before")
            }
        }
        if let latest = mine.filter({ $0.station == header.station }).max(by: { $0.sequence < $1.sequence }),
            header.sequence <= latest.sequence
        {
            throw FerryError(.verificationFailed, "archive \(header.archiveID) has sequence \(header.sequence) from station \(header.station), not after \(latest.archiveID) (sequence \(latest.sequence)) already imported into \(target) for \(user); out of order")
        }
    }

    /// Records that `header` was imported into `target` for these users, durably.
    public func accept(_ header: ArchiveHeader, target: String, users: [String]) throws {
        let now = InternalDate(epochSeconds: Int64(Date().timeIntervalSince1970)).iso8601
        for user in users where !accepted.contains(where: {
            $0.signerKeyID == header.signerKeyID && $0.target == target && $0.user == user && $0.archiveID == header.archiveID
        }) {
            accepted.append(Acceptance(
                signerKeyID: header.signerKeyID, target: target, user: user, archiveID: header.archiveID,
                station: header.station, sequence: header.sequence, deltaOf: header.deltaOf, accepted: now))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for a in accepted {
            bytes += try encoder.encode(a)
            bytes.append(UInt8(ascii: "\n"))
        }
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw FerryError(.ioError, "\(path): cannot create its folder: \(error.localizedDescription)")
        }
        try AtomicFile.write(bytes, to: path, mode: 0o600)
    }
}
