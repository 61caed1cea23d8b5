import MailModel

/// Reads each named user's address books and calendars from a CalDAV/CardDAV server: discovery from the URL's path
/// and the well-known URIs to the home sets, every collection with its properties, then each collection's objects
/// with multiget REPORTs of `DAVSession.multigetBatch` (never one GET per object), byte for byte
/// (`DAVObjectBytes`). A DAV server cannot list its users.
public final class DAVSource: MailboxSource {
    public let server: DAVServer
    public let userAddresses: [String]

    public init(server: DAVServer, users: [String]) {
        self.server = server
        userAddresses = users
    }

    public func users() throws -> [UserInfo] { userAddresses.map { UserInfo(address: $0) } }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        let session = try DAVSession(server: server, user: user.address)
        let collections = try session.collections()
        try sink.beginUser(user)
        for collection in collections {
            let number: Int
            switch collection.kind {
            case .addressBook: number = try sink.addressBook(collection.addressBookInfo)
            case .calendar: number = try sink.calendar(collection.calendarInfo)
            }
            let members = try session.members(of: collection)
            try session.multiget(
                collection, members,
                gone: { path in
                    sink.warning(SourceProblem(location: "\(session.location) \(path)", message: "gone between the listing and the multiget; not carried"))
                },
                take: { path, bytes in
                    let origin = "\(session.location) \(path)"
                    let resourceName = String(DAVServer.decoded(path).split(separator: "/").last ?? "")
                    switch collection.kind {
                    case .addressBook:
                        let summary = VCardCodec.summarize(bytes)
                        for problem in summary.problems { sink.warning(SourceProblem(location: origin, message: problem)) }
                        try sink.contact(
                            ContactInfo(resourceName: resourceName, cards: summary.cards), inAddressBook: number,
                            body: MemoryBody(bytes, origin: origin))
                    case .calendar:
                        let summary = ICalendarCodec.summarize(bytes)
                        for problem in summary.problems { sink.warning(SourceProblem(location: origin, message: problem)) }
                        try sink.calendarItem(
                            CalendarItemInfo(resourceName: resourceName, components: summary.components), inCalendar: number,
                            body: MemoryBody(bytes, origin: origin))
                    }
                })
        }
        try sink.endUser(settings: UserSettings())
    }
}
