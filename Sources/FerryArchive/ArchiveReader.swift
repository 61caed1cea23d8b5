import Foundation
import MailModel
import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// Opens a MailFerry archive for reading, trusting nothing in it until checked.
///
/// Opening reads only the end of the file: the seek table and the last frame, which holds the
/// statement and its signature. `verifySignature(with:)` must succeed before the statement is
/// believed (`statementWithoutSignature()` is for `inspect`, which says it did not check).
/// Everything after that is checked against the statement: the manifest's size and hash, and
/// through the manifest every entry's name, position, size and hash.
public final class ArchiveReader {
    public let path: String
    /// The archive's bytes: the file, or the plaintext inside it when it is encrypted (format-spec 13.2).
    let file: any ArchiveBytes
    public let seekTable: SeekTable
    let decompressedOffsets: [Int64]
    /// The file's size in bytes (for an encrypted archive, the encrypted file's).
    public let fileSize: Int64
    /// Whether the file is an age file, read through one of the identities given.
    public let isEncrypted: Bool
    /// The exact statement bytes the signature covers.
    public let statementBytes: [UInt8]
    public let signature: [UInt8]
    public private(set) var signatureChecked = false
    private var checkedStatement: Statement?

    /// The statement and signature entries are tiny; a statement larger than this is not ours.
    static let maximumStatementSize = 16 * 1024

    /// Opens `path`; an encrypted archive (an age file) is read through the first of `identities` that opens it,
    /// and refused without one.
    public init(path: String, identities: [AgeIdentity] = []) throws {
        self.path = path
        let plain: OwnedFile
        do {
            plain = try OwnedFile.openRegularFile(path: path)
        } catch let e as ArchiveError {
            throw ArchiveError(.io, path, e.message)
        }
        fileSize = try plain.size
        isEncrypted = try AgeDecryptingFile.isAge(plain)
        if isEncrypted {
            guard !identities.isEmpty else {
                throw ArchiveError(.key, path, "is encrypted (age); give the importing station's key with --identity KEY.age.key")
            }
            self.file = try AgeDecryptingFile(file: plain, identities: identities)
        } else {
            self.file = plain
        }
        self.seekTable = try SeekTable.read(from: file)
        self.decompressedOffsets = seekTable.decompressedOffsets
        let last = seekTable.frames.count - 1
        guard seekTable.frames[last].decompressedSize <= UInt32(Self.maximumStatementSize + 4096) else {
            throw ArchiveError(.format, path, "the last frame is \(seekTable.frames[last].decompressedSize) bytes; a statement frame is small")
        }
        let tar = try TarReader(source: FrameReader(file: file, table: seekTable, startFrame: last), location: path)
        let statement = try Self.readSmallEntry(tar, expected: EntryPath.statement, limit: Self.maximumStatementSize, path: path)
        let signature = try Self.readSmallEntry(tar, expected: EntryPath.signature, limit: 64, path: path)
        guard try tar.next() == nil else {
            throw ArchiveError(.verification, path, "entries follow the signature in the last frame")
        }
        // The last frame holds exactly: statement (header + padded data), signature (header + one block), end blocks.
        let expected = 512 + (statement.count + 511) / 512 * 512 + 512 + 512 + 1024
        guard Int(seekTable.frames[last].decompressedSize) == expected else {
            throw ArchiveError(.verification, path, "the last frame holds \(seekTable.frames[last].decompressedSize) bytes where \(expected) are expected (extra data after the signature)")
        }
        self.statementBytes = statement
        self.signature = signature
    }

    /// For an encrypted archive, authenticates every chunk of it (a pass of decryption only, about 2 GB/s), so that
    /// damage anywhere in the file is refused before an import writes its first item; a plain archive has nothing
    /// to do here (its items are checked one by one as they are written, as always).
    public func authenticateEncryption() throws {
        try (file as? AgeDecryptingFile)?.authenticateAll()
    }

