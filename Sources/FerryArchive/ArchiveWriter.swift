import Foundation
import MailModel
#if canImport(Glibc)
import Glibc
#endif

/// Options that describe the archive rather than its content.
public struct ArchiveOptions: Sendable {
    public var station: String
    public var sequence: Int
    public var deltaOf: String?
    public var tool: String
    /// Fixed id and creation time, for reproducible test vectors; random id and the current time when nil.
    public var fixedArchiveID: String?
    public var fixedCreated: Int64?
    /// The migration's renamed users (source address to target address), recorded in the header.
    public var renamedUsers: [String: String] = [:]
    public init(station: String, sequence: Int = 1, deltaOf: String? = nil, tool: String, fixedArchiveID: String? = nil, fixedCreated: Int64? = nil) {
        self.station = station
        self.sequence = sequence
        self.deltaOf = deltaOf
        self.tool = tool
        self.fixedArchiveID = fixedArchiveID
        self.fixedCreated = fixedCreated
    }
}

/// What `ArchiveWriter.finish` made.
public struct WrittenArchive: Sendable {
    public var path: String
    public var header: ArchiveHeader
    public var statement: Statement
    public var fileSize: Int64
    public var frames: Int
    public var warnings: [SourceProblem]
}

/// Serialises mailboxes into a MailFerry archive as sources feed it (it is a `MailboxSink`).
///
/// Everything is written to `PATH.partial`; only `finish` fsyncs it and renames it to `PATH`, so a
/// failed or interrupted export never leaves a file under the final name. Item bytes stream from
/// the source through SHA-256 into tar entries and zstd frames; manifest entry lines are spooled to
/// an unlinked temporary file, so memory does not grow with the number of items.
public final class ArchiveWriter: MailboxSink {
    public let path: String
    private let partialPath: String
    private let output: OwnedFile
    private let pipeline: FramePipeline
    private let tar: TarWriter
    private let entrySpool: OwnedFile
    /// Change lines of a delta (`recordChange`), spooled like entries; they precede the entries in the manifest.
    private let changeSpool: OwnedFile
    private var changeBuffer: [UInt8] = []
    private var changeSpoolSize: Int64 = 0
    private var changeCount = 0
    private var spoolBuffer: [UInt8] = []
    private var spoolSize: Int64 = 0
    private let signingKey: SigningKey
    private let options: ArchiveOptions
    private let encoder = ManifestCoding.encoder()
    private let hasher = SHA256()
    private let archiveID: String
    private let created: String
    private let createdStamp: InternalDateStamp

    private var users: [UserRecord] = []
    private var containers: [ContainerRecord] = []
    private var containerIndex: [ContainerKey: Int] = [:]
    private var nextContainer: [ContainerRecord.Kind: Int] = [:]
    private var sieveSequence = 0
    private var itemSequence: [ContainerKey: Int] = [:]
    private var entryCount = 0
    private var itemBytes: Int64 = 0
    private var finished = false
    public private(set) var warnings: [SourceProblem] = []

    /// Called after each item with the running totals (items, bytes), for progress displays.
    public var onItem: ((Int, Int64) -> Void)?
    /// Called for each source warning as it happens.
    public var onWarning: ((SourceProblem) -> Void)?

    private struct ContainerKey: Hashable {
        var user: Int
        var kind: ContainerRecord.Kind
        var number: Int
    }

    static let spoolFlushSize = 1 << 20

