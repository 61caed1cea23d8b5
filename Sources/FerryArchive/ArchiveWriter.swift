import Foundation
import MailModel
import SystemLayer
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
    /// Encrypts the archive to these age recipients as it is written (format-spec 13.2); none: a plain archive.
    public var encryptTo: [AgeRecipient] = []
    /// Makes the archive a volume of a volume set (format-spec 13.1): version 3, with this in its statement.
    public var volume: VolumeMembership?
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
    /// SHA-256 of the signed statement's exact bytes (what a volume set's statement names).
    public var statementSHA256: String = ""
    public var fileSize: Int64
    public var frames: Int
    public var warnings: [SourceProblem]
}

/// Serialises mailboxes into a MailFerry archive as sources feed it (it is a `MailboxSink`).
///
/// Everything is written to `PATH.partial`; only `finish` fsyncs it and renames it to `PATH`, so a
/// failed or interrupted export never leaves a file under the final name. Item bytes stream from
/// the source through SHA-256 into tar entries and zstd frames (`ArchiveFrames`); manifest entry and change
/// lines wait in unlinked temporary files, so memory does not grow with the number of items.
public final class ArchiveWriter: MailboxSink {
    public let path: String
    private let partialPath: String
    private let output: any ArchiveOutput
    /// Where the entries of the run the archive is taking go: the tar stream, its frames, the entry lines.
    private let frames: ArchiveFrames
    /// Change lines of a delta (`recordChange`), kept like the entry lines; they precede the entries in the manifest.
    private let changeLines: ScratchFile
    private var changeCount = 0
    private let signingKey: SigningKey
    private let options: ArchiveOptions
    private let encoder = ManifestCoding.encoder()
    private let hasher = SHA256()
    private let archiveID: String
    private let created: String
    private let createdStamp: InternalDateStamp

    private var users: [UserRecord] = []
    private var containers: [ContainerRecord] = []
    /// Encoded size of the manifest's user and container lines of the users completed so far (`sizeBound`).
    private var completedHeadBytes: Int64 = 0
    /// The open run's container lines, encoded when their number last changed, and that number (`sizeBound`).
    private var openHeadBytes: (containers: Int, bytes: Int64) = (0, 0)
    /// The user being written by the `MailboxSink` methods.
    private var current: ArchiveUserRun?
    private var finished = false
    private var abandoned = false
    public private(set) var warnings: [SourceProblem] = []

    /// Called after each item with the running totals (items, bytes), for progress displays.
    public var onItem: ((Int, Int64) -> Void)? {
        get { frames.onItem }
        set { frames.onItem = newValue }
    }
    /// Called for each source warning as it happens.
    public var onWarning: ((SourceProblem) -> Void)?

    public init(path: String, signingKey: SigningKey, options: ArchiveOptions) throws {
        self.path = path
        self.partialPath = path + ".partial"
        self.signingKey = signingKey
        self.options = options
        let file = try OwnedFile(path: partialPath, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        let sealed = !options.encryptTo.isEmpty
        self.output = sealed ? try AgeEncryptingOutput(file: file, recipients: options.encryptTo) : file
        self.frames = try ArchiveFrames(output: output, archivePath: path, sealed: sealed)
        // Beside the archive, on its file system; it lives only as long as its descriptor.
        self.changeLines = try ScratchFile(
            in: SystemCall.parentDirectory(of: partialPath), prefix: SystemCall.lastComponent(of: partialPath) + ".changes.",
            sealed: sealed)
        var random = SystemRandomNumberGenerator()
        self.archiveID = options.fixedArchiveID ?? Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let seconds = options.fixedCreated ?? Int64(Date().timeIntervalSince1970.rounded(.down))
        self.createdStamp = InternalDateStamp(seconds: seconds, nanoseconds: 0)
        self.created = InternalDate(epochSeconds: seconds).iso8601
    }

    deinit { abandon() }

    /// Removes the partial file of an archive that will not be finished. Called when an export fails (also done
    /// when the writer goes away unfinished, but threads that held it may outlive the failure by a moment).
    public func abandon() {
        if !finished && !abandoned { _ = try? SystemCall.unlinkIfPresent(partialPath) }
        abandoned = true
    }

    /// Target addresses by lower-cased source address: recorded in the manifest as each user's `targetAddress`.
    public var targetAddresses: [String: String] = [:]

    // MARK: MailboxSink (one user after another)

    public func beginUser(_ user: UserInfo) throws {
        if let open = current { try complete(open) }
        let run = makeRun(number: users.count + 1, index: 0, address: user.address, coordinator: RunCoordinator(readAheadLimit: 0, window: 1))
        run.onWarning = onWarning
        try adopt(run)
        current = run
        try run.beginUser(user)
    }

    public func folder(_ folder: FolderInfo) throws -> Int { try openRun().folder(folder) }

    public func addressBook(_ book: AddressBookInfo) throws -> Int { try openRun().addressBook(book) }

    public func calendar(_ calendar: CalendarInfo) throws -> Int { try openRun().calendar(calendar) }

    public func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        try openRun().message(info, inFolder: folder, body: body)
    }