    private static func readSmallEntry(_ tar: TarReader, expected: String, limit: Int, path: String) throws -> [UInt8] {
        guard let header = try tar.next() else {
            throw ArchiveError(.verification, path, "the last frame lacks \(expected) (not a MailFerry archive, or truncated)")
        }
        guard header.path == expected else {
            throw ArchiveError(.verification, path, "expected \(expected) in the last frame, found \(String(reflecting: header.path))")
        }
        guard header.size <= Int64(limit), header.size > 0 else {
            throw ArchiveError(.verification, "\(path): \(expected)", "has size \(header.size); at most \(limit) is allowed")
        }
        var bytes = [UInt8](repeating: 0, count: Int(header.size))
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { try tar.readData(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            guard n > 0 else { throw ArchiveError(.verification, "\(path): \(expected)", "is truncated") }
            filled += n
        }
        return bytes
    }

    /// Checks the Ed25519 signature over the statement with a trusted key, then parses the statement.
    /// Nothing else in the archive is believed before this succeeds.
    @discardableResult
    public func verifySignature(with key: PublicKey) throws -> Statement {
        guard key.isValidSignature(signature, for: statementBytes) else {
            throw ArchiveError(.verification, "\(path): \(EntryPath.signature)", "the signature does not match the statement under the trusted key \(key.keyID) (wrong key, or the archive was altered)")
        }
        let statement = try parseStatement()
        guard statement.signerKeyID == key.keyID else {
            throw ArchiveError(.verification, path, "the statement names signer \(statement.signerKeyID) but the trusted key is \(key.keyID)")
        }
        signatureChecked = true
        checkedStatement = statement
        return statement
    }

    /// The statement parsed without checking its signature, for `inspect` (which says so).
    public func statementWithoutSignature() throws -> Statement {
        try checkedStatement ?? parseStatement()
    }

    private func parseStatement() throws -> Statement {
        let statement: Statement
        do {
            statement = try JSONDecoder().decode(Statement.self, from: Data(statementBytes))
        } catch {
            throw ArchiveError(.format, "\(path): \(EntryPath.statement)", "is not a valid statement: \(error)")
        }
        guard statement.format == ArchiveFormat.statementName, statement.archiveFormat == ArchiveFormat.name else {
            throw ArchiveError(.format, path, "not a MailFerry archive (format \(String(reflecting: statement.archiveFormat)))")
        }
        guard ArchiveFormat.readableVersions.contains(statement.archiveVersion) else {
            throw ArchiveError(.format, path, "archive format version \(statement.archiveVersion) is not supported by this MailFerry (it reads versions \(ArchiveFormat.readableVersions.lowerBound) to \(ArchiveFormat.readableVersions.upperBound)); use a newer MailFerry")
        }
        guard statement.version == ArchiveFormat.statementVersion else {
            throw ArchiveError(.format, path, "statement version \(statement.version) is not supported by this MailFerry (it reads version \(ArchiveFormat.statementVersion)); use a newer MailFerry")
        }
        // A volume is version 3 and says so in its statement; any other archive is not (format-spec 13.1).
        if let volume = statement.volume {
            guard statement.archiveVersion == ArchiveFormat.volumeVersion, Hex.isLowerHex(volume.set, length: 32), volume.number >= 1 else {
                throw ArchiveError(.format, path, "the statement's volume member is not valid for archive version \(statement.archiveVersion)")
            }
        } else if statement.archiveVersion == ArchiveFormat.volumeVersion {
            throw ArchiveError(.format, path, "a version \(ArchiveFormat.volumeVersion) archive without a volume member in its statement")
        }
        let m = statement.manifest
        guard m.path == EntryPath.manifest, Hex.isLowerHex(m.sha256, length: 64), m.frame >= 0,
              m.frame < seekTable.frames.count - 1, decompressedOffsets[m.frame] == m.offset
        else {
            throw ArchiveError(.verification, path, "the statement's manifest reference does not match the archive's frames")
        }
        // The size is checked against the region before it is rounded, so that no stated size can overflow.
        let region = decompressedOffsets[seekTable.frames.count - 1] - m.offset
        guard m.size >= 0, m.size <= region else {
            throw ArchiveError(.verification, path, "the statement's manifest size \(m.size) does not fit the \(region) bytes before the statement")
        }
        let expectedRegion = 512 + (m.size + 511) / 512 * 512
        guard decompressedOffsets[seekTable.frames.count - 1] - m.offset == expectedRegion else {
            throw ArchiveError(.verification, path, "the manifest region is not the size the statement declares (data added or removed near the manifest)")
        }
        return statement
    }

    /// Copies the manifest into a private temporary file while hashing it, and checks size and hash
    /// against the statement before returning, so the manifest that is parsed is exactly the signed one.
    public func loadManifest() throws -> VerifiedManifest {
        try loadManifest(keepingChanges: KeptChanges.defaultLimit)
    }

    /// `loadManifest()`, keeping one user's change lines decoded when they take at most `limit` manifest bytes
    /// (`KeptChanges`).
    func loadManifest(keepingChanges limit: Int) throws -> VerifiedManifest {
        let statement = try statementWithoutSignature()
        let m = statement.manifest
        let tar = try manifestEntry(statement)
        let copy = try ManifestCopy(sealed: isEncrypted)
        let hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try tar.readData(into: buffer)
            if n == 0 { break }
            total += Int64(n)
            guard total <= m.size else { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer.prefix(n))
            hasher.update(chunk)
            try copy.append(chunk)
        }
        guard total == m.size else {
            throw ArchiveError(.verification, "\(path): \(EntryPath.manifest)", "holds \(total) bytes, the signed statement says \(m.size)")
        }
        guard hasher.finalizeHex() == m.sha256 else {
            throw ArchiveError(.verification, "\(path): \(EntryPath.manifest)", "does not match the SHA-256 in the signed statement (the manifest was altered or swapped)")
        }
        return try VerifiedManifest(file: copy, size: total, archivePath: path, statement: statement, keptChangeLimit: limit)
    }

