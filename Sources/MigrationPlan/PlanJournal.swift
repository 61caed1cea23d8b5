import Foundation
import MailModel
import SystemLayer

#if canImport(Glibc)
import Glibc
#endif

/// The plan's journal: `journal.jsonl` in the plan's directory, one `PlanEvent` a line, each written and fsynced
/// before the command that made it reports success, so a crash or a reboot resumes where the plan stood. Every
/// user's state is the result of replaying the lines; a torn last line (a crash while writing) is ignored.
///
/// One plan command at a time: the journal holds an exclusive lock (`plan.lock`) while it is open.
final class PlanJournal {
    let path: String
    private let lock: FileLock
    private let handle: FileHandle
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (creating) the journal in `directory` and takes the plan's lock; returns the events so far.
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
        lock = taken
        path = directory + "/journal.jsonl"
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw FerryError(.ioError, "\(path): cannot create the plan's journal")
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw FerryError(.ioError, "\(path): cannot open the plan's journal")
        }
        self.handle = handle
    }

    deinit {
        try? handle.close()
    }

    /// Every event in the journal. A line that does not parse is an error unless it is the last (torn by a crash),
    /// which is cut off so the next line starts clean.
    func readEvents() throws -> [PlanEvent] {
        let data = try handle.readToEnd() ?? Data()
        var events: [PlanEvent] = []
        let decoder = JSONDecoder()
        var offset = 0
        var lineNumber = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            lineNumber += 1
            let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n"))
            let line = bytes[offset..<(end ?? bytes.count)]
            if let event = try? decoder.decode(PlanEvent.self, from: Data(line)), end != nil {
                events.append(event)
                offset = end! + 1
                continue
            }
            guard end == nil || end! + 1 == bytes.count else {
                throw FerryError(.ioError, "\(path) line \(lineNumber): not a plan event; the journal is damaged (it is the plan's memory: restore it from a backup)")
            }
            // The torn end of the last write: drop it.
            try handle.truncate(atOffset: UInt64(offset))
            try handle.synchronize()
            break
        }
        try handle.seekToEnd()
        return events
    }

    /// Appends one event and makes it durable.
    func append(_ event: PlanEvent) throws {
        var line = try encoder.encode(event)
        line.append(UInt8(ascii: "\n"))
        do {
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw FerryError(.ioError, "\(path): cannot write the plan's journal: \(error.localizedDescription)")
        }
    }
}
