internal import CArchive

/// Where a `TarReader` gets its (already decompressed) bytes.
protocol TarByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// The next bytes in a buffer of the source's own, valid until the next call (no copy); empty at the end. Nil
    /// when the source has no buffers to lend: the tar reader then reads into its own with `read(into:)`.
    func lendNext() throws -> UnsafeRawBufferPointer?
}

extension TarByteSource {
    func lendNext() throws -> UnsafeRawBufferPointer? { nil }
}

extension FrameReader: TarByteSource {}

/// A tar header as the reader saw it: only what MailFerry accepts (regular files) gets this far.
struct TarEntryHeader {
    var path: String
    var size: Int64
    /// Offset of the header in the stream the reader was given (after any skip).
    var position: Int64
    /// Where the entry's padded data ends, and the next entry (or nothing) must begin.
    var end: Int64
}

/// Reads tar entries through libarchive with only the tar format enabled (no other formats, no
/// filters: decompression is ours and already checked), refusing everything format-spec section 4 does not
/// allow: any type but a regular file ('0', after at most a pax header 'x'), sparse entries, global pax headers,
/// and gaps between entries. libarchive reads types '7' and unknown letters as regular files and fills a sparse
/// entry's holes with zeros, so the types are checked on the header bytes themselves.
/// Nothing is ever extracted to disk by libarchive; entry data is handed to the caller.
final class TarReader {
    private let archive: OpaquePointer
    private let feed: Feed
    private let location: String
    private var entryRemaining: Int64 = 0
    /// Where the previous entry ended: the next one must start there.
    private(set) var lastEntryEnd: Int64?
    /// Bytes asked of the source at a time.
    static let bufferSize = 1 << 20

    /// libarchive pulls bytes through this box; it also keeps the first error the source threw, and the bytes
    /// around the latest header so that its type can be read.
    private final class Feed {
        let source: TarByteSource
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TarReader.bufferSize, alignment: 16)
        /// The bytes libarchive reads now: the start of `buffer`, or a buffer the source lent.
        var current = UnsafeRawBufferPointer(start: nil, count: 0)
        /// Stream offset of `current[0]`, and the bytes in it.
        var start: Int64 = 0
        var count = 0
        /// The last bytes of the buffer before, for a header that straddles two reads.
        var previousTail: [UInt8] = []
        var error: Error?
        init(_ source: TarByteSource) { self.source = source }
        deinit { buffer.deallocate() }

        static let keptTail = 4096

        func fill() throws -> Int {
            let kept = min(count, Self.keptTail)
            // Kept before the source is asked again: a lent buffer is given back then.
            previousTail = Array(current[(count - kept)..<count])
            start += Int64(count)
            count = 0
            if let lent = try source.lendNext() {
                current = lent
            } else {
                current = UnsafeRawBufferPointer(rebasing: buffer.prefix(try source.read(into: buffer)))
            }
            count = current.count
            return count
        }

        /// Where libarchive is to read the current bytes (never nil, also when there are none).
        var currentAddress: UnsafeRawPointer { current.baseAddress ?? UnsafeRawPointer(buffer.baseAddress!) }

        /// The byte at stream `offset` if it is still at hand.
        func byte(at offset: Int64) -> UInt8? {
            if offset >= start && offset < start + Int64(count) { return current[Int(offset - start)] }
            let tailStart = start - Int64(previousTail.count)
            if offset >= tailStart && offset < start { return previousTail[Int(offset - tailStart)] }
            return nil
        }
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
                    let n = try feed.fill()
                    out?.pointee = feed.currentAddress
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
        let location = "\(location): entry \(String(reflecting: path))"
        let fileType = archive_entry_filetype(entry) & mailferry_ae_ifmt()
        guard fileType == mailferry_ae_ifreg(), archive_entry_hardlink(entry) == nil, archive_entry_symlink(entry) == nil else {
            throw ArchiveError(.verification, location, "is not a regular file (links, devices and directories are refused)")
        }
        guard archive_entry_sparse_count(entry) == 0 else {
            throw ArchiveError(.verification, location, "is a sparse file (refused: its holes would be bytes the archive does not hold)")
        }
        guard archive_entry_size_is_set(entry) != 0 else {
            throw ArchiveError(.verification, location, "has no size")
        }
        let size = archive_entry_size(entry)
        // The headers are consumed by now: the entry's own ustar header is the last block before its data.
        let dataStart = consumedBytes
        guard size >= 0, size <= Int64.max - 1024 - dataStart, dataStart >= position + 512 else {
            throw ArchiveError(.verification, location, "has an impossible size or position")
        }
        try checkTypes(position: position, ustarHeader: dataStart - 512, location: location)
        if let lastEntryEnd, position != lastEntryEnd {
            throw ArchiveError(.verification, location, "starts at stream offset \(position), not where the entry before it ended (\(lastEntryEnd)): there is data or a header between them")
        }
        let end = dataStart + (size + 511) / 512 * 512
        lastEntryEnd = end
        entryRemaining = size
        return TarEntryHeader(path: path, size: size, position: position, end: end)
    }

    /// Format-spec section 4: the entry is a ustar header of type '0', with at most one pax extended header ('x')
    /// before it; global headers, GNU types, contiguous files ('7') and unknown letters are refused.
    private func checkTypes(position: Int64, ustarHeader: Int64, location: String) throws {
        let typeOffset: Int64 = 156
        guard let type = feed.byte(at: ustarHeader + typeOffset) else {
            throw ArchiveError(.verification, location, "its header could not be checked")
        }
        guard type == UInt8(ascii: "0") else {
            throw ArchiveError(.verification, location, "has tar type \(Self.describe(type)); only regular files (type '0') are allowed")
        }
        if ustarHeader != position {
            guard let first = feed.byte(at: position + typeOffset) else {
                throw ArchiveError(.verification, location, "its header could not be checked")
            }
            guard first == UInt8(ascii: "x") else {
                throw ArchiveError(.verification, location, "is preceded by a tar header of type \(Self.describe(first)); only a pax extended header ('x') may precede an entry")
            }
        }
    }

    private static func describe(_ type: UInt8) -> String {
        (0x21...0x7E).contains(type) ? "'\(Character(Unicode.Scalar(type)))'" : "byte \(type)"
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
