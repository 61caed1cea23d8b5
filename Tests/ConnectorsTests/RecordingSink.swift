import MailModel

/// A sink that keeps everything a source gives it, bodies as bytes, for comparing two reads.
class RecordingSink: MailboxSink {
    struct Message: Hashable {
        var folder: [String]
        var info: MessageInfo
        var bytes: [UInt8]
    }
    struct Item: Hashable {
        var collection: String
        var name: String
        var bytes: [UInt8]
    }

    var users: [UserInfo] = []
    var folders: [FolderInfo] = []
    var messages: [Message] = []
    var books: [AddressBookInfo] = []
    var contacts: [(info: ContactInfo, book: Int, bytes: [UInt8])] = []
    var calendars: [CalendarInfo] = []
    var calendarItems: [(info: CalendarItemInfo, calendar: Int, bytes: [UInt8])] = []
    var scripts: [(info: SieveScriptInfo, bytes: [UInt8])] = []
    var settings: UserSettings?
    var warnings: [SourceProblem] = []

    static func bytes(of body: any ItemBody) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try body.stream { bytes += $0 }
        precondition(Int64(bytes.count) == body.byteCount)
        return bytes
    }

    func beginUser(_ user: UserInfo) throws { users.append(user) }
    func folder(_ folder: FolderInfo) throws -> Int {
        folders.append(folder)
        return folders.count - 1
    }
    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        messages.append(Message(folder: folders[folder].path, info: info, bytes: try Self.bytes(of: body)))
    }
    func addressBook(_ book: AddressBookInfo) throws -> Int {
        books.append(book)
        return books.count - 1
    }
    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        contacts.append((info, book, try Self.bytes(of: body)))
    }
    func calendar(_ calendar: CalendarInfo) throws -> Int {
        calendars.append(calendar)
        return calendars.count - 1
    }
    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        calendarItems.append((info, calendar, try Self.bytes(of: body)))
    }
    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        scripts.append((info, try Self.bytes(of: body)))
    }
    func endUser(settings: UserSettings) throws { self.settings = settings }
    func warning(_ problem: SourceProblem) { warnings.append(problem) }
    // Declared here (not left to the protocol's defaults) so that a test's subclass can answer them.
    func knownModSeq(of folder: FolderInfo) -> UInt64? { nil }
    func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool { false }

    // MARK: Comparable views (order-free where targets may reorder)

    /// Folders by path with what a Maildir keeps of them.
    var folderSummary: Set<String> {
        Set(folders.map { "\($0.path) sub=\($0.subscribed) use=\($0.specialUse ?? "-")" })
    }

    /// Messages without the header summary, sorted.
    var messageSummary: [String] {
        messages.map { m in
            let date = "\(m.info.internalDate.epochSeconds).\(m.info.internalDate.nanoseconds)"
            let passed = m.info.maildirPassed ? " P" : ""
            return "\(m.folder) \(m.info.flags.names)\(passed) \(m.info.keywords) \(date) \(m.bytes)"
        }.sorted()
    }

    var contactSummary: [String] {
        contacts.map { "\(books[$0.book].name)/\($0.info.resourceName) \($0.info.cards) \($0.bytes)" }.sorted()
    }

    var calendarSummary: [String] {
        calendarItems.map { "\(calendars[$0.calendar].name)/\($0.info.resourceName) \($0.info.components) \($0.bytes)" }
            .sorted()
    }

    var scriptSummary: [String] {
        scripts.map { "\($0.info.name) active=\($0.info.active) \($0.bytes)" }.sorted()
    }
}
