import Foundation
import MailModel
import SystemLayer

/// The entries of a user's run formatted while the archive is still busy with an earlier user (`export --jobs N`):
/// their tar bytes (header, data, padding, exactly as they will stand in the archive) in one unlinked file and
/// their manifest records, with offsets counted from the run's start, in another. `ArchiveFrames.take(_:)` later
/// copies the bytes into the frame pipeline, where the frame cuts fall as if the run had been written there
/// directly, re-hashing every item's data on the way.
final class ReadAheadFile: EntrySink {
    let bytes: ScratchFile
    private let records: ScratchFile
    private let tar: TarWriter
    private let hasher = SHA256()
    private let encoder = ManifestCoding.encoder()

    /// Beside the archive: `partial` is its `PATH.partial`, `number` the run's user; `sealed` for an encrypted
    /// archive (`ScratchFile`).
    init(beside partial: String, number: Int, sealed: Bool) throws {
        let directory = SystemCall.parentDirectory(of: partial)
        let name = SystemCall.lastComponent(of: partial) + ".u\(number)"
        bytes = try ScratchFile(in: directory, prefix: name + ".read-ahead.", sealed: sealed)
        records = try ScratchFile(in: directory, prefix: name + ".records.", sealed: sealed)
        tar = try TarWriter(pipeline: bytes)
    }

    deinit { tar.detach() }

    /// Bytes the file holds.
    var size: Int64 { bytes.size }

    func writeEntry(
        _ record: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp,
        beforeRecording: (inout EntryRecord) -> Void
    ) throws {
        record.offset = bytes.size
        record.frame = 0
        try tar.writeItem(&record, body: body, mtime: mtime, hasher: hasher)
        beforeRecording(&record)
        try records.append(ManifestCoding.line(record, with: encoder))
    }

    /// Each entry read ahead, in order, with the byte range it covers in `bytes` (its `offset` is the range's start).
    func forEachEntry(_ body: (EntryRecord, Range<Int64>) throws -> Void) throws {
        try bytes.flush()
        let decoder = JSONDecoder()
        var pending: EntryRecord?
        try records.forEachLine { line in
            let record: EntryRecord
            // The spool holds the writer's own lines: the fast path reads them, JSONDecoder anything else.
            if let fast = line.withUnsafeBytes(CanonicalManifestLine.decodeEntryRecord) {
                record = fast
            } else {
                do {
                    record = try decoder.decode(EntryRecord.self, from: Data(line))
                } catch {
                    throw ArchiveError(.io, records.path, "a spooled record cannot be read back: \(error)")
                }
            }
            if let p = pending { try body(p, p.offset..<record.offset) }
            pending = record
        }
        if let p = pending { try body(p, p.offset..<bytes.size) }
    }
}
