internal import CArchive

/// Where a `TarReader` gets its (already decompressed) bytes.
protocol TarByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension FrameReader: TarByteSource {}

/// A tar header as the reader saw it: only what MailFerry accepts (regular files) gets this far.
struct TarEntryHeader {
    var path: String
    var size: Int64
    /// Offset of the header in the stream the reader was given (after any skip).
    var position: Int64
}

/// Reads tar entries through libarchive with only the tar format enabled (no other formats, no
/// filters: decompression is ours and already checked), refusing every entry type but regular files.
/// Nothing is ever extracted to disk by libarchive; entry data is handed to the caller.
final class TarReader {
    private let archive: OpaquePointer
    private let feed: Feed
    private let location: String
    private var entryRemaining: Int64 = 0

    /// libarchive pulls bytes through this box; it also keeps the first error the source threw.
    private final class Feed {
        let source: TarByteSource
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        var error: Error?
        init(_ source: TarByteSource) { self.source = source }
        deinit { buffer.deallocate() }
    }

    init(source: TarByteSource, location: String) throws {
        guard let archive = archive_read_new() else { fatalError("archive_read_new: out of memory") }
        self.archive = archive
        self.feed = Feed(source)
        self.location = location
        guard archive_read_support_format_tar(archive) == ARCHIVE_OK else { throw libarchiveError("enabling tar") }
        let status = archive_read_open(
            archive, Unmanaged.passUnretained(feed).toOpaque(), nil,
            { _, context, out in
                let feed = Unmanaged<Feed>.fromOpaque(context!).takeUnretainedValue()
                do {
                    let n = try feed.source.read(into: feed.buffer)
                    out?.pointee = UnsafeRawPointer(feed.buffer.baseAddress)
                    return la_ssize_t(n)
                } catch {
                    feed.error = error
                    return -1
                }
            }, nil)
        guard status == ARCHIVE_OK else { throw libarchiveError("opening the tar stream") }
    }

    deinit { archive_read_free(archive) }

    /// The next entry's header, or nil at the end-of-archive marker.
    func next() throws -> TarEntryHeader? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw libarchiveError("reading a tar header") }
        let position = archive_read_header_position(archive)
        let path = archive_entry_pathname_utf8(entry).map { String(cString: $0) }
            ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let fileType = archive_entry_filetype(entry) & mailferry_ae_ifmt()
        guard fileType == mailferry_ae_ifreg(), archive_entry_hardlink(entry) == nil, archive_entry_symlink(entry) == nil else {
            throw ArchiveError(.verification, "\(location): entry \(String(reflecting: path))", "is not a regular file (links, devices and directories are refused)")
        }
        guard archive_entry_size_is_set(entry) != 0 else {
            throw ArchiveError(.verification, "\(location): entry \(String(reflecting: path))", "has no size")
        }
        let size = archive_entry_size(entry)
        entryRemaining = size
        return TarEntryHeader(path: path, size: size, position: position)
    }

    /// Bytes of the stream libarchive's tar reader has consumed (not merely buffered ahead).
    var consumedBytes: Int64 { archive_filter_bytes(archive, 0) }

    /// Reads the current entry's data into `buffer`; 0 at the end of the entry.
    func readData(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if n < 0 { throw libarchiveError("reading entry data") }
        entryRemaining -= Int64(n)
        return n
    }

    private func libarchiveError(_ doing: String) -> Error {
        if let e = feed.error { return e }
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ArchiveError(.verification, location, "not a valid tar stream (\(doing): \(text))")
    }
}
