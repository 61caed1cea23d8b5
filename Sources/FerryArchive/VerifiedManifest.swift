import Foundation
import MailModel
import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// The manifest, copied out of the archive into a private unlinked file and checked against the
/// signed statement, so later reads cannot be fooled by the archive file changing underneath.
/// The leading records (archive, users, containers) are parsed once; entries are streamed.
///
/// Sendable because nothing in it changes once it is loaded: every iterator reads the private copy with `pread` at
/// offsets of its own, and the one shared mutable part, `KeptChanges`, is behind a mutex. The import's read-ahead
/// thread and parallel jobs read the manifest the calling thread loaded.
public final class VerifiedManifest: @unchecked Sendable {
    let file: ManifestCopy
    public let size: Int64
    public let statement: Statement
    public let header: ArchiveHeader
    public let users: [UserRecord]
    public let containers: [ContainerRecord]
    /// Containers by user, kind and number, for lookups per entry.
    private let containerIndex: [String: Int]
    /// Byte offset of the first entry line.
    let entriesOffset: Int64
    /// Byte offset of the first change line (where the entries begin when there are none).
    let changesOffset: Int64
    public let changeCount: Int
    private let changeRuns: [Int: ManifestHead.ChangeRun]
    /// One user's decoded change lines, kept for the next pass over them.
    private let kept: KeptChanges
    public let archivePath: String

    /// Longest manifest line accepted: an entry with long subjects and many cards stays far below.
    static let maximumLineLength = 1 << 20

    /// `keptChangeLimit`: the most manifest bytes of one user's change lines kept decoded for the next pass
    /// (`KeptChanges`).
    init(file: ManifestCopy, size: Int64, archivePath: String, statement: Statement, keptChangeLimit: Int = KeptChanges.defaultLimit) throws {
        self.file = file
        self.size = size
        self.statement = statement
        self.archivePath = archivePath
        let lines = ManifestLineReader(file: file, size: size, offset: 0, location: "\(archivePath): \(EntryPath.manifest)")
        let head = try ManifestHead(lines: lines, statement: statement)
        self.header = head.header
        self.users = head.users
        self.containers = head.containers
        var index: [String: Int] = [:]
        for (i, c) in head.containers.enumerated() { index["\(c.user)/\(c.kind.rawValue)/\(c.number)"] = i }
        self.containerIndex = index
        self.entriesOffset = head.entriesOffset
        self.changesOffset = head.changesOffset
        self.changeCount = head.changeCount
        self.changeRuns = head.changeRuns
        self.kept = KeptChanges(limit: keptChangeLimit, decoded: head.changeCount)
    }

    /// True for a delta archive (`deltaOf` set).
    public var isDelta: Bool { header.deltaOf != nil }

    /// Streams the change lines (checked when the head was read), in user order.
    public func changes() -> ManifestChangeIterator {
        ManifestChangeIterator(
            lines: ManifestLineReader(file: file, size: size, offset: changesOffset, location: "\(archivePath): \(EntryPath.manifest)"),
            count: changeCount, kept: kept)
    }

    /// Streams one user's change lines, from where they begin: a user's changes cost a read of that user's lines
    /// only, however many users come before. The lines of the user read last are kept decoded when they are few
    /// enough (`KeptChanges`, bounded by their bytes), so the passes over them decode each once.
    public func changes(of user: Int) -> ManifestChangeIterator {
        let run = changeRuns[user] ?? ManifestHead.ChangeRun(offset: changesOffset, count: 0)
        if let whole = kept.run(of: user) {
            return ManifestChangeIterator(
                lines: ManifestLineReader(file: file, size: size, offset: whole.endOffset, location: "\(archivePath): \(EntryPath.manifest)"),
                count: run.count - whole.records.count, kept: kept, served: whole.records)
        }
        if run.count > 0 { kept.forget() }
        return ManifestChangeIterator(
            lines: ManifestLineReader(file: file, size: size, offset: run.offset, location: "\(archivePath): \(EntryPath.manifest)"),
            count: run.count, kept: kept, keeping: kept.admits(bytes: run.bytes) ? user : nil)
    }

