internal import CArchive
import MailModel
import SystemLayer

/// Where a `TarWriter` sends the bytes libarchive formats: the frame pipeline of the archive, or the read-ahead
/// file of a user's run that is written ahead of the archive (`ReadAheadFile`).
protocol TarByteSink: AnyObject {
    func append(_ bytes: UnsafeRawBufferPointer) throws
}

/// Writes POSIX pax (restricted) tar entries through libarchive into a `FramePipeline` (or a run's read-ahead file).
/// libarchive only formats headers and padding here; compression is ours, so frames can end on
/// entry boundaries. The entries' bytes depend on the entries alone, not on what was written before them,
/// so a run of entries formatted by one `TarWriter` can be copied into the stream of another.
final class TarWriter {
    private let archive: OpaquePointer
    private let sink: Sink

    /// libarchive calls back with bytes; the box carries the destination and the first error it threw.
    /// A detached box drops what libarchive still writes (the end-of-archive blocks it writes when freed).
    private final class Sink {
        let destination: any TarByteSink
        var detached = false
        var error: Error?
        init(_ destination: any TarByteSink) { self.destination = destination }
    }

    init(pipeline: any TarByteSink) throws {
        guard let archive = archive_write_new() else { fatalError("archive_write_new: out of memory") }
        self.archive = archive
        self.sink = Sink(pipeline)
        // No blocking: every byte reaches the pipeline as soon as it is formatted, and the end of the
        // archive is not padded to a 10 KiB record (bytes_in_last_block = 1).
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
              archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
              archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK
        else { throw error("configuring the tar writer") }
        let status = archive_write_open2(
            archive, Unmanaged.passUnretained(sink).toOpaque(), nil,
            { _, context, buffer, length in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                if sink.detached { return la_ssize_t(length) }
                do {
                    try sink.destination.append(UnsafeRawBufferPointer(start: buffer, count: length))
                    return la_ssize_t(length)
                } catch {
                    sink.error = error
                    return -1
                }
            }, nil, nil)
        guard status == ARCHIVE_OK else { throw error("opening the tar writer") }
    }

    deinit { archive_write_free(archive) }

    /// The entry whose writing failed after its header went out. The stream then holds part of an entry that
    /// cannot be taken back, so nothing more may be written to it: a caller that went on (a source retrying a
    /// message) would make an archive whose manifest and tar stream disagree.
    private var brokenEntry: String?

    /// Writes one regular file entry: header, the bytes `body` produces, padding.
    /// `body` must produce exactly `size` bytes. After a failure nothing more can be written.
    func writeEntry(path: String, size: Int64, mtime: InternalDateStamp, body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        if let brokenEntry {
            throw ArchiveError(.io, path, "cannot be written: the entry \(brokenEntry) before it failed part way, so the stream cannot go on")
        }
        brokenEntry = path
        try writeWholeEntry(path: path, size: size, mtime: mtime, body: body)
        brokenEntry = nil
    }

    private func writeWholeEntry(path: String, size: Int64, mtime: InternalDateStamp, body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard let entry = archive_entry_new() else { fatalError("archive_entry_new: out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, path)
        archive_entry_set_size(entry, size)
        archive_entry_set_filetype(entry, mailferry_ae_ifreg())
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_mtime(entry, time_t(mtime.seconds), Int(mtime.nanoseconds))
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw error("writing the header of \(path)") }
        var written: Int64 = 0
        try body { chunk in
            guard !chunk.isEmpty else { return }
            written += Int64(chunk.count)
            guard written <= size else { return }
            let n = archive_write_data(archive, chunk.baseAddress, chunk.count)
            if n != chunk.count { throw self.error("writing the data of \(path)") }
        }
        guard written == size else {
            throw ArchiveError(.io, path, "the source gave \(written) bytes where \(size) were announced (file changed while exporting?)")
        }
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw error("finishing \(path)") }
    }

    /// For a run of entries that another stream will carry: nothing more reaches the destination, not even the
    /// end-of-archive blocks.
    func detach() { sink.detached = true }

    /// Writes the two zero blocks that end a tar archive.
    func close() throws {
        if let brokenEntry { throw ArchiveError(.io, brokenEntry, "failed part way; the tar stream cannot be closed") }
        guard archive_write_close(archive) == ARCHIVE_OK else { throw error("closing the tar stream") }
    }

    private func error(_ doing: String) -> Error {
        if let e = sink.error { return e }
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        return ArchiveError(.io, "", "libarchive failed \(doing): \(text)")
    }
}

extension TarWriter {
    /// Writes `body` as the entry `record` names, hashing its bytes on the way into `record.sha256`.
    func writeItem(_ record: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp, hasher: SHA256) throws {
        try writeEntry(path: record.path, size: body.byteCount, mtime: mtime) { emit in
            try body.stream { chunk in
                hasher.update(chunk)
                try emit(chunk)
            }
        }
        record.sha256 = hasher.finalizeHex()
    }
}

/// Seconds and nanoseconds for a tar header's mtime.
struct InternalDateStamp {
    var seconds: Int64
    var nanoseconds: Int32
}
