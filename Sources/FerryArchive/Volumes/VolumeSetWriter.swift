import Foundation
import MailModel
import SystemLayer

/// What `VolumeSetWriter.finish` made.
public struct WrittenVolumeSet: Sendable {
    /// The set statement, `NAME.set`.
    public var statementPath: String
    public var statement: SetStatement
    public var volumes: [WrittenArchive]
}

/// Writes an export as a volume set (format-spec section 13.1): `NAME.001.mfa`, `NAME.002.mfa`, ... (`.mfa.age` when
/// encrypted), each a whole archive of at most `volumeSize` bytes written by its own `ArchiveWriter` (so each is
/// written as `.partial`, fsynced, renamed and its directory fsynced, as a single archive is), then the signed set
/// statement `NAME.set` (`AtomicReplace`). It is a `MailboxSink`: before each item it asks the open volume for a
/// bound on its finished size with that item (`ArchiveWriter.sizeBound`) and, past the volume size, finishes it and
/// opens the next one, where the open user begins again with every container declared so far. A delta's change lines
/// (`recordChange`) are placed the same way. An item that does not
/// fit even an empty volume is refused, naming it and the volume size it needs. Volumes written before a failure are
/// removed: a set exists under its final names only whole.
public final class VolumeSetWriter: ChangeRecordingSink {
    /// `DIR/NAME`: volumes are `DIR/NAME.NNN.mfa`, the statement `DIR/NAME.set`.
    public let base: String
    public let volumeSize: Int64
    public let setID: String
    private let signingKey: SigningKey
    private let options: ArchiveOptions
    private let created: String
    private var writer: ArchiveWriter
    private var written: [WrittenArchive] = []
    private var finished = false
    /// Items and bytes of the volumes finished, for the running totals `onItem` reports.
    private var doneItems = 0
    private var doneBytes: Int64 = 0

    /// The open user, its containers in the order declared (the ids the source holds are indexes into it), and
    /// their ids in the open volume.
    private var user: UserInfo?
    private var declared: [Container] = []
    private var inner: [Int] = []
    private enum Container {
        case folder(FolderInfo), addressBook(AddressBookInfo), calendar(CalendarInfo)
    }

    /// Target addresses by lower-cased source address, as for `ArchiveWriter`.
    public var targetAddresses: [String: String] = [:] {
        didSet { writer.targetAddresses = targetAddresses }
    }
    /// Running totals over the whole set (items, bytes).
    public var onItem: ((Int, Int64) -> Void)? {
        didSet { connect() }
    }
    public var onWarning: ((SourceProblem) -> Void)? {
        didSet { writer.onWarning = onWarning }
    }

    /// The smallest volume size accepted: a volume must hold its statement, seek table and manifest besides items
    /// (`ArchiveWriter.sizeBound` reserves about 76 KiB for them).
    public static let minimumVolumeSize: Int64 = 128 << 10

    /// `base` is the output path without `.mfa` (and `.age`); `options.volume` is set here for each volume. For test
    /// vectors, `fixedSetID` fixes the set's id and `options.fixedArchiveID` the volumes' (its first 30 digits, then
    /// the volume number in two hex digits); both are random otherwise.
    public init(base: String, volumeSize: Int64, signingKey: SigningKey, options: ArchiveOptions, fixedSetID: String? = nil) throws {
        guard volumeSize >= Self.minimumVolumeSize else {
            throw FerryError(.usage, "a volume size of \(volumeSize) bytes is too small: at least \(Self.minimumVolumeSize) bytes (128K)")
        }
        self.base = base
        self.volumeSize = volumeSize
        self.signingKey = signingKey
        self.options = options
        var random = SystemRandomNumberGenerator()
        self.setID = fixedSetID ?? Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let seconds = options.fixedCreated ?? Int64(Date().timeIntervalSince1970.rounded(.down))
        self.created = InternalDate(epochSeconds: seconds).iso8601
        self.writer = try Self.volumeWriter(base: base, number: 1, setID: setID, signingKey: signingKey, options: options)
    }

    deinit { abandon() }

    /// The file name of volume `number`: `NAME.001.mfa`, with `.age` when encrypted.
    public static func volumePath(base: String, number: Int, encrypted: Bool) -> String {
        base + "." + String(format: "%03d", number) + ".mfa" + (encrypted ? ".age" : "")
    }

    public static func statementPath(base: String) -> String { base + ".set" }

    private static func volumeWriter(base: String, number: Int, setID: String, signingKey: SigningKey, options: ArchiveOptions) throws -> ArchiveWriter {
        var options = options
        options.volume = VolumeMembership(set: setID, number: number)
        options.fixedArchiveID = options.fixedArchiveID.map { String($0.prefix(30)) + String(format: "%02x", number % 256) }
        return try ArchiveWriter(
            path: volumePath(base: base, number: number, encrypted: !options.encryptTo.isEmpty), signingKey: signingKey, options: options)
    }

    private func connect() {
        if let report = onItem {
            let items = doneItems, bytes = doneBytes
            writer.onItem = { report(items + $0, bytes + $1) }
        } else {
            writer.onItem = nil
        }
        writer.onWarning = onWarning
        writer.targetAddresses = targetAddresses
    }