    /// One user's change lines read from the copy, never from those kept decoded, so that each line's place is
    /// known (`ManifestChangeIterator.lastLine`) for a caller that keeps places instead of records.
    public func changeLines(of user: Int) -> ManifestChangeIterator {
        let run = changeRuns[user] ?? ManifestHead.ChangeRun(offset: changesOffset, count: 0)
        return ManifestChangeIterator(
            lines: ManifestLineReader(file: file, size: size, offset: run.offset, location: "\(archivePath): \(EntryPath.manifest)"),
            count: run.count, kept: kept)
    }

    /// The line at `ref` (a place an iterator of this manifest gave) read again from the copy. The copy was
    /// checked whole against the signed statement and is never written again, so the line says what it said
    /// when the iterator returned it.
    public func line(_ ref: ManifestLineRef) throws -> ManifestLine {
        let location = "\(archivePath): \(EntryPath.manifest)"
        guard ref.offset >= 0, ref.length <= Self.maximumLineLength, ref.offset + Int64(ref.length) <= size else {
            throw ArchiveError(.io, location, "no manifest line at byte \(ref.offset)")
        }
        var bytes = [UInt8](repeating: 0, count: ref.length)
        let got = try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: ref.offset) }
        guard got == ref.length else { throw ArchiveError(.io, location, "the manifest copy is short") }
        if let fast = bytes.withUnsafeBytes(CanonicalManifestLine.decode) { return fast }
        return try ManifestLineReader.decodeOther(bytes, decoder: JSONDecoder(), location: location, at: ref.offset)
    }

    /// Change lines decoded since the manifest was loaded (the head's checks included): the seam that shows what
    /// keeping them saves.
    var changeLinesDecoded: Int { kept.decodedLines }

    /// How many of one user's change lines rename a folder (counted when the head was read), so that an import
    /// that applies renames first reads that user's change lines for them only when there are some.
    public func folderRenames(of user: Int) -> Int { changeRuns[user]?.renames ?? 0 }

    /// Reads every entry line and checks the counts the manifest states (per user, per container, in total)
    /// against them, reading no item: format-spec section 7, a count is checked before it is shown or used.
    public func checkCounts() throws {
        var tally = CountTally(manifest: self)
        let entries = self.entries()
        while let e = try entries.next() { tally.add(e) }
        try tally.check(location: "\(archivePath): \(EntryPath.manifest)")
    }

    public func entries() -> ManifestEntryIterator {
        ManifestEntryIterator(lines: ManifestLineReader(file: file, size: size, offset: entriesOffset, location: "\(archivePath): \(EntryPath.manifest)"), manifest: self)
    }

    /// One user's run of entries: where it starts in the manifest and in the item stream, and its length.
    public struct UserEntries: Sendable {
        public let user: Int
        public let count: Int
        let manifestOffset: Int64
        let firstFrame: Int
        let firstOffset: Int64
    }

    /// One pass over all entries (with every check `entries()` makes): each user's run. A user whose entries are
    /// not one run (never written so) is an error, so that a run can be read on its own.
    ///
    /// A manifest of one user (an export per user, the usual case) needs no pass: its run is all the entries, and
    /// its first entry says where they start. Reading that run (`entries(of:)`) then reads to the end with every
    /// check `entries()` makes, the count included. A delta export, its import's reconcile and the identity map
    /// each read 20,000 entries once instead of twice so.
    public func userEntries() throws -> [Int: UserEntries] {
        if users.count == 1 {
            guard let first = try entries().next() else { return [:] }
            return [
                first.user: UserEntries(
                    user: first.user, count: header.entryCount, manifestOffset: entriesOffset, firstFrame: first.frame,
                    firstOffset: first.offset)
            ]
        }
        let lines = ManifestLineReader(file: file, size: size, offset: entriesOffset, location: "\(archivePath): \(EntryPath.manifest)")
        let iterator = ManifestEntryIterator(lines: lines, manifest: self)
        var runs: [Int: UserEntries] = [:]
        var current: (user: Int, count: Int, manifestOffset: Int64, frame: Int, offset: Int64)?
        func close() {
            if let c = current {
                runs[c.user] = UserEntries(user: c.user, count: c.count, manifestOffset: c.manifestOffset, firstFrame: c.frame, firstOffset: c.offset)
            }
        }
        while true {
            let lineStart = lines.offset
            guard let e = try iterator.next() else { break }
            if current?.user == e.user {
                current!.count += 1
                continue
            }
            close()
            guard runs[e.user] == nil else {
                throw ArchiveError(.verification, "\(archivePath): entry \(e.path)", "user \(e.user)'s entries are not one run")
            }
            current = (e.user, 1, lineStart, e.frame, e.offset)
        }
        close()
        return runs
    }

    /// The entries of one user's run, checked as `entries()` checks them; a run that is all the entries is read to
    /// their end, so that their number is checked against the archive record too.
    public func entries(of run: UserEntries) -> ManifestEntryIterator {
        let all = run.manifestOffset == entriesOffset && run.count == header.entryCount
        return ManifestEntryIterator(
            lines: ManifestLineReader(file: file, size: size, offset: run.manifestOffset, location: "\(archivePath): \(EntryPath.manifest)"),
            manifest: self, limit: all ? nil : run.count)
    }

    public func container(user: Int, kind: ContainerRecord.Kind, number: Int) -> ContainerRecord? {
        containerIndex["\(user)/\(kind.rawValue)/\(number)"].map { containers[$0] }
    }
}