    public init(path: String, signingKey: SigningKey, options: ArchiveOptions) throws {
        self.path = path
        self.partialPath = path + ".partial"
        self.signingKey = signingKey
        self.options = options
        self.output = try OwnedFile(path: partialPath, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        let spoolPath = partialPath + ".entries"
        self.entrySpool = try OwnedFile(path: spoolPath, flags: O_RDWR | O_CREAT | O_TRUNC | O_EXCL, mode: 0o600)
        unlink(spoolPath)  // it lives only as long as the descriptor
        let changePath = partialPath + ".changes"
        self.changeSpool = try OwnedFile(path: changePath, flags: O_RDWR | O_CREAT | O_TRUNC | O_EXCL, mode: 0o600)
        unlink(changePath)
        self.pipeline = FramePipeline(output: output)
        self.tar = try TarWriter(pipeline: pipeline)
        var random = SystemRandomNumberGenerator()
        self.archiveID = options.fixedArchiveID ?? Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let seconds = options.fixedCreated ?? Int64(Date().timeIntervalSince1970.rounded(.down))
        self.createdStamp = InternalDateStamp(seconds: seconds, nanoseconds: 0)
        self.created = InternalDate(epochSeconds: seconds).iso8601
    }

    deinit {
        if !finished { unlink(partialPath) }
    }

    /// Target addresses by lower-cased source address: recorded in the manifest as each user's `targetAddress`.
    public var targetAddresses: [String: String] = [:]

    private var currentUser: Int { users.count }

    // MARK: MailboxSink

    public func beginUser(_ user: UserInfo) throws {
        let mapped = targetAddresses[user.address.lowercased()]
        users.append(UserRecord(
            user: users.count + 1, address: user.address, targetAddress: mapped == user.address ? nil : mapped,
            settings: UserSettings(), counts: Counts()))
        sieveSequence = 0
        nextContainer = [:]  // container numbers count from 1 for each user
    }

    public func folder(_ folder: FolderInfo) throws -> Int {
        addContainer(.folder) { $0.folder = folder }
    }

    public func addressBook(_ book: AddressBookInfo) throws -> Int {
        addContainer(.addressBook) { $0.addressBook = book }
    }

    public func calendar(_ calendar: CalendarInfo) throws -> Int {
        addContainer(.calendar) { $0.calendar = calendar }
    }

    public func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        let key = try containerKey(.folder, folder)
        let sequence = nextSequence(key)
        var record = EntryRecord(path: EntryPath.message(user: currentUser, folder: folder, sequence: sequence), kind: .message, user: currentUser, container: folder, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        record.message = info
        record.sourceKey = info.sourceKey
        let mtime = InternalDateStamp(seconds: info.internalDate.epochSeconds, nanoseconds: info.internalDate.nanoseconds)
        guard info.subject == nil && info.from == nil && info.messageID == nil else {
            try writeItem(&record, body: body, mtime: mtime, container: key)
            return
        }
        // A source that streams (IMAP) has not read the header: summarise it from the bytes going by, for people
        // browsing the archive.
        let watched = HeaderWatchingBody(body, limit: Self.headerSummaryLimit)
        try writeItem(&record, body: watched, mtime: mtime, container: key) {
            let summary = HeaderSummary(header: watched.prefix)
            $0.message?.subject = summary.subject
            $0.message?.from = summary.from
            $0.message?.messageID = summary.messageID
        }
    }

    /// How much of a message's start is read for its header summary.
    static let headerSummaryLimit = 64 * 1024

    public func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        let key = try containerKey(.addressBook, book)
        var record = EntryRecord(path: EntryPath.contact(user: currentUser, book: book, sequence: nextSequence(key)), kind: .contact, user: currentUser, container: book, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        record.contact = info
        record.sourceKey = Self.sourceKey(contact: info, book: containers[containerIndex[key]!].displayName)
        try writeItem(&record, body: body, mtime: createdStamp, container: key)
    }

    public func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        let key = try containerKey(.calendar, calendar)
        var record = EntryRecord(path: EntryPath.calendarItem(user: currentUser, calendar: calendar, sequence: nextSequence(key)), kind: .calendarItem, user: currentUser, container: calendar, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        record.calendarItem = info
        record.sourceKey = Self.sourceKey(calendarItem: info, calendar: containers[containerIndex[key]!].displayName)
        try writeItem(&record, body: body, mtime: createdStamp, container: key)
    }

    public func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        try requireUser()
        sieveSequence += 1
        var record = EntryRecord(path: EntryPath.sieve(user: currentUser, sequence: sieveSequence), kind: .sieveScript, user: currentUser, container: nil, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        record.sieve = info
        record.sourceKey = Self.sourceKey(sieve: info)
        try writeItem(&record, body: body, mtime: createdStamp, container: nil)
    }

    public func endUser(settings: UserSettings) throws {
        try requireUser()
        users[currentUser - 1].settings = settings
    }

    public func warning(_ problem: SourceProblem) {
        warnings.append(problem)
        onWarning?(problem)
    }

    // MARK: Items

    private func requireUser() throws {
        guard currentUser > 0 else { throw ArchiveError(.io, path, "an item came before any user (source bug)") }
    }

    private func addContainer(_ kind: ContainerRecord.Kind, _ fill: (inout ContainerRecord) -> Void) -> Int {
        let number = (nextContainer[kind] ?? 0) + 1
        nextContainer[kind] = number
        var record = ContainerRecord(kind: kind, user: currentUser, number: number, items: 0, bytes: 0)
        fill(&record)
        let key = ContainerKey(user: currentUser, kind: kind, number: number)
        containerIndex[key] = containers.count
        containers.append(record)
        return number
    }

    private func containerKey(_ kind: ContainerRecord.Kind, _ number: Int) throws -> ContainerKey {
        let key = ContainerKey(user: currentUser, kind: kind, number: number)
        guard containerIndex[key] != nil else {
            throw ArchiveError(.io, path, "an item refers to \(kind.rawValue) \(number), which was not announced (source bug)")
        }
        return key
    }

    private func nextSequence(_ key: ContainerKey) -> Int {
        let n = (itemSequence[key] ?? 0) + 1
        itemSequence[key] = n
        return n
    }

    private func writeItem(
        _ record: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp, container: ContainerKey?,
        beforeRecording: (inout EntryRecord) -> Void = { _ in }
    ) throws {
        precondition(!finished)
        record.offset = pipeline.streamOffset
        record.frame = pipeline.currentFrameIndex
        try tar.writeEntry(path: record.path, size: body.byteCount, mtime: mtime) { emit in
            try body.stream { chunk in
                hasher.update(chunk)
                try emit(chunk)
            }
        }
        record.sha256 = hasher.finalizeHex()
        // A source without stable ids (mbox) is known by content: the weakest key, documented as such.
        if record.sourceKey == nil { record.sourceKey = Self.contentSourceKey(sha256: record.sha256) }
        beforeRecording(&record)
        try pipeline.entryBoundary()
        try spool(ManifestCoding.line(ManifestLine.entry(record), with: encoder))
        entryCount += 1
        itemBytes += record.size
        users[currentUser - 1].counts.add(record)
        if let container, let i = containerIndex[container] {
            containers[i].items += 1
            containers[i].bytes += record.size
        }
        onItem?(entryCount, itemBytes)
    }

    // MARK: Source keys

    /// Contacts, calendar items and scripts are known by their collection and resource name; a changed one is
    /// carried again under the same key with new bytes.
    public static func sourceKey(contact: ContactInfo, book: String) -> String { "contact:\(book)/\(contact.resourceName)" }
    public static func sourceKey(calendarItem: CalendarItemInfo, calendar: String) -> String {
        "calendar:\(calendar)/\(calendarItem.resourceName)"
    }
    public static func sourceKey(sieve: SieveScriptInfo) -> String { "sieve:\(sieve.name)" }
    public static func contentSourceKey(sha256: String) -> String { "content:\(sha256)" }

    // MARK: Changes (delta archives)

    /// Records one change line for the current user. Only a delta (`ArchiveOptions.deltaOf`) has them.
    public func recordChange(_ change: ChangeRecord) throws {
        precondition(!finished)
        try requireUser()
        guard options.deltaOf != nil else {
            throw ArchiveError(.io, path, "a change line in a full archive (exporter bug)")
        }
        var change = change
        change.user = currentUser
        changeBuffer += try ManifestCoding.line(ManifestLine.change(change), with: encoder)
        changeCount += 1
        if changeBuffer.count >= Self.spoolFlushSize { try flushChanges() }
    }

    private func flushChanges() throws {
        try changeSpool.write(changeBuffer)
        changeSpoolSize += Int64(changeBuffer.count)
        changeBuffer.removeAll(keepingCapacity: true)
    }

    /// The announced container of the current user, for a change line's `container`.
    public func containerNumber(kind: ContainerRecord.Kind, number: Int) -> Int? {
        containerIndex[ContainerKey(user: currentUser, kind: kind, number: number)] == nil ? nil : number
    }

    private func spool(_ line: [UInt8]) throws {
        spoolBuffer += line
        spoolSize += Int64(line.count)
        if spoolBuffer.count >= Self.spoolFlushSize { try flushSpool() }
    }

    private func flushSpool() throws {
        try entrySpool.write(spoolBuffer)
        spoolBuffer.removeAll(keepingCapacity: true)
    }

    // MARK: Finishing

    /// Writes the manifest, the signed statement, the end of the tar stream and the seek table;
    /// makes the file durable and gives it its final name.
    public func finish() throws -> WrittenArchive {
        precondition(!finished)
        try flushSpool()
        try flushChanges()
        let keyID = try signingKey.publicKey.keyID
        var totals = Counts()
        for u in users { totals += u.counts }
        let header = ArchiveHeader(
            format: ArchiveFormat.name, version: ArchiveFormat.version, archiveID: archiveID, created: created,
            station: options.station, sequence: options.sequence, deltaOf: options.deltaOf, tool: options.tool,
            signerKeyID: keyID, userCount: users.count, entryCount: entryCount, itemBytes: itemBytes, totals: totals,
            changeCount: changeCount, renamedUsers: options.renamedUsers.isEmpty ? nil : options.renamedUsers)
        var head = try ManifestCoding.line(ManifestLine.archive(header), with: encoder)
        for u in users { head += try ManifestCoding.line(ManifestLine.user(u), with: encoder) }
        for c in containers { head += try ManifestCoding.line(ManifestLine.container(c), with: encoder) }
        let manifestSize = Int64(head.count) + changeSpoolSize + spoolSize

        // The manifest starts a frame of its own, so readers reach it straight from the seek table.
        try pipeline.cutFrame()
        let manifestOffset = pipeline.streamOffset
        let manifestFrame = pipeline.currentFrameIndex
        try tar.writeEntry(path: EntryPath.manifest, size: manifestSize, mtime: createdStamp) { emit in
            head.withUnsafeBytes { hasher.update($0) }
            try head.withUnsafeBytes { try emit($0) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            // Change lines first, then entry lines (format-spec section 6.2).
            for (spoolFile, total) in [(changeSpool, changeSpoolSize), (entrySpool, spoolSize)] {
                var offset: Int64 = 0
                while offset < total {
                    let want = Int(min(Int64(buffer.count), total - offset))
                    let n = try buffer.withUnsafeMutableBytes {
                        try spoolFile.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(want)), at: offset)
                    }
                    guard n > 0 else { throw ArchiveError(.io, partialPath, "manifest spool ended early") }
                    try buffer.withUnsafeBytes { raw in
                        let chunk = UnsafeRawBufferPointer(rebasing: raw.prefix(n))
                        hasher.update(chunk)
                        try emit(chunk)
                    }
                    offset += Int64(n)
                }
            }
        }
        let manifestHash = hasher.finalizeHex()

        // The statement and its signature share the last frame, which readers decode first.
        try pipeline.cutFrame()
        let statement = Statement(
            format: ArchiveFormat.statementName, version: ArchiveFormat.statementVersion, archiveFormat: ArchiveFormat.name,
            archiveVersion: ArchiveFormat.version, archiveID: archiveID, created: created, signerKeyID: keyID,
            manifest: .init(path: EntryPath.manifest, size: manifestSize, sha256: manifestHash, offset: manifestOffset, frame: manifestFrame))
        let statementBytes = try ManifestCoding.line(statement, with: encoder)
        let signature = try signingKey.sign(statementBytes)
        for (name, bytes) in [(EntryPath.statement, statementBytes), (EntryPath.signature, signature)] {
            try tar.writeEntry(path: name, size: Int64(bytes.count), mtime: createdStamp) { emit in
                try bytes.withUnsafeBytes { try emit($0) }
            }
        }
        try tar.close()
        let table = try pipeline.finish()
        try output.write(table.encoded())
        try output.sync()
        try Syscall.rename(partialPath, path)
        finished = true
        try Syscall.fsyncDirectory(of: path)
        return WrittenArchive(
            path: path, header: header, statement: statement, fileSize: try output.size, frames: table.frames.count,
            warnings: warnings)
    }
}

/// Passes a body through, keeping a copy of its first `limit` bytes.
private final class HeaderWatchingBody: ItemBody {
    let inner: any ItemBody
    let limit: Int
    private(set) var prefix: [UInt8] = []

    init(_ inner: any ItemBody, limit: Int) {
        self.inner = inner
        self.limit = limit
    }

    var byteCount: Int64 { inner.byteCount }
    var origin: String { inner.origin }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.stream { chunk in
            if prefix.count < limit { prefix += chunk.prefix(limit - prefix.count) }
            try consume(chunk)
        }
    }
}
