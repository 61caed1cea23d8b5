import MailModel
import SystemLayer

/// Walks the archive's item entries and the manifest's entry records together (a merge join): each
/// tar entry must be the next manifest entry, with the same name, position and size, and its bytes
/// must hash to the manifest's SHA-256. Any extra, missing, reordered, resized or altered entry is
/// reported by name.
public final class ArchiveItemStream {
    /// Nil when the archive has no item region at all.
    private let tar: TarReader?
    private let entries: any EntryRecordSource
    private let archivePath: String
    private let manifestOffset: Int64
    /// Where each frame starts in the decompressed stream, to check each entry's `frame`.
    private let frameOffsets: [Int64]
    private var current: ArchiveItemBody?
    private var tally: CountTally
    /// For one user's run: the stream offset the tar reader starts at; nil for the whole archive.
    private let runStart: Int64?

    init(
        tar: TarReader?, entries: any EntryRecordSource, archivePath: String, manifestOffset: Int64, frameOffsets: [Int64],
        runStart: Int64? = nil
    ) throws {
        self.tar = tar
        self.entries = entries
        self.archivePath = archivePath
        self.manifestOffset = manifestOffset
        self.frameOffsets = frameOffsets
        self.tally = CountTally(manifest: entries.manifest)
        self.runStart = runStart
    }

    /// The next item and a body that streams its bytes (once). The previous item's body is drained
    /// and checked first if its reader did not check it; a reader that did may go on after a damaged
    /// item (the stream stays in step, since sizes come from the manifest).
    public func next() throws -> (EntryRecord, ArchiveItemBody)? {
        if let current, !current.checked {
            try current.drain()
            try current.check()
        }
        current = nil
        let record = try entries.next()
        // A user's run ends with its last entry; what follows belongs to other users and is not read.
        if record == nil, runStart != nil { return nil }
        guard let tar else {
            if let r = record {
                throw ArchiveError(.verification, "\(archivePath): \(r.path)", "is listed in the manifest but the archive has no items")
            }
            try tally.check(location: "\(archivePath): \(EntryPath.manifest)")
            return nil
        }
        let header = try tar.next()
        switch (record, header) {
        case (nil, nil):
            // The writer ends the item region exactly where the manifest begins, with no end-of-archive
            // marker: the last entry must end there, and libarchive must have stopped because the bytes ran out,
            // not at zero blocks that could hide unsigned data after them.
            let end = tar.lastEntryEnd ?? 0
            let consumed = tar.consumedBytes
            guard end == manifestOffset, consumed == manifestOffset else {
                throw ArchiveError(.verification, archivePath, "the item entries end at stream offset \(end), but the manifest begins at \(manifestOffset) (an end-of-archive marker or other data sits between them)")
            }
            try tally.check(location: "\(archivePath): \(EntryPath.manifest)")
            return nil
        case (let r?, nil):
            throw ArchiveError(.verification, "\(archivePath): \(r.path)", "is listed in the manifest but missing from the archive")
        case (nil, let h?):
            throw ArchiveError(.verification, "\(archivePath): entry \(String(reflecting: h.path))", "is in the archive but not in the manifest")
        case (let r?, let h?):
            guard h.path == r.path else {
                throw ArchiveError(.verification, "\(archivePath): entry \(String(reflecting: h.path))", "found where the manifest lists \(r.path) (entry added, removed, duplicated or reordered)")
            }
            guard h.size == r.size else {
                throw ArchiveError(.verification, "\(archivePath): \(r.path)", "the tar header says \(h.size) bytes, the manifest \(r.size)")
            }
            guard h.position + (runStart ?? 0) == r.offset else {
                throw ArchiveError(.verification, "\(archivePath): \(r.path)", "is at stream offset \(h.position), the manifest says \(r.offset)")
            }
            guard r.frame >= 0, r.frame < frameOffsets.count - 1, frameOffsets[r.frame] <= r.offset, r.offset < frameOffsets[r.frame + 1] else {
                throw ArchiveError(.verification, "\(archivePath): \(r.path)", "the manifest names frame \(r.frame), but offset \(r.offset) is not in it")
            }
            let body = ArchiveItemBody(tar: tar, record: r, location: "\(archivePath): \(r.path)")
            current = body
            tally.add(r)
            return (r, body)
        }
    }
}