/// The records before the entries: archive, users, containers, checked for order and agreement
/// with the statement. Small (a line per user and folder), so it is held in memory.
public struct ManifestHead: Sendable {
    public var header: ArchiveHeader
    public var users: [UserRecord]
    public var containers: [ContainerRecord]
    /// Byte offset of the first entry line.
    var entriesOffset: Int64
    var changesOffset: Int64 = 0
    var changeCount = 0
    /// Each user's change lines (they are in user order): where they begin and how many.
    var changeRuns: [Int: ChangeRun] = [:]

    struct ChangeRun: Sendable {
        var offset: Int64
        var count: Int
        /// Manifest bytes of the lines.
        var bytes: Int64 = 0
        /// Of those, the folder renames.
        var renames = 0
    }

    public init(header: ArchiveHeader, users: [UserRecord], containers: [ContainerRecord]) {
        self.header = header
        self.users = users
        self.containers = containers
        self.entriesOffset = 0
    }

    init(lines: ManifestLineReader, statement: Statement) throws {
        guard case .archive(let header)? = try lines.next() else {
            throw ArchiveError(.format, lines.location, "the first line is not the archive record")
        }
        guard header.format == ArchiveFormat.name, header.version == statement.archiveVersion,
              header.archiveID == statement.archiveID, header.signerKeyID == statement.signerKeyID,
              header.created == statement.created
        else { throw ArchiveError(.verification, lines.location, "the archive record does not agree with the signed statement") }
        var users: [UserRecord] = []
        var containers: [ContainerRecord] = []
        var lastContainer: [String: Int] = [:]
        var entriesOffset = lines.offset
        var changesOffset: Int64?
        var changeCount = 0
        var changeRuns: [Int: ChangeRun] = [:]
        var lastChangeUser = 0
        while let line = try lines.next() {
            switch line {
            case .archive: throw ArchiveError(.format, lines.location, "a second archive record")
            case .change(let change):
                // Checked here and not kept: a delta of a large mailbox has a line per item it still holds, and
                // whether a user's lines are few enough to keep (`KeptChanges`) is known only once all are read;
                // the first pass that reads them knows, and keeps them.
                guard header.version >= 2, header.deltaOf != nil else {
                    throw ArchiveError(.format, lines.location, "a change record in an archive that is not a delta")
                }
                guard change.user >= lastChangeUser, change.user >= 1, change.user <= users.count else {
                    throw ArchiveError(.format, lines.location, "a change record names user \(change.user), which is not listed or out of order")
                }
                try ChangeCheck.check(change, containers: lastContainer, location: "\(lines.location) line \(lines.lineNumber)")
                lastChangeUser = change.user
                if changesOffset == nil { changesOffset = entriesOffset }
                changeRuns[change.user, default: ChangeRun(offset: entriesOffset, count: 0)].count += 1
                changeRuns[change.user]!.bytes = lines.offset - changeRuns[change.user]!.offset
                if change.op == .renameFolder { changeRuns[change.user]!.renames += 1 }
                changeCount += 1
            case .user(let u):
                guard containers.isEmpty, u.user == users.count + 1 else {
                    throw ArchiveError(.format, lines.location, "user records out of order")
                }
                users.append(u)
            case .container(let c):
                guard changesOffset == nil else {
                    throw ArchiveError(.format, lines.location, "a container record after a change record")
                }
                guard c.user >= 1, c.user <= users.count else {
                    throw ArchiveError(.format, lines.location, "a container names user \(c.user), which is not listed")
                }
                // Numbered 1, 2, 3 ... per user and kind, each carrying exactly the object of its kind.
                let key = "\(c.user)/\(c.kind.rawValue)"
                let objects = [c.folder != nil, c.addressBook != nil, c.calendar != nil].filter { $0 }.count
                let rightObject = c.kind == .folder ? c.folder != nil : c.kind == .addressBook ? c.addressBook != nil : c.calendar != nil
                guard c.number == (lastContainer[key] ?? 0) + 1, objects == 1, rightObject else {
                    throw ArchiveError(.format, lines.location, "\(c.kind.rawValue) \(c.number) of user \(c.user) is out of sequence or does not describe a \(c.kind.rawValue)")
                }
                lastContainer[key] = c.number
                containers.append(c)
            case .entry: break
            }
            if case .entry = line { break }
            entriesOffset = lines.offset
        }
        guard users.count == header.userCount else {
            throw ArchiveError(.format, lines.location, "lists \(users.count) users, the archive record says \(header.userCount)")
        }
        // Stated counts are summed (progress totals) before the entries confirm them: refuse any that are
        // negative or whose sums would overflow, so that no arithmetic on them can trap.
        var statedSum = Counts()
        for u in users {
            guard let sum = statedSum.checkedAdding(u.counts) else {
                throw ArchiveError(.format, "\(lines.location): user \(u.user)", "states counts that are negative or too large to add up")
            }
            statedSum = sum
        }
        guard Counts().checkedAdding(header.totals) != nil, header.itemBytes >= 0, header.entryCount >= 0 else {
            throw ArchiveError(.format, "\(lines.location): archive record", "states totals that are negative or too large")
        }
        if header.version >= 2 {
            guard header.changeCount == changeCount else {
                throw ArchiveError(.format, lines.location, "lists \(changeCount) change records, the archive record says \(header.changeCount.map(String.init) ?? "none")")
            }
            if let base = header.deltaOf, !Hex.isLowerHex(base, length: 32) {
                throw ArchiveError(.format, lines.location, "deltaOf is not an archive id")
            }
        } else if header.changeCount != nil {
            throw ArchiveError(.format, lines.location, "a version 1 archive record with a changeCount")
        }
        self.changesOffset = changesOffset ?? entriesOffset
        self.changeCount = changeCount
        self.changeRuns = changeRuns
        self.header = header
        self.users = users
        self.containers = containers
        self.entriesOffset = entriesOffset
    }
}

