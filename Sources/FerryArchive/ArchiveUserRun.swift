import MailModel

/// One user's run of entries: the `MailboxSink` a source feeds with one user's mailbox. It numbers the user's
/// folders, address books, calendars and items, names their entries and counts them, and writes each entry into
/// its `EntrySink`: the archive's frames when the archive is taking this user, or, for a user read ahead of the
/// archive by `export --jobs N`, a `ReadAheadFile` next to the archive, which `ArchiveWriter.append(_:)` copies in
/// later. The writer swaps the sink between entries; the run never calls the writer. Either way the user's entries
/// end up contiguous, in the order the source gave them, byte for byte as a single-threaded export writes them.
public final class ArchiveUserRun: MailboxSink {
    /// The user's number in entry paths (`u/<number>/...`).
    public let number: Int
    public let address: String
    /// The run's place among the runs written side by side (0 for the first).
    let index: Int
    /// Called on the reading thread for each warning as it happens.
    public var onWarning: ((SourceProblem) -> Void)?
    /// Called on the reading thread after each item with the item's size.
    public var onItem: ((Int64) -> Void)?

    private(set) var record: UserRecord
    private(set) var containers: [ContainerRecord] = []
    private(set) var warnings: [SourceProblem] = []
    private var containerIndex: [ContainerKey: Int] = [:]
    private var nextContainer: [ContainerRecord.Kind: Int] = [:]
    private var itemSequence: [ContainerKey: Int] = [:]
    private var sieveSequence = 0
    private var began = false
    /// The archive's `PATH.partial`, beside which a read-ahead file goes.
    private let partialPath: String
    /// Whether a read-ahead file is sealed (the archive is encrypted: no plaintext byte reaches the disk).
    private let sealsScratch: Bool
    /// The tar mtime of items that have no date of their own (the archive's creation time).
    private let itemStamp: InternalDateStamp
    let coordinator: RunCoordinator

    // Under the coordinator's lock.
    /// Where the next entry goes. Nil until the run writes its first entry ahead of the archive (it then makes its
    /// `readAhead` file the sink) or the writer takes it (and makes its frames the sink).
    var sink: (any EntrySink)?
    /// The entries written ahead of the archive, until the writer copies them in.
    var readAhead: ReadAheadFile?
    /// Whether the archive is not taking this run yet.
    var isAhead: Bool { sink == nil || readAhead != nil }
    /// An entry is being written (without the lock held).
    var writing = false
    /// Set when the source is done with this user, with the error that stopped it if one did.
    var outcome: Result<Void, any Error>?

    private struct ContainerKey: Hashable {
        var kind: ContainerRecord.Kind
        var number: Int
    }

    init(
        number: Int, index: Int, address: String, targetAddress: String? = nil, partialPath: String, sealsScratch: Bool,
        itemStamp: InternalDateStamp, coordinator: RunCoordinator
    ) {
        self.sealsScratch = sealsScratch
        self.number = number
        self.index = index
        self.itemStamp = itemStamp
        self.address = address
        self.partialPath = partialPath
        self.coordinator = coordinator
        self.record = UserRecord(user: number, address: address, targetAddress: targetAddress, settings: UserSettings(), counts: Counts())
    }

    /// For a reading thread, before it reads this run's user: waits until the archive is taking a run at most
    /// `window` runs before this one, so that only so many users are read ahead. Throws the error that stopped the
    /// export, if one did.
    public func waitForTurn() throws {
        try coordinator.locked {
            while coordinator.stopped == nil && index >= coordinator.head + coordinator.window {
                coordinator.condition.wait()
            }
            if let stopped = coordinator.stopped { throw stopped }
        }
    }

    /// Tells the archive that the source is done with this user (`error` nil) or failed; the reading thread calls
    /// it after `MailboxSource.read` returns or throws.
    public func end(_ error: (any Error)?) {
        coordinator.locked {
            outcome = error.map { .failure($0) } ?? .success(())
            coordinator.condition.broadcast()
        }
    }

    /// Stops every run of this archive: runs waiting for room wake up and throw `error`, and so does the next
    /// entry of any run.
    public func stopAll(_ error: any Error) {
        coordinator.locked {
            if coordinator.stopped == nil { coordinator.stopped = error }
            coordinator.condition.broadcast()
        }
    }

    // MARK: MailboxSink