/// One item's bytes, streamed from the archive once and hashed on the way.
/// `check()` throws unless every byte was read and the SHA-256 matches the manifest.
public final class ArchiveItemBody: CheckedItemBody {
    private let tar: TarReader
    public let record: EntryRecord
    public let origin: String
    private var consumed: Int64 = 0
    private var started = false
    private var finished = false
    /// Nil until the bytes were read, and also when the reader took over the hashing (`streamUnhashed`).
    private var digest: String?
    /// Whether the reader has asked for the verdict (then a mismatch is its to report).
    private(set) var checked = false
    private let hasher = SHA256()

    init(tar: TarReader, record: EntryRecord, location: String) {
        self.tar = tar
        self.record = record
        self.origin = location
    }

    public var byteCount: Int64 { record.size }

    /// Bytes per read when the body supplies its own buffer.
    static let chunkSize = 256 * 1024

    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        try read(through: { buffer }, hashing: true) { filled in try consume(UnsafeRawBufferPointer(filled)) }
    }

    /// Reads each chunk straight into the buffer `nextBuffer` gives (so a reader handing bytes to another thread
    /// needs no copy of its own) and passes on the filled part.
    func stream(
        through nextBuffer: () throws -> UnsafeMutableRawBufferPointer, _ consume: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        try read(through: nextBuffer, hashing: true, consume)
    }

    /// Like `stream(through:_:)` but without hashing: for a reader that hashes the bytes it was given itself and
    /// compares the digest with `record.sha256` before it trusts them. Sizes are still checked here, and `check()`
    /// then vouches only for those.
    func streamUnhashed(
        through nextBuffer: () throws -> UnsafeMutableRawBufferPointer, _ consume: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        try read(through: nextBuffer, hashing: false, consume)
    }

    private func read(
        through nextBuffer: () throws -> UnsafeMutableRawBufferPointer, hashing: Bool,
        _ consume: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        guard !started else {
            throw ArchiveError(.io, origin, "an archive entry can be read only once")
        }
        started = true
        while true {
            let buffer = try nextBuffer()
            let n = try tar.readData(into: buffer)
            if n == 0 { break }
            consumed += Int64(n)
            guard consumed <= record.size else {
                throw ArchiveError(.verification, origin, "holds more bytes than the manifest's \(record.size)")
            }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(n))
            if hashing { hasher.update(UnsafeRawBufferPointer(chunk)) }
            try consume(chunk)
        }
        if hashing { digest = hasher.finalizeHex() }
        finished = true
        guard consumed == record.size else {
            throw ArchiveError(.verification, origin, "holds \(consumed) bytes, the manifest says \(record.size) (truncated)")
        }
    }

    func drain() throws {
        if !finished { try stream { _ in } }
    }

    /// Throws unless the bytes streamed so far are the whole item and match the manifest's hash.
    public func check() throws {
        checked = true
        guard finished, consumed == record.size else {
            throw ArchiveError(.verification, origin, "was not read completely")
        }
        // Read through `streamUnhashed`: the reader compares the hash itself.
        guard let digest else { return }
        guard digest == record.sha256 else {
            throw ArchiveError(.verification, origin, "SHA-256 \(digest) does not match the manifest's \(record.sha256) (the entry was altered)")
        }
    }
}

/// An item body from the archive that can say, once read, whether its bytes matched the signed manifest.
public protocol CheckedItemBody: ItemBody {
    /// Throws unless every byte was read and the SHA-256 matches the manifest.
    func check() throws
}
