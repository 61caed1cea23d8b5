import FerryArchive
import MailModel
import SystemLayer

/// Reads one user back from a target (through the matching source connector) and records every
/// item with the SHA-256 of its bytes, grouped by container, for reconciliation.
///
/// `placed` (the reconcile after a delta into IMAP): messages an earlier accepted import placed at a known UID. A
/// message the source offers at such a UID, with the same UIDVALIDITY and size, is recorded with the hash its
/// bytes were checked to have when they were placed, and its bytes are not read (`skipsMessage`); its flags,
/// keywords and internal date are the ones the source just read. Every other item is read and hashed.
final class TargetInventory: MailboxSink {
    /// A message placed by an earlier import: the UIDVALIDITY, size and hash it must have at its folder and UID.
    struct Placed {
        var uidValidity: UInt32
        var size: Int64
        var digest: SHA256Digest
    }

    /// Placed messages by folder and UID, compactly: a folder is a number, a folder and UID one 64-bit key naming
    /// a row. At 200,000 messages a dictionary of `ContainerName` and UID to `Placed` took 57 MB while it grew;
    /// this about 16 MB.
    struct PlacedMessages {
        private var folders: [ContainerName: UInt32] = [:]
        private var rows: [Placed] = []
        private var byFolderAndUID: [UInt64: Int32] = [:]

        init(capacity: Int = 0) {
            rows.reserveCapacity(capacity)
            byFolderAndUID.reserveCapacity(capacity)
        }

        var isEmpty: Bool { rows.isEmpty }

        /// Records `placed` at `folder` and `uid`; a second message at the same place replaces the first.
        mutating func set(_ placed: Placed, folder: ContainerName, uid: UInt32) {
            let number: UInt32
            if let known = folders[folder] {
                number = known
            } else {
                number = UInt32(folders.count)
                folders[folder] = number
            }
            let key = UInt64(number) << 32 | UInt64(uid)
            if let row = byFolderAndUID[key] {
                rows[Int(row)] = placed
            } else {
                byFolderAndUID[key] = Int32(rows.count)
                rows.append(placed)
            }
        }

        subscript(folder: ContainerName, uid: UInt32) -> Placed? {
            guard let number = folders[folder], let row = byFolderAndUID[UInt64(number) << 32 | UInt64(uid)] else { return nil }
            return rows[Int(row)]
        }
    }

    private let placed: PlacedMessages
    /// Messages recorded from `placed` without reading their bytes.
    private(set) var placedMessagesChecked = 0
    private var folderInfos: [Int: FolderInfo] = [:]

    /// `folderProperties`: what a target of this kind keeps of a folder (`ConnectorURL.folderPropertySupport`); a
    /// source that knows its server better says so while reading (`folderPropertiesHeld`).
    /// `expected`: the first words of the hashes the archive says the target holds. A message with one of them will
    /// almost always be matched, so its header is neither parsed nor kept (only an extra item is listed with its
    /// subject and sender); a second copy of an archived message is listed without them.
    init(placed: PlacedMessages = PlacedMessages(), folderProperties: FolderPropertySupport = .all, expected: Set<UInt64> = []) {
        self.placed = placed
        self.folderProperties = folderProperties
        self.expected = expected
    }

    private let expected: Set<UInt64>

    /// Items by container (`ContainerName`), found by hash.
    private var items: [ContainerName: HeldItems] = [:]

    /// The items read, handed over and no longer held here (the reconcile takes matched items out of them).
    func takeItems() -> [ContainerName: HeldItems] {
        defer { items = [:] }
        return items
    }
    /// Every keyword list the items have, each once (`HeldItem.keywords`).
    private(set) var keywordLists = InternedValues<[String]>()
    /// The messages' subjects and senders (`HeldItem.header`).
    private(set) var headers = HeaderTexts()
    /// Groupware items' file names and scripts' names (`HeldItem.name`).
    private(set) var names: [String] = []
    private(set) var warnings: [SourceProblem] = []
    /// Each calendar item the target holds, with its calendar's name, for the meeting links (`MeetingLinks`).
    var onCalendarItem: ((CalendarItemInfo, String) -> Void)?
    /// Every container the target has, including empty ones.
    private(set) var knownContainers: Set<ContainerName> = []
    /// Folders by special use (lowercased, `\\sent`), the first of each.
    private(set) var specialUseFolders: [String: ContainerName] = [:]
    /// Each folder as the target describes it (subscription, special use, ACL), the first of each name.
    private(set) var folderDescriptions: [ContainerName: FolderInfo] = [:]
    /// Each address book and calendar with its properties as the target shows them.
    private(set) var addressBookDescriptions: [ContainerName: AddressBookInfo] = [:]
    private(set) var calendarDescriptions: [ContainerName: CalendarInfo] = [:]
    /// What the target keeps of a folder besides its items: what it can be compared on.
    private(set) var folderProperties: FolderPropertySupport
    private var folders: [Int: ContainerName] = [:]
    private var books: [Int: ContainerName] = [:]
    private var calendars: [Int: ContainerName] = [:]
    private let hasher = SHA256()

    func beginUser(_ user: UserInfo) throws {}