    /// Reads only the manifest's leading records (archive, users, containers), decoding no more of it
    /// than they take: what `inspect` needs for a summary, in milliseconds whatever the archive's size.
    /// Unlike `loadManifest()` the manifest's hash is not checked (that needs all of it); callers say so.
    public func manifestHead() throws -> ManifestHead {
        let statement = try statementWithoutSignature()
        let tar = try manifestEntry(statement)
        let lines = ManifestLineReader(offset: 0, location: "\(path): \(EntryPath.manifest)") { buffer in
            try tar.readData(into: buffer)
        }
        return try ManifestHead(lines: lines, statement: statement)
    }

    /// A tar reader positioned at the manifest's bytes, where the statement says it is and of the signed size.
    private func manifestEntry(_ statement: Statement) throws -> TarReader {
        let m = statement.manifest
        let tar = try TarReader(
            source: FrameReader(file: file, table: seekTable, startFrame: m.frame, endFrame: seekTable.frames.count - 1),
            location: path)
        guard let header = try tar.next(), header.path == EntryPath.manifest else {
            throw ArchiveError(.verification, path, "no manifest where the statement says it is")
        }
        guard header.size == m.size else {
            throw ArchiveError(.verification, "\(path): \(EntryPath.manifest)", "is \(header.size) bytes, the signed statement says \(m.size)")
        }
        return tar
    }

    /// Streams the item entries in archive order, each checked against its manifest entry.
    public func items(_ manifest: VerifiedManifest) throws -> ArchiveItemStream {
        let statement = try statementWithoutSignature()
        let frames = try itemFrames()
        // No items (a delta that only changes flags): the item region is empty, no tar stream to open.
        let tar = statement.manifest.offset == 0 ? nil : try TarReader(source: frames, location: path)
        return try ArchiveItemStream(tar: tar, entries: manifest.entries(), archivePath: path, manifestOffset: statement.manifest.offset, frameOffsets: decompressedOffsets)
    }

    /// Like `items(_:)`, checking the same things in the same order, but with the frames decompressed
    /// (`ThreadedFrameReader`, from a reader of its own that `archive`, this archive verified, opens there) and the
    /// manifest's entry lines decoded (`PrefetchedManifestEntries`, from this manifest, which is read with `pread`)
    /// on threads of their own; the caller's thread reads the tar entries and hashes them.
    func items(_ manifest: VerifiedManifest, readingAheadWith archive: VerifiedArchive) throws -> ArchiveItemStream {
        let statement = try statementWithoutSignature()
        guard statement.manifest.offset != 0 else { return try items(manifest) }
        let frames = ThreadedFrameReader { try archive.openReader().itemFrames() }
        let entries = PrefetchedManifestEntries(manifest: manifest) { manifest.entries() }
        return try ArchiveItemStream(
            tar: TarReader(source: frames, location: path), entries: entries, archivePath: path,
            manifestOffset: statement.manifest.offset, frameOffsets: decompressedOffsets)
    }

    /// Every frame of the item region, from the first to the manifest's.
    func itemFrames() throws -> FrameReader {
        let statement = try statementWithoutSignature()
        return try FrameReader(file: file, table: seekTable, startFrame: 0, endFrame: statement.manifest.frame)
    }

    /// The items of one user's run only, decoding from the frame where it starts; each is checked against the
    /// manifest as `items` checks it (name, position, size, SHA-256). For importing users in parallel.
    public func items(_ manifest: VerifiedManifest, of run: VerifiedManifest.UserEntries) throws -> ArchiveItemStream {
        let statement = try statementWithoutSignature()
        guard run.firstFrame >= 0, run.firstFrame < statement.manifest.frame, run.firstOffset >= decompressedOffsets[run.firstFrame],
            run.firstOffset < decompressedOffsets[run.firstFrame + 1]
        else { throw ArchiveError(.verification, path, "user \(run.user)'s first entry is not where the seek table says") }
        let frames = try FrameReader(
            file: file, table: seekTable, startFrame: run.firstFrame, endFrame: statement.manifest.frame,
            skip: run.firstOffset - decompressedOffsets[run.firstFrame])
        return try ArchiveItemStream(
            tar: TarReader(source: frames, location: path), entries: manifest.entries(of: run), archivePath: path,
            manifestOffset: statement.manifest.offset, frameOffsets: decompressedOffsets, runStart: run.firstOffset)
    }

    /// Reads one entry's bytes by decoding only the frames it lies in (for `inspect --show`).
    /// The bytes are checked against the manifest's size and hash.
    public func readEntry(_ record: EntryRecord, consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard record.frame >= 0, record.frame < seekTable.frames.count, record.offset >= decompressedOffsets[record.frame],
              record.offset < decompressedOffsets[record.frame + 1]
        else { throw ArchiveError(.verification, "\(path): \(record.path)", "the manifest's frame and offset do not match the seek table") }
        let frames = try FrameReader(file: file, table: seekTable, startFrame: record.frame, skip: record.offset - decompressedOffsets[record.frame])
        let tar = try TarReader(source: frames, location: path)
        guard let header = try tar.next(), header.path == record.path, header.size == record.size else {
            throw ArchiveError(.verification, "\(path): \(record.path)", "the entry is not where the manifest says")
        }
        let body = ArchiveItemBody(tar: tar, record: record, location: "\(path): \(record.path)")
        try body.stream(consume)
        try body.check()
    }
}
