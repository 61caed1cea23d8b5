import MailModel

/// Several sources read as one: each user's mailbox is each part's read in turn, for the kinds the part claims,
/// between one `beginUser` and one `endUser`. The sink numbers every container, so the parts' numbers never meet.
final class ConnectorSetSource: MailboxSource {
    struct Part {
        let source: any MailboxSource
        let kinds: Set<ItemKind>
        let name: String
    }

    let parts: [Part]

    init(parts: [Part]) {
        self.parts = parts
    }

    /// Every part's users, each once, in the order the parts give them.
    func users() throws -> [UserInfo] {
        var seen: Set<String> = []
        var all: [UserInfo] = []
        for part in parts {
            for user in try part.source.users() where seen.insert(user.address.lowercased()).inserted {
                all.append(user)
            }
        }
        return all
    }

    func read(user: UserInfo, into sink: any MailboxSink) throws {
        let filter = KindFilter(sink: sink)
        for part in parts {
            filter.kinds = part.kinds
            try part.source.read(user: user, into: filter)
        }
        try sink.endUser(settings: filter.settings)
    }

    /// The mail part's resolution: only messages have internal dates.
    var internalDateResolution: InternalDateResolution {
        parts.first { $0.kinds.contains(.message) }?.source.internalDateResolution ?? .nanoseconds
    }

    /// Passes on what a part reads of the kinds it claims. The user begins once (the first part's `UserInfo`); the
    /// settings (a vacation reply, which is a filter) come from the part carrying Sieve scripts.
    private final class KindFilter: MailboxSink {
        let sink: any MailboxSink
        var kinds: Set<ItemKind> = []
        var settings = UserSettings()
        private var begun = false
        /// The number given for a container whose kind this part does not carry: its items are dropped.
        private static let dropped = -1

        init(sink: any MailboxSink) {
            self.sink = sink
        }

        func beginUser(_ user: UserInfo) throws {
            guard !begun else { return }
            begun = true
            try sink.beginUser(user)
        }

        func folder(_ folder: FolderInfo) throws -> Int {
            kinds.contains(.message) ? try sink.folder(folder) : Self.dropped
        }

        func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
            guard folder != Self.dropped else { return }
            try sink.message(info, inFolder: folder, body: body)
        }

        func addressBook(_ book: AddressBookInfo) throws -> Int {
            kinds.contains(.contact) ? try sink.addressBook(book) : Self.dropped
        }

        func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
            guard book != Self.dropped else { return }
            try sink.contact(info, inAddressBook: book, body: body)
        }

        func calendar(_ calendar: CalendarInfo) throws -> Int {
            kinds.contains(.calendarItem) ? try sink.calendar(calendar) : Self.dropped
        }

        func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
            guard calendar != Self.dropped else { return }
            try sink.calendarItem(info, inCalendar: calendar, body: body)
        }

        func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
            guard kinds.contains(.sieveScript) else { return }
            try sink.sieveScript(info, body: body)
        }

        func endUser(settings: UserSettings) throws {
            if kinds.contains(.sieveScript) { self.settings = settings }
        }

        func warning(_ problem: SourceProblem) { sink.warning(problem) }

        func skipsMessage(_ info: MessageInfo, inFolder folder: Int, size: Int64) throws -> Bool {
            // A message of a dropped folder is skipped before its bytes are read.
            folder == Self.dropped ? true : try sink.skipsMessage(info, inFolder: folder, size: size)
        }

        func knownModSeq(of folder: FolderInfo) -> UInt64? {
            kinds.contains(.message) ? sink.knownModSeq(of: folder) : nil
        }

        func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool {
            folder == Self.dropped ? true : try sink.takesUnchangedMessage(uid: uid, inFolder: folder)
        }

        func takesUnchangedObject(_ kind: ItemKind, resourceName: String, inContainer container: Int, etag: String) throws -> Bool {
            container == Self.dropped ? true : try sink.takesUnchangedObject(kind, resourceName: resourceName, inContainer: container, etag: etag)
        }

        func syncToken(of kind: ItemKind, collection: String) -> String? {
            kinds.contains(kind) ? sink.syncToken(of: kind, collection: collection) : nil
        }

        func takesUnreportedObjects(_ kind: ItemKind, inContainer container: Int, reported: Set<String>) throws -> Int {
            container == Self.dropped ? 0 : try sink.takesUnreportedObjects(kind, inContainer: container, reported: reported)
        }

        func folderPropertiesHeld(_ support: FolderPropertySupport) {
            if kinds.contains(.message) { sink.folderPropertiesHeld(support) }
        }
    }
}