    func folder(_ folder: FolderInfo) throws -> Int {
        folders[folders.count + 1] = ContainerName(folder: folder)
        folderInfos[folders.count] = folder
        knownContainers.insert(ContainerName(folder: folder))
        if folderDescriptions[ContainerName(folder: folder)] == nil { folderDescriptions[ContainerName(folder: folder)] = folder }
        if let use = folder.specialUse?.lowercased(), specialUseFolders[use] == nil {
            specialUseFolders[use] = ContainerName(folder: folder)
        }
        return folders.count
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        books[books.count + 1] = ContainerName(kind: .addressBook, name: [book.name])
        knownContainers.insert(books[books.count]!)
        addressBookDescriptions[books[books.count]!] = book
        return books.count
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        calendars[calendars.count + 1] = ContainerName(kind: .calendar, name: [calendar.name])
        knownContainers.insert(calendars[calendars.count]!)
        calendarDescriptions[calendars[calendars.count]!] = calendar
        return calendars.count
    }

    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        // The source was asked not to read headers (a second read per message); the subject, sender and
        // Message-ID come from the start of the bytes hashed anyway, for pairing a changed message with its
        // archived copy and for listing extra messages.
        try record(folders[folder]!, body: body, prefixLimit: Self.headerPrefixLimit) { item, header in
            var info = info
            if info.messageID == nil && info.subject == nil && !expected.contains(item.digest.a) {
                let summary = HeaderSummary(header: header)
                info.subject = summary.subject
                info.from = summary.from
                info.messageID = summary.messageID
            }
            hold(info, in: &item)
        }
    }

    private func hold(_ info: MessageInfo, in item: inout HeldItem) {
        item.isMessage = true
        item.flags = info.flags
        item.maildirPassed = info.maildirPassed
        item.internalDate = info.internalDate
        item.uid = info.uid
        item.keywords = keywordLists.number(for: info.keywords)
        item.guidHash = info.guid.map(Self.identityHash) ?? 0
        item.messageIDHash = info.messageID.map(Self.identityHash) ?? 0
        item.headerSkipped = expected.contains(item.digest.a)
        item.header = item.headerSkipped ? UInt32.max : headers.append(subject: info.subject, from: info.from)
    }

    /// A hash for pairing identities (`HeldItem.guidHash`); never 0, which stands for none.
    static func identityHash(_ text: String) -> Int {
        let h = text.hashValue
        return h == 0 ? 1 : h
    }

    /// A message at a UID in `placed`, same UIDVALIDITY, same size: recorded without its bytes (see the type).
    func skipsMessage(_ info: MessageInfo, inFolder folder: Int, size: Int64) throws -> Bool {
        guard !placed.isEmpty, let uid = info.uid, let name = folders[folder], let known = placed[name, uid],
            let uidValidity = folderInfos[folder]?.uidValidity, uidValidity == known.uidValidity, size == known.size
        else { return false }
        var item = HeldItem(digest: known.digest, size: size)
        hold(info, in: &item)
        items[name, default: HeldItems()].append(item)
        placedMessagesChecked += 1
        return true
    }

    private func name(_ text: String) -> UInt32 {
        names.append(text)
        return UInt32(names.count - 1)
    }

    /// The item's keywords, file or script name, subject and sender, as read.
    func keywords(of item: HeldItem) -> [String] { item.isMessage ? keywordLists[item.keywords] : [] }
    func name(of item: HeldItem) -> String? { item.name == UInt32.max ? nil : names[Int(item.name)] }
    func header(of item: HeldItem) -> (subject: String?, from: String?) { headers[item.header] }

    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        try record(books[book]!, body: body) { $0.name = name(info.resourceName) }
    }

    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        try record(calendars[calendar]!, body: body) { $0.name = name(info.resourceName) }
        onCalendarItem?(info, calendars[calendar]!.displayName)
    }

    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        try record(ContainerName.sieve, body: body) {
            $0.name = name(info.name)
            $0.sieveActive = info.active
        }
    }

    func endUser(settings: UserSettings) throws {}

    func folderPropertiesHeld(_ support: FolderPropertySupport) { folderProperties = support }

    func warning(_ problem: SourceProblem) { warnings.append(problem) }

    /// How much of a message's start is kept for its header summary.
    static let headerPrefixLimit = 16 << 10

    private func record(_ container: ContainerName, body: any ItemBody, fill: (inout HeldItem) -> Void) throws {
        try record(container, body: body, prefixLimit: 0) { item, _ in fill(&item) }
    }

    /// Hashes the item and records it; `fill` gets the first `prefixLimit` bytes of it too.
    private func record(
        _ container: ContainerName, body: any ItemBody, prefixLimit: Int, fill: (inout HeldItem, [UInt8]) -> Void
    ) throws {
        var size: Int64 = 0
        var prefix: [UInt8] = []
        try body.stream { chunk in
            hasher.update(chunk)
            size += Int64(chunk.count)
            if prefix.count < prefixLimit { prefix.append(contentsOf: chunk.prefix(prefixLimit - prefix.count)) }
        }
        var item = HeldItem(digest: hasher.finalizeDigest(), size: size)
        fill(&item, prefix)
        items[container, default: HeldItems()].append(item)
    }
}

/// A container as both sides can name it: kind plus name path.
struct ContainerName: Hashable {
    var kind: ContainerRecord.Kind?
    var name: [String]

    init(kind: ContainerRecord.Kind?, name: [String]) {
        self.kind = kind
        self.name = name
    }

    init(folder: FolderInfo) {
        // INBOX is case-insensitive; every other name is compared exactly.
        self.init(kind: .folder, name: folder.isInbox ? ["INBOX"] : folder.path)
    }

    init(_ record: ContainerRecord) {
        if let f = record.folder {
            self.init(folder: f)
        } else {
            self.init(kind: record.kind, name: [record.displayName])
        }
    }

    /// Sieve scripts belong to no container; they are grouped under this one.
    static let sieve = ContainerName(kind: nil, name: ["sieve"])

    var kindName: String { kind?.rawValue ?? "sieve" }
    var displayName: String { name.joined(separator: "/") }
}
