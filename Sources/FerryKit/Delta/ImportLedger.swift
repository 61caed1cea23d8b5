import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// The importing station's record of the archives it has accepted, per signing key, target and user: what makes
/// it refuse a replayed archive, a delta whose base it has not imported, and a delta out of order
/// (format-spec section 13.3).
///
/// An archive is recorded only when its import into a user has finished and reconciled, so an import that was
/// interrupted (or failed) can be run again and resume. The file is JSON Lines (`JSONLinesFile`), small (a line per
/// archive and user), appended and fsynced before the import reports success.
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
    /// `accepted` by signer, target and user (lowercased): what `check` and `accept` look at for one user.
    private var byUser: [String: [Acceptance]] = [:]

    private static func key(signer: String, target: String, user: String) -> String {
        signer + "\u{0}" + target + "\u{0}" + user.lowercased()
    }

    private static func index(_ list: [Acceptance]) -> [String: [Acceptance]] {
        Dictionary(grouping: list) { key(signer: $0.signerKeyID, target: $0.target, user: $0.user) }
    }

    public static let fileName = "accepted-archives.jsonl"
    static let sizeLimit = 64 << 20

    /// Opens the ledger in `directory` (the import journal's folder), creating nothing until something is accepted.
    public init(directory: String) throws {
        path = directory + "/" + Self.fileName
        let info: stat?
        do {
            info = try SystemCall.lstatIfPresent(path)
        } catch {
            throw FerryError(.ioError, "\(path): cannot read the import ledger: \(error.operation) failed: \(error.reason)")
        }
        guard let info else { return }
        guard info.st_size <= Self.sizeLimit else {
            throw FerryError(.ioError, "\(path): larger than \(Self.sizeLimit) bytes; not an import ledger")
        }
        do {
            accepted = try JSONLinesFile.read(path, as: Acceptance.self) ?? []
            byUser = Self.index(accepted)
        } catch let damaged as JSONLinesFile.DamagedLine {
            throw FerryError(.ioError, "\(path) line \(damaged.line): not a ledger line (\(damaged.reason)); the ledger is damaged, restore it from a backup")
        } catch let error as SystemError {
            throw FerryError(.ioError, "\(path): cannot read the import ledger: \(error.operation) failed: \(error.reason)")
        }
    }

    /// Throws (exit 1) when `header` must not be imported into `target` for `user` now. With `again` (`--reimport`)
    /// an accepted archive may be imported again if it is the last one accepted from its station: an older one
    /// would roll back what later deltas changed. Every refusal says what to run instead.
    public func check(_ header: ArchiveHeader, target: String, user: String, again: Bool = false) throws {
        let mine = byUser[Self.key(signer: header.signerKeyID, target: target, user: user)] ?? []
        let latest = mine.filter { $0.station == header.station }.max { $0.sequence < $1.sequence }
        let fresh = "to fill a deliberately fresh target (emptied or recreated) from a full archive, import it with another --journal directory (this ledger is \(path))"
        func last(_ a: Acceptance) -> String { "archive \(a.archiveID) (sequence \(a.sequence), imported on \(a.accepted))" }
        if let done = mine.first(where: { $0.archiveID == header.archiveID }) {
            if let latest, latest.archiveID != header.archiveID {
                let what = again ? "importing it again would undo what came after it" : "a replay is refused"
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) was imported into \(target) for \(user) on \(done.accepted), before the last \(last(latest)); \(what). To repair the target, import \(latest.archiveID) again with --reimport (it adds what is missing and puts moves and flags right); \(fresh)")
            }
            guard again else {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) was already imported into \(target) for \(user) on \(done.accepted); a replay is refused. To import it again on purpose (the target lost mail or was emptied), run the same import with --reimport; \(fresh)")
            }
            return
        }
        if let base = header.deltaOf {
            guard mine.contains(where: { $0.archiveID == base }) else {
                let now = latest.map { " (the last archive imported there is \(last($0)): make the delta against that one, export --since its file)" } ?? ""
                throw FerryError(.verificationFailed, "archive \(header.archiveID) is a delta of \(base), which has not been imported into \(target) for \(user)\(now); import \(base) and the archives it builds on first, or give them all to one plan import, in any order")
            }
            if let latest, latest.archiveID != base {
                throw FerryError(.verificationFailed, "archive \(header.archiveID) (sequence \(header.sequence)) is a delta of \(base), but the last archive imported into \(target) for \(user) is \(last(latest)); deltas are applied in order, each on the one before. Export a new delta against the last one (mailferry export ... --since the file of archive \(latest.archiveID)) and import that")
            }
        }
        if let latest, header.sequence <= latest.sequence {
            let what = header.deltaOf == nil
                ? "archive \(header.archiveID) is a full archive, but \(target) already holds a chain for \(user) up to \(last(latest)); a second full archive over it is refused (out of order)"
                : "archive \(header.archiveID) (a delta of \(header.deltaOf!), sequence \(header.sequence) from station \(header.station)) is not after \(last(latest)), the last imported into \(target) for \(user); out of order"
            throw FerryError(.verificationFailed, "\(what). To bring the target up to date, export a delta against the last archive imported (mailferry export ... --since the file of archive \(latest.archiveID)) and import that; \(fresh)")
        }
    }

    /// Whether archive `archiveID` from `signer` was accepted into `target` for `user`: imported and reconciled.
    public func hasAccepted(_ archiveID: String, signer: String, target: String, user: String) -> Bool {
        (byUser[Self.key(signer: signer, target: target, user: user)] ?? []).contains { $0.archiveID == archiveID }
    }

    /// Records that `header` was imported into `target` for these users, durably.
    public func accept(_ header: ArchiveHeader, target: String, users: [String]) throws {
        let now = InternalDate(epochSeconds: Int64(Date().timeIntervalSince1970)).iso8601
        var new: [Acceptance] = []
        for user in users where !(byUser[Self.key(signer: header.signerKeyID, target: target, user: user)] ?? []).contains(where: {
            $0.user == user && $0.archiveID == header.archiveID
        }) {
            new.append(Acceptance(
                signerKeyID: header.signerKeyID, target: target, user: user, archiveID: header.archiveID,
                station: header.station, sequence: header.sequence, deltaOf: header.deltaOf, accepted: now))
        }
        guard !new.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw FerryError(.ioError, "\(path): cannot create its folder: \(error.localizedDescription)")
        }
        do {
            // Replaying cuts a torn end before the new lines go after it.
            let (file, _) = try JSONLinesFile.open(path, replaying: Acceptance.self)
            try file.append(contentsOf: new, encoder: encoder)
        } catch let damaged as JSONLinesFile.DamagedLine {
            throw FerryError(.ioError, "\(path) line \(damaged.line): not a ledger line (\(damaged.reason)); the ledger is damaged, restore it from a backup")
        } catch let error as SystemError {
            throw FerryError(.ioError, "\(path): cannot record the accepted archive: \(error.operation) failed: \(error.reason)")
        }
        accepted += new
        byUser = Self.index(accepted)
    }
}
