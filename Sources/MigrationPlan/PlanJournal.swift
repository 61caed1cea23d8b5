import Foundation
import MailModel
import SystemLayer

/// The plan's journal: `journal.jsonl` in the plan's directory, one `PlanEvent` a line, each written and fsynced
/// before the command that made it reports success, so a crash or a reboot resumes where the plan stood. Every
/// user's state is the result of replaying the lines; a torn last line (a crash while writing) is cut off
/// (`JSONLinesFile`).
///
/// One plan command at a time: the journal holds an exclusive lock (`plan.lock`) while it is open.
final class PlanJournal: PlanStore {
    let path: String
    private let file: JSONLinesFile
    private let events: [PlanEvent]
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (creating) the journal in `directory` and takes the plan's lock, replaying the events so far.
    init(directory: String) throws {
        let lockPath = directory + "/plan.lock"
        let taken: FileLock?
        do {
            taken = try FileLock.acquire(lockPath, wait: false)
        } catch where error.operation == "open" {
            throw FerryError(.ioError, "\(lockPath): cannot open the plan's lock: \(error.reason)")
        } catch {
            taken = nil
        }
        guard let taken else {
            throw FerryError(.ioError, "\(directory): another mailferry plan command is working on this plan; wait for it to end")
        }
        path = directory + "/journal.jsonl"
        do {
            (file, events) = try JSONLinesFile.open(path, holding: taken, replaying: PlanEvent.self)
        } catch let damaged as JSONLinesFile.DamagedLine {
            throw FerryError(.ioError, "\(path) line \(damaged.line): not a plan event; the journal is damaged (it is the plan's memory: restore it from a backup)")
        } catch let error as SystemError {
            throw FerryError(.ioError, "\(path): cannot open the plan's journal: \(error.operation) failed: \(error.reason)")
        }
    }

    var location: String { path }

    /// Every event in the journal when it was opened.
    func readEvents() throws -> [PlanEvent] { events }

    /// Appends one event and makes it durable. Nobody else writes while the plan's lock is held: nothing is new to
    /// `check`. Leases are the PostgreSQL store's.
    func append(_ event: PlanEvent, lease: PlanLease?, check: ([PlanEvent]) throws -> Void) throws {
        guard lease == nil else {
            throw FerryError(.usage, "\(path): export workers need a plan kept in PostgreSQL (plan init --store)")
        }
        try check([])
        do {
            try file.append(event, encoder: encoder)
        } catch {
            throw FerryError(.ioError, "\(path): cannot write the plan's journal: \(error)")
        }
    }
}