    public func beginUser(_ user: UserInfo) throws {
        guard !began else { throw ArchiveError(.io, address, "the source began this user twice (source bug)") }
        guard user.address == address else {
            throw ArchiveError(.io, address, "the source gave user \(user.address) where \(address) was asked for (source bug)")
        }
        began = true
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
        var entry = EntryRecord(path: EntryPath.message(user: number, folder: folder, sequence: sequence), kind: .message, user: number, container: folder, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        entry.message = info
        entry.sourceKey = info.sourceKey
        let mtime = InternalDateStamp(seconds: info.internalDate.epochSeconds, nanoseconds: info.internalDate.nanoseconds)
        guard info.subject == nil && info.from == nil && info.messageID == nil else {
            try writeItem(&entry, body: body, mtime: mtime, container: key)
            return
        }
        // A source that streams (IMAP) has not read the header: summarise it from the bytes going by, for people
        // browsing the archive.
        let watched = HeaderWatchingBody(body, limit: Self.headerSummaryLimit)
        try writeItem(&entry, body: watched, mtime: mtime, container: key) {
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
        var entry = EntryRecord(path: EntryPath.contact(user: number, book: book, sequence: nextSequence(key)), kind: .contact, user: number, container: book, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        entry.contact = info
        entry.sourceKey = ArchiveWriter.sourceKey(contact: info, book: containers[containerIndex[key]!].displayName)
        try writeItem(&entry, body: body, mtime: itemStamp, container: key)
    }

    public func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        let key = try containerKey(.calendar, calendar)
        var entry = EntryRecord(path: EntryPath.calendarItem(user: number, calendar: calendar, sequence: nextSequence(key)), kind: .calendarItem, user: number, container: calendar, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        entry.calendarItem = info
        entry.sourceKey = ArchiveWriter.sourceKey(calendarItem: info, calendar: containers[containerIndex[key]!].displayName)
        try writeItem(&entry, body: body, mtime: itemStamp, container: key)
    }

    public func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        sieveSequence += 1
        var entry = EntryRecord(path: EntryPath.sieve(user: number, sequence: sieveSequence), kind: .sieveScript, user: number, container: nil, size: body.byteCount, sha256: "", offset: 0, frame: 0)
        entry.sieve = info
        entry.sourceKey = ArchiveWriter.sourceKey(sieve: info)
        try writeItem(&entry, body: body, mtime: itemStamp, container: nil)
    }

    public func endUser(settings: UserSettings) throws {
        record.settings = settings
    }

    public func warning(_ problem: SourceProblem) {
        warnings.append(problem)
        onWarning?(problem)
    }

    // MARK: Entries

    private func addContainer(_ kind: ContainerRecord.Kind, _ fill: (inout ContainerRecord) -> Void) -> Int {
        let n = (nextContainer[kind] ?? 0) + 1
        nextContainer[kind] = n
        var container = ContainerRecord(kind: kind, user: number, number: n, items: 0, bytes: 0)
        fill(&container)
        containerIndex[ContainerKey(kind: kind, number: n)] = containers.count
        containers.append(container)
        return n
    }

    private func containerKey(_ kind: ContainerRecord.Kind, _ n: Int) throws -> ContainerKey {
        let key = ContainerKey(kind: kind, number: n)
        guard containerIndex[key] != nil else {
            throw ArchiveError(.io, address, "an item refers to \(kind.rawValue) \(n), which was not announced (source bug)")
        }
        return key
    }

    private func nextSequence(_ key: ContainerKey) -> Int {
        let n = (itemSequence[key] ?? 0) + 1
        itemSequence[key] = n
        return n
    }

    /// Waits while this run is ahead of the archive and the read-ahead files are full, then writes the entry into
    /// its sink; the writer swaps the sink only between entries.
    private func writeItem(
        _ entry: inout EntryRecord, body: any ItemBody, mtime: InternalDateStamp, container: ContainerKey?,
        beforeRecording givenBeforeRecording: (inout EntryRecord) -> Void = { _ in }
    ) throws {
        // A source without stable ids (mbox) is known by content: the weakest key, documented as such.
        let beforeRecording: (inout EntryRecord) -> Void = { e in
            givenBeforeRecording(&e)
            if e.sourceKey == nil { e.sourceKey = ArchiveWriter.contentSourceKey(sha256: e.sha256) }
        }
        let (target, ahead): (any EntrySink, (file: ReadAheadFile, sizeBefore: Int64)?) = try coordinator.locked {
            while true {
                if let stopped = coordinator.stopped { throw stopped }
                if isAhead, coordinator.readAheadBytes >= coordinator.readAheadLimit {
                    coordinator.condition.wait()
                    continue
                }
                break
            }
            if sink == nil {
                let file = try ReadAheadFile(beside: partialPath, number: number, sealed: sealsScratch)
                readAhead = file
                sink = file
            }
            writing = true
            return (sink!, readAhead.map { ($0, $0.size) })
        }
        do {
            try target.writeEntry(&entry, body: body, mtime: mtime, beforeRecording: beforeRecording)
        } catch {
            coordinator.locked {
                writing = false
                coordinator.condition.broadcast()
            }
            throw error
        }
        coordinator.locked {
            writing = false
            if let ahead { coordinator.readAheadBytes += ahead.file.size - ahead.sizeBefore }
            coordinator.condition.broadcast()
        }
        record.counts.add(entry)
        if let container, let i = containerIndex[container] {
            containers[i].items += 1
            containers[i].bytes += entry.size
        }
        onItem?(entry.size)
    }
}
