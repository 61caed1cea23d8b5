import Foundation
import MailModel
import SystemLayer

/// Where a plan keeps what happened to its users: the `PlanEvent`s, oldest first. Two stores hold the same events
/// and are replayed the same way, so status, report and every step work alike on both:
///
/// - `PlanJournal`, the default: `journal.jsonl` in the plan's directory, for one station-A machine (one plan command
///   at a time, under the plan's file lock).
/// - `PostgresPlanStore`: tables in a PostgreSQL database (`plan init --store postgres://...`), for several station-A
///   machines at once; a user's events are appended under that user's row lock, and export workers take users with
///   row locks and leases (`plan export --worker`).
protocol PlanStore: AnyObject {
    /// For messages: the journal's path, or the database's URL (without a password).
    var location: String { get }

    /// Every event so far, oldest first (for one user, in the order they were appended).
    func readEvents() throws -> [PlanEvent]

    /// Appends `event` durably. First `check` is called with the events of the same user that others appended since
    /// this store last read that user's events (none for the journal file, which nobody else writes while its lock is
    /// held); the plan applies them and judges the state change, and throws to refuse it. With `lease`, the event is
    /// an export worker's: it is refused (`PlanLeaseLost`) unless the lease is still the worker's, and the lease ends
    /// with it, in the same transaction.
    func append(_ event: PlanEvent, lease: PlanLease?, check: ([PlanEvent]) throws -> Void) throws
}

/// Which store a plan command opens: nil `url` means the plan's directory says (its `store.json`, else its journal
/// file).
public struct PlanStoreSettings: Sendable, Equatable {
    /// `postgres://USER@HOST[:PORT]/DB[?sslmode=...]`, as the shared spool's (no password in it).
    public var url: String?
    /// The database password's file (its first line); else PGPASSFILE's matching line; else none (trust, peer).
    public var passwordFile: String?

    public init(url: String? = nil, passwordFile: String? = nil) {
        self.url = url
        self.passwordFile = passwordFile
    }
}

/// `store.json` in the plan's directory on each station-A machine of a plan kept in PostgreSQL: which database holds
/// the plan, and which plan it is. `plan init --store URL` writes it; another machine joins with any plan command
/// given `--plan DIR --store URL`, which writes it there, after which `--plan DIR` alone is enough.
struct PlanStorePointer: Codable, Equatable {
    static let formatName = "mailferry-plan-store"
    static let fileName = "store.json"

    var format = PlanStorePointer.formatName
    var version = 1
    var url: String
    var passwordFile: String?
    var planID: String

    static func read(directory: String) throws -> PlanStorePointer? {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let pointer: PlanStorePointer
        do {
            pointer = try JSONDecoder().decode(PlanStorePointer.self, from: data)
        } catch {
            throw FerryError(.ioError, "\(path): not a MailFerry plan store pointer (\(error))")
        }
        guard pointer.format == formatName, pointer.version == 1 else {
            throw FerryError(
                .ioError, "\(path): format \(pointer.format) version \(pointer.version) is not one this program reads")
        }
        return pointer
    }

    func write(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FerryError(
                .ioError, "\(directory): cannot create the plan's directory: \(error.localizedDescription)")
        }
        try FerryError.io {
            try AtomicReplace.write(
                Array(try encoder.encode(self)) + [10], to: directory + "/" + Self.fileName, mode: 0o644)
        }
    }
}

/// A worker's hold on one user while it exports the user (`plan export --worker`): given by `PostgresPlanStore.claim`,
/// renewed while the export runs, ended by the export's event. Another worker may take the user once it has expired.
public struct PlanLease: Sendable, Equatable {
    /// The user (source address, as in the plan).
    public var user: String
    /// The worker's name (hostname:pid by default).
    public var holder: String
    /// This claim's id: a worker whose user was taken over holds an id that is no longer the row's.
    public var id: String
    /// How long the lease lasts without renewal, in milliseconds.
    public var milliseconds: Int64
    /// The worker whose expired lease this claim took over, if any, and the archive it was writing.
    public var tookOverFrom: String?
}

/// A worker's lease was taken over (it expired while the worker was busy): its export is not recorded.
public struct PlanLeaseLost: Error, CustomStringConvertible, ExitStatusError {
    public var user: String
    public var holder: String
    public var description: String {
        "\(user): the lease of worker \(holder) expired and another worker took the user over; this export is not recorded"
    }
    public var exitStatus: ExitStatus { .usage }
}

/// An archive a worker wrote (or began) for a user whose lease it lost: not recorded, so not the user's; named in
/// `plan status` and the report until it is removed.
public struct PlanAbandonedArchive: Codable, Sendable, Equatable {
    /// The archive's path on the machine of the worker that wrote it (with `.partial` while it was being written);
    /// nil when the worker had not named one yet.
    public var path: String?
    /// The worker that lost the lease.
    public var holder: String
    /// The worker that took the user over.
    public var takenBy: String
    /// When (ISO 8601 UTC).
    public var at: String
}
