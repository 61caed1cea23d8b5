import Foundation
import MailModel
import SystemLayer

/// Where an `ArchiveUserRun` writes its next item entry. Calls go one way, source -> run -> sink: the writer swaps
/// a run's sink between entries (a run read ahead of the archive writes into its `ReadAheadFile`, the run the archive
/// is taking into `ArchiveFrames`), and no sink calls back into the run or the writer.
protocol EntrySink: AnyObject {
    /// Writes one item entry (tar header, the bytes `body` streams, hashed on the way, padding) and keeps its
    /// manifest record: sets `record`'s offset, frame and SHA-256, then lets `beforeRecording` finish it.
    func writeEntry(
        _ record: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp,
        beforeRecording: (inout EntryRecord) -> Void
    ) throws
}

/// The archive's side of the entries: the tar stream cut into zstd frames (`FramePipeline`) and the manifest's
/// entry lines, kept in an unlinked file beside the archive until `ArchiveWriter.finish` writes the manifest.
final class ArchiveFrames: EntrySink {
    let pipeline: FramePipeline
    let tar: TarWriter
    /// The manifest's entry lines, in entry order.
    let entryLines: ScratchFile
    /// The archive's final path, for messages.
    private let archivePath: String
    private let hasher = SHA256()
    private let encoder = ManifestCoding.encoder()
    private(set) var entryCount = 0
    private(set) var itemBytes: Int64 = 0
    /// Set by `ArchiveWriter.finish`: no entry may follow.
    var closed = false
    /// Called after each item with the running totals (items, bytes).
    var onItem: ((Int, Int64) -> Void)?

    /// Frames go to `output` (`PATH.partial`); the entry lines to a file beside it, `sealed` when the archive is
    /// encrypted (`ScratchFile`).
    init(output: any ArchiveOutput, archivePath: String, sealed: Bool) throws {
        pipeline = FramePipeline(output: output)
        tar = try TarWriter(pipeline: pipeline)
        entryLines = try ScratchFile(
            in: SystemCall.parentDirectory(of: output.path), prefix: SystemCall.lastComponent(of: output.path) + ".entries.",
            sealed: sealed)
        self.archivePath = archivePath
    }

    func writeEntry(
        _ record: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp,
        beforeRecording: (inout EntryRecord) -> Void
    ) throws {
        precondition(!closed)
        record.offset = pipeline.streamOffset
        record.frame = pipeline.currentFrameIndex
        try tar.writeItem(&record, body: body, mtime: mtime, hasher: hasher)
        beforeRecording(&record)
        try keep(record)
    }

    /// Copies a read-ahead run's entries into the frame pipeline, where they get their offsets and frames; every
    /// item's data is hashed again and must match the hash taken as it was read.
    func take(_ readAhead: ReadAheadFile) throws {
        precondition(!closed)
        try readAhead.forEachEntry { readRecord, range in
            var record = readRecord
            record.offset = pipeline.streamOffset
            record.frame = pipeline.currentFrameIndex
            let padded = (record.size + 511) / 512 * 512
            let data = (range.upperBound - padded)..<(range.upperBound - padded + record.size)
            // The messages keep their words from before the read-ahead file was named so: users may know them.
            guard data.lowerBound >= range.lowerBound else {
                throw ArchiveError(.io, readAhead.bytes.path, "\(record.path) is shorter in the spool than its size (the spool was damaged)")
            }
            try readAhead.bytes.read(from: range.lowerBound, to: range.upperBound) { piece, at in
                let low = max(at, data.lowerBound), high = min(at + Int64(piece.count), data.upperBound)
                if low < high { hasher.update(UnsafeRawBufferPointer(rebasing: piece[Int(low - at)..<Int(high - at)])) }
                try pipeline.append(piece)
            }
            guard hasher.finalizeHex() == record.sha256 else {
                throw ArchiveError(.io, "\(archivePath): \(record.path)", "the spooled copy no longer has the SHA-256 it was read with (the spool next to the archive was damaged)")
            }
            try keep(record)
        }
    }

    /// Ends the entry in the frame pipeline and adds its manifest line.
    private func keep(_ record: EntryRecord) throws {
        try pipeline.entryBoundary()
        try entryLines.append(ManifestCoding.line(ManifestLine.entry(record), with: encoder))
        entryCount += 1
        itemBytes += record.size
        onItem?(entryCount, itemBytes)
    }
}