    public func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        try openRun().contact(info, inAddressBook: book, body: body)
    }

    public func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        try openRun().calendarItem(info, inCalendar: calendar, body: body)
    }

    public func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        try openRun().sieveScript(info, body: body)
    }

    public func endUser(settings: UserSettings) throws {
        let run = try openRun()
        try run.endUser(settings: settings)
        try complete(run)
        current = nil
    }

    public func warning(_ problem: SourceProblem) {
        if let current {
            current.warning(problem)
        } else {
            warnings.append(problem)
            onWarning?(problem)
        }
    }

    private func openRun() throws -> ArchiveUserRun {
        guard let current else { throw ArchiveError(.io, path, "an item came before any user (source bug)") }
        return current
    }

    // MARK: Users read side by side

    /// One run per user, for users read side by side (`export --jobs N`), numbered after the users already
    /// written. Each is the `MailboxSink` for its user, fed on its own thread; `append(_:)` takes them into the
    /// archive in this order. A run ahead of the archive writes its entries into a `ReadAheadFile` next to the
    /// archive (`PATH.partial.u<N>.read-ahead.*` and `.records.*`, unlinked as soon as they are open); it waits
    /// before its next entry while the read-ahead files hold `readAheadLimit` bytes or more, and may start only
    /// when the archive takes a run at most `window` runs before it.
    public func runs(for users: [UserInfo], readAheadLimit: Int64, window: Int) -> [ArchiveUserRun] {
        precondition(current == nil && !finished)
        let coordinator = RunCoordinator(readAheadLimit: readAheadLimit, window: max(1, window))
        return users.enumerated().map { i, user in
            makeRun(number: self.users.count + 1 + i, index: i, address: user.address, coordinator: coordinator)
        }
    }

    /// Takes the next run (of `runs(for:readAheadLimit:window:)`, in their order) into the archive: copies what it
    /// read ahead (re-hashing every item), makes the archive's frames its sink from then on, waits until its
    /// source is done with it and adds its user. Throws the run's own error, or the error that stopped the
    /// export.
    public func append(_ run: ArchiveUserRun) throws {
        precondition(run.number == users.count + 1, "runs are appended in order")
        try adopt(run)
        let coordinator = run.coordinator
        let (outcome, stopped) = coordinator.locked {
            while run.outcome == nil && coordinator.stopped == nil { coordinator.condition.wait() }
            return (run.outcome, coordinator.stopped)
        }
        if case .failure(let error)? = outcome { throw error }
        if let stopped { throw stopped }
        try complete(run)
        coordinator.locked {
            coordinator.head += 1
            coordinator.condition.broadcast()
        }
    }

    private func makeRun(number: Int, index: Int, address: String, coordinator: RunCoordinator) -> ArchiveUserRun {
        let mapped = targetAddresses[address.lowercased()]
        return ArchiveUserRun(
            number: number, index: index, address: address, targetAddress: mapped == address ? nil : mapped,
            partialPath: partialPath, sealsScratch: !options.encryptTo.isEmpty, itemStamp: createdStamp, coordinator: coordinator)
    }

    /// Makes the archive's frames `run`'s sink: once it is between entries, what it read ahead (if anything) is
    /// copied in and the run's next entry comes straight into the frames.
    private func adopt(_ run: ArchiveUserRun) throws {
        let coordinator = run.coordinator
        try coordinator.locked {
            while run.writing { coordinator.condition.wait() }
            if let readAhead = run.readAhead {
                try frames.take(readAhead)
                coordinator.readAheadBytes -= readAhead.size
                run.readAhead = nil
            }
            run.sink = frames
            coordinator.condition.broadcast()
        }
    }

    private func complete(_ run: ArchiveUserRun) throws {
        users.append(run.record)
        containers += run.containers
        warnings += run.warnings
        completedHeadBytes += try Self.encodedSize([ManifestLine.user(run.record)] + run.containers.map { ManifestLine.container($0) }, with: encoder)
        openHeadBytes = (0, 0)
    }

    private static func encodedSize(_ lines: [ManifestLine], with encoder: CanonicalJSONEncoder) throws -> Int64 {
        try lines.reduce(0) { $0 + Int64(try ManifestCoding.line($1, with: encoder).count) }
    }

    // MARK: Volumes

    /// Items written so far.
    public var itemCount: Int { frames.entryCount }
    /// Change lines written so far (a delta's).
    public var changeLineCount: Int { changeCount }

    /// An upper bound on the size of the finished file if one more item of `itemBytes` bytes were written now and
    /// `finish` called after it: what is written, what waits in the frame pipeline, the item's tar entry, the
    /// manifest with one more line, the statement's frame and the seek table, each at zstd's worst-case expansion,
    /// and age's framing when the archive is encrypted. A volume set (`VolumeSetWriter`) starts the next volume when
    /// this passes the volume size. Tight for what is written (the real compressed size), loose for the rest.
    public func sizeBound(addingItemOf itemBytes: Int64) throws -> Int64 {
        let pipeline = frames.pipeline
        // zstd's compressBound is n + n/256 + at most 64, and a frame's header and checksum add at most 18 bytes.
        func worst(_ n: Int64, frames k: Int64) -> Int64 { n + n / 128 + 1024 * k }
        let pending = pipeline.pending
        let frameSize = Int64(FramePipeline.targetFrameSize)
        // An entry: up to three headers (pax, its data, the entry's own) and the data padded to 512.
        let itemTar = 3 * 512 + (itemBytes + 511) / 512 * 512
        let itemFrames = itemTar / frameSize + 2
        if let run = current, run.containers.count != openHeadBytes.containers {
            openHeadBytes = (run.containers.count, try Self.encodedSize(run.containers.map { ManifestLine.container($0) }, with: encoder))
        }
        // The archive record and the open user's line are small; the renamed users (in the archive record) may not be.
        let renamed = Int64(options.renamedUsers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 })
        let open = Int64(current.map { $0.containers.count * 64 } ?? 0)
        let manifest = 512 + 16_384 + renamed + completedHeadBytes + openHeadBytes.bytes + open + changeLines.size + frames.entryLines.size
            + 32_768  // the next entry line, whatever its header summary
        let manifestFrames = manifest / Int64(FramePipeline.hardFrameSize) + 1
        let statementFrame: Int64 = 512 + Int64(ArchiveReader.maximumStatementSize) + 512 + 512 + 1024
        let frameCount = Int64(pipeline.currentFrameIndex) + 1 + itemFrames + manifestFrames + 1
        let seekTable = 9 + 8 * frameCount
        var total = pipeline.compressedOffset + worst(pending.bytes, frames: Int64(pending.frames)) + worst(itemTar, frames: itemFrames)
            + worst(manifest, frames: manifestFrames) + worst(statementFrame, frames: 1) + seekTable
        if !options.encryptTo.isEmpty {
            // age: the header (a stanza of about 200 bytes per recipient), the nonce, a 16-byte tag per 64 KiB chunk.
            total += 4096 + 256 * Int64(options.encryptTo.count) + 16 + 16 * (total / 65_536 + 1)
        }
        return total
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
        let run = try openRun()
        guard options.deltaOf != nil else {
            throw ArchiveError(.io, path, "a change line in a full archive (exporter bug)")
        }
        var change = change
        change.user = run.number
        try changeLines.append(ManifestCoding.line(ManifestLine.change(change), with: encoder))
        changeCount += 1
    }

    // MARK: Finishing

    /// Writes the manifest, the signed statement, the end of the tar stream and the seek table;
    /// makes the file durable and gives it its final name.
    public func finish() throws -> WrittenArchive {
        precondition(!finished)
        if let open = current {
            try complete(open)
            current = nil
        }
        frames.closed = true
        let pipeline = frames.pipeline, tar = frames.tar, entryLines = frames.entryLines
        try entryLines.flush()
        try changeLines.flush()
        let keyID = try signingKey.publicKey.keyID
        // A volume is version 3; every other archive stays version 2, which older readers read (format-spec 13.1).
        let version = options.volume == nil ? ArchiveFormat.version : ArchiveFormat.volumeVersion
        var totals = Counts()
        for u in users { totals += u.counts }
        let header = ArchiveHeader(
            format: ArchiveFormat.name, version: version, archiveID: archiveID, created: created,
            station: options.station, sequence: options.sequence, deltaOf: options.deltaOf, tool: options.tool,
            signerKeyID: keyID, userCount: users.count, entryCount: frames.entryCount, itemBytes: frames.itemBytes, totals: totals,
            changeCount: changeCount, renamedUsers: options.renamedUsers.isEmpty ? nil : options.renamedUsers)
        var head = try ManifestCoding.line(ManifestLine.archive(header), with: encoder)
        for u in users { head += try ManifestCoding.line(ManifestLine.user(u), with: encoder) }
        for c in containers { head += try ManifestCoding.line(ManifestLine.container(c), with: encoder) }
        let manifestSize = Int64(head.count) + changeLines.size + entryLines.size

        // The manifest starts a frame of its own, so readers reach it straight from the seek table.
        try pipeline.cutFrame()
        let manifestOffset = pipeline.streamOffset
        let manifestFrame = pipeline.currentFrameIndex
        try tar.writeEntry(path: EntryPath.manifest, size: manifestSize, mtime: createdStamp) { emit in
            head.withUnsafeBytes { hasher.update($0) }
            try head.withUnsafeBytes { try emit($0) }
            // Change lines first, then entry lines (format-spec section 6.2).
            for lines in [changeLines, entryLines] {
                try lines.read(from: 0, to: lines.size) { chunk, _ in
                    hasher.update(chunk)
                    try emit(chunk)
                }
            }
        }
        let manifestHash = hasher.finalizeHex()

        // The statement and its signature share the last frame, which readers decode first.
        try pipeline.cutFrame()
        let statement = Statement(
            format: ArchiveFormat.statementName, version: ArchiveFormat.statementVersion, archiveFormat: ArchiveFormat.name,
            archiveVersion: version, archiveID: archiveID, created: created, signerKeyID: keyID,
            manifest: .init(path: EntryPath.manifest, size: manifestSize, sha256: manifestHash, offset: manifestOffset, frame: manifestFrame),
            volume: options.volume)
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
        try output.finish()
        try output.sync()
        try ArchiveError.io { () throws(SystemError) in try SystemCall.rename(partialPath, to: path) }
        finished = true
        try ArchiveError.io { () throws(SystemError) in try SystemCall.syncDirectory(SystemCall.parentDirectory(of: path)) }
        return WrittenArchive(
            path: path, header: header, statement: statement, statementSHA256: SHA256.hex(statementBytes), fileSize: try output.size,
            frames: table.frames.count, warnings: warnings)
    }
}