/// Where one line lies in the manifest copy (without its newline), to read it again later on its own
/// (`VerifiedManifest.line(_:)`) instead of holding what it says.
public struct ManifestLineRef: Sendable, Hashable {
    public let offset: Int64
    let storedLength: UInt32
    public var length: Int { Int(storedLength) }

    init(offset: Int64, length: Int) {
        self.offset = offset
        // A line is at most VerifiedManifest.maximumLineLength (1 MiB) long.
        self.storedLength = UInt32(length)
    }
}

/// Reads manifest lines with a bounded buffer, from the verified copy or straight from the archive.
final class ManifestLineReader {
    private(set) var offset: Int64
    let location: String
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var exhausted = false
    private let fill: (UnsafeMutableRawBufferPointer) throws -> Int
    private let decoder = JSONDecoder()
    private(set) var lineNumber = 0
    /// Lines the canonical fast path decoded (the rest went to JSONDecoder): a seam for tests.
    private(set) var fastPathLines = 0
    /// Where the line `next()` returned last lies in the manifest.
    private(set) var lastLine: ManifestLineRef?

    /// Lines of `file` from `offset` to `size`.
    convenience init(file: any ArchiveBytes, size: Int64, offset: Int64, location: String) {
        var fileOffset = offset
        self.init(offset: offset, location: location) { buffer in
            let want = Int(min(Int64(buffer.count), size - fileOffset))
            guard want > 0 else { return 0 }
            let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(want)), at: fileOffset)
            guard got == want else { throw ArchiveError(.io, location, "the manifest copy is short") }
            fileOffset += Int64(got)
            return got
        }
    }

    /// Lines of whatever `fill` gives (0 at the end).
    init(offset: Int64, location: String, fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.offset = offset
        self.location = location
        self.fill = fill
    }

    func next() throws -> ManifestLine? {
        while true {
            if let nl = buffer[bufferStart...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[bufferStart..<nl]
                bufferStart = nl + 1
                lastLine = ManifestLineRef(offset: offset, length: line.count)
                offset += Int64(line.count + 1)
                lineNumber += 1
                // The writer's own form decodes without JSONDecoder; anything else is JSONDecoder's to judge.
                if let fast = line.withUnsafeBytes(CanonicalManifestLine.decode) {
                    fastPathLines += 1
                    return fast
                }
                return try Self.decodeOther(line, decoder: decoder, location: location, at: offset - Int64(line.count + 1))
            }
            if exhausted {
                lastLine = nil
                if bufferStart < buffer.count {
                    throw ArchiveError(.format, location, "the last line has no newline")
                }
                return nil
            }
            guard buffer.count - bufferStart < VerifiedManifest.maximumLineLength else {
                throw ArchiveError(.format, location, "a line longer than \(VerifiedManifest.maximumLineLength) bytes")
            }
            buffer.removeSubrange(0..<bufferStart)
            bufferStart = 0
            let chunk = 1 << 16
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            let got = try buffer.withUnsafeMutableBytes { try fill(UnsafeMutableRawBufferPointer(rebasing: $0[old...])) }
            buffer.removeSubrange((old + got)...)
            if got == 0 { exhausted = true }
        }
    }

    /// A line the fast path left (not in the writer's exact form) decoded by JSONDecoder, which judges it.
    static func decodeOther(_ line: some Collection<UInt8>, decoder: JSONDecoder, location: String, at offset: Int64) throws -> ManifestLine {
        do {
            return try decoder.decode(ManifestLine.self, from: Data(line))
        } catch {
            throw ArchiveError(.format, "\(location) at byte \(offset)", "not a valid manifest line: \(error)")
        }
    }
}