    /// Removes the open volume's partial file and every volume already finished. Called when the export fails.
    public func abandon() {
        guard !finished else { return }
        writer.abandon()
        for volume in written { _ = try? SystemCall.unlinkIfPresent(volume.path) }
        written = []
    }

    // MARK: MailboxSink

    public func beginUser(_ user: UserInfo) throws {
        self.user = user
        declared = []
        inner = []
        try writer.beginUser(user)
    }

    public func folder(_ folder: FolderInfo) throws -> Int { try declare(.folder(folder)) }
    public func addressBook(_ book: AddressBookInfo) throws -> Int { try declare(.addressBook(book)) }
    public func calendar(_ calendar: CalendarInfo) throws -> Int { try declare(.calendar(calendar)) }

    public func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        try makeRoom(for: body)
        try writer.message(info, inFolder: inner[folder], body: body)
    }

    public func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        try makeRoom(for: body)
        try writer.contact(info, inAddressBook: inner[book], body: body)
    }

    public func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        try makeRoom(for: body)
        try writer.calendarItem(info, inCalendar: inner[calendar], body: body)
    }

    public func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        try makeRoom(for: body)
        try writer.sieveScript(info, body: body)
    }

    /// A delta's change line goes into the volume open now (the next one when the line might not fit), its container
    /// renumbered as that volume declares it. A user's change lines may so span volumes, as its items do; each volume's
    /// lines name only containers that volume declares.
    public func recordChange(_ change: ChangeRecord) throws {
        if try writer.sizeBound(addingItemOf: 0) > volumeSize, writer.itemCount > 0 || writer.changeLineCount > 0 {
            try nextVolume()
        }
        var change = change
        change.container = change.container.map { inner[$0] }
        try writer.recordChange(change)
    }

    /// A user's settings travel in the last volume that holds the user.
    public func endUser(settings: UserSettings) throws {
        try writer.endUser(settings: settings)
        user = nil
    }

    public func warning(_ problem: SourceProblem) { writer.warning(problem) }

    private func declare(_ container: Container) throws -> Int {
        inner.append(try add(container, to: writer))
        declared.append(container)
        return declared.count - 1
    }

    private func add(_ container: Container, to writer: ArchiveWriter) throws -> Int {
        switch container {
        case .folder(let f): try writer.folder(f)
        case .addressBook(let b): try writer.addressBook(b)
        case .calendar(let c): try writer.calendar(c)
        }
    }

    // MARK: Volumes

    /// Starts the next volume when the item would take the open one past the volume size; refuses an item that does
    /// not fit an empty volume.
    private func makeRoom(for body: any ItemBody) throws {
        guard try writer.sizeBound(addingItemOf: body.byteCount) > volumeSize else { return }
        if writer.itemCount > 0 {
            try nextVolume()
            if try writer.sizeBound(addingItemOf: body.byteCount) <= volumeSize { return }
        }
        let needed = try writer.sizeBound(addingItemOf: body.byteCount)
        let mebibytes = (needed + (1 << 20) - 1) >> 20
        throw FerryError(
            .usage,
            "\(body.origin) (user \(user?.address ?? "?"), \(body.byteCount) bytes) does not fit a volume of \(volumeSize) bytes: "
                + "a volume that holds it must be at least \(needed) bytes (--volume-size \(mebibytes)M or more)")
    }

    private func nextVolume() throws {
        if let user {
            // The user goes on in the next volume; its settings come with its last part.
            try writer.endUser(settings: UserSettings())
            try close()
            writer = try Self.volumeWriter(base: base, number: written.count + 1, setID: setID, signingKey: signingKey, options: options)
            connect()
            try writer.beginUser(user)
            inner = try declared.map { try add($0, to: writer) }
        } else {
            try close()
            writer = try Self.volumeWriter(base: base, number: written.count + 1, setID: setID, signingKey: signingKey, options: options)
            connect()
        }
    }

    private func close() throws {
        let volume = try writer.finish()
        written.append(volume)
        doneItems += volume.header.entryCount
        doneBytes += volume.header.itemBytes
    }

    /// Finishes the last volume, then writes the signed set statement, which names every volume.
    public func finish() throws -> WrittenVolumeSet {
        precondition(!finished)
        try close()
        let statement = SetStatement(
            format: SetStatement.formatName, version: SetStatement.currentVersion, setID: setID, created: created,
            station: options.station, signerKeyID: try signingKey.publicKey.keyID,
            volumes: written.enumerated().map { i, v in
                .init(number: i + 1, file: SystemCall.lastComponent(of: v.path), archiveID: v.header.archiveID, size: v.fileSize,
                      statementSHA256: v.statementSHA256)
            })
        let path = Self.statementPath(base: base)
        let bytes = try statement.signed(with: signingKey)
        do {
            try AtomicReplace.write(bytes, to: path, mode: 0o644)
        } catch let error as SystemError {
            throw ArchiveError(error)
        }
        finished = true
        return WrittenVolumeSet(statementPath: path, statement: statement, volumes: written)
    }
}