/// Streams entry records, checking that each is well formed and refers to listed users and containers.
public final class ManifestEntryIterator {
    let lines: ManifestLineReader
    let manifest: VerifiedManifest
    private var count = 0
    private var lastOffset: Int64 = -1
    private var known: Set<ContainerKey>
    private var lastSequence: [ContainerKey: Int] = [:]

    private struct ContainerKey: Hashable { var user: Int; var kind: ContainerRecord.Kind?; var number: Int }

    /// For one user's run: stop after this many entries (the total is then not checked).
    private let limit: Int?

    /// Where the entry `next()` returned last lies in the manifest (`VerifiedManifest.line(_:)` reads it again).
    public var lastLine: ManifestLineRef? { lines.lastLine }

    init(lines: ManifestLineReader, manifest: VerifiedManifest, limit: Int? = nil) {
        self.lines = lines
        self.manifest = manifest
        self.limit = limit
        self.known = Set(manifest.containers.map { ContainerKey(user: $0.user, kind: $0.kind, number: $0.number) })
    }

    public func next() throws -> EntryRecord? {
        if let limit, count >= limit { return nil }
        guard let line = try lines.next() else {
            guard count == manifest.header.entryCount else {
                throw ArchiveError(.format, lines.location, "lists \(count) entries, the archive record says \(manifest.header.entryCount)")
            }
            return nil
        }
        guard case .entry(let e) = line else {
            throw ArchiveError(.format, lines.location, "a non-entry record among the entries")
        }
        // Made only for an error: every entry of every manifest read passes here.
        var location: String { "\(lines.location): entry \(e.path)" }
        guard let name = EntryPath.item(e.path), name.user == e.user else {
            throw ArchiveError(.verification, location, "is not a MailFerry item name")
        }
        guard e.size >= 0, Hex.isLowerHex(e.sha256, length: 64), e.offset > lastOffset else {
            throw ArchiveError(.verification, location, "has an invalid size, hash or position")
        }
        if manifest.header.version >= 2, (e.sourceKey ?? "").isEmpty {
            throw ArchiveError(.verification, location, "has no sourceKey (required since version 2)")
        }
        guard e.user >= 1, e.user <= manifest.users.count else {
            throw ArchiveError(.verification, location, "names user \(e.user), which is not listed")
        }
        // The name's kind and container are the entry's, and the container is one of the user's of that kind.
        let metadataPresent: Bool
        switch e.kind {
        case .message: metadataPresent = e.message != nil
        case .contact: metadataPresent = e.contact != nil
        case .calendarItem: metadataPresent = e.calendarItem != nil
        case .sieveScript: metadataPresent = e.sieve != nil
        }
        let containerKind = sequenceKind(e.kind)
        guard metadataPresent, name.kind == e.kind, name.container == e.container,
            containerKind == nil || known.contains(ContainerKey(user: e.user, kind: containerKind, number: e.container ?? 0))
        else {
            throw ArchiveError(.verification, location, "its kind, name, container and metadata do not agree")
        }
        // Items are numbered 1, 2, 3 ... within each container (and each user's scripts), in archive
        // order, so a name can never be listed twice.
        let sequenceKey = ContainerKey(user: e.user, kind: containerKind, number: e.container ?? 0)
        let expected = (lastSequence[sequenceKey] ?? 0) + 1
        guard name.sequence == expected else {
            throw ArchiveError(.verification, location, "is out of sequence: the next item of its container is number \(expected) (an item listed twice or skipped)")
        }
        lastSequence[sequenceKey] = expected
        lastOffset = e.offset
        count += 1
        return e
    }

    /// Scripts have no container; they count in a sequence of their own per user.
    private func sequenceKind(_ kind: ItemKind) -> ContainerRecord.Kind? {
        switch kind {
        case .message: return .folder
        case .contact: return .addressBook
        case .calendarItem: return .calendar
        case .sieveScript: return nil
        }
    }
}

/// The private copy of a manifest that `ArchiveReader.loadManifest` checks and later reads: an unlinked file in
/// `$TMPDIR`, sealed (`ScratchCipher`) when the archive was encrypted, so its plaintext never reaches the disk.
final class ManifestCopy: ArchiveBytes {
    private let file: OwnedFile
    private let cipher: ScratchCipher?
    private var written: Int64 = 0
    private var sealing: [UInt8] = []

    init(sealed: Bool) throws {
        file = try OwnedFile.temporary(in: ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp", prefix: "mailferry-manifest-")
        cipher = sealed ? try ScratchCipher() : nil
    }

    var path: String { file.path }
    var size: Int64 { written }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if let cipher {
            sealing.removeAll(keepingCapacity: true)
            sealing.append(contentsOf: bytes)
            sealing.withUnsafeMutableBytes { cipher.apply($0, at: written) }
            try file.write(sealing)
        } else {
            try file.write(bytes)
        }
        written += Int64(bytes.count)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        let got = try file.read(into: buffer, at: offset)
        if let cipher { cipher.apply(UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(got)), at: offset) }
        return got
    }
}
