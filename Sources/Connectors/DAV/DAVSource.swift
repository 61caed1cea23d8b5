import MailModel

/// Reads each named user's address books and calendars from a CalDAV/CardDAV server: discovery from the URL's path
/// and the well-known URIs to the home sets, every collection with its properties, then each collection's objects
/// with multiget REPORTs of `DAVSession.multigetBatch` (never one GET per object), byte for byte
/// (`DAVObjectBytes`). Each object's entity tag is recorded, and an object the sink already holds with that tag (a
/// delta export's previous archive) is not read at all: a delta pass reads the listing of each collection (one
/// PROPFIND with `getetag`) and the bodies of what changed. Where the server offers sync-collection (RFC 6578), the
/// listing is an initial sync, whose token the archive records; a delta export whose previous archive recorded one
/// asks only for the changes since. A DAV server cannot list its users.
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
        for var collection in collections {
            let kind: ItemKind = collection.kind == .addressBook ? .contact : .calendarItem
            // The listing first: its token is part of what the collection is recorded with.
            let listing = try members(of: collection, kind: kind, session: session, sink: sink)
            collection.syncToken = listing.token
            let number: Int
            switch collection.kind {
            case .addressBook: number = try sink.addressBook(collection.addressBookInfo)
            case .calendar: number = try sink.calendar(collection.calendarInfo)
            }
            if let reported = listing.reported {
                _ = try sink.takesUnreportedObjects(kind, inContainer: number, reported: reported)
            }
            var etags: [String: String] = [:]
            var unread: [String] = []
            for member in listing.members {
                let resourceName = Self.resourceName(member.path)
                // Only a strong tag vouches for the bytes (RFC 9110 8.8.1); a weak one is read again.
                if let etag = member.etag, !etag.hasPrefix("W/") {
                    if try sink.takesUnchangedObject(kind, resourceName: resourceName, inContainer: number, etag: etag) { continue }
                    etags[resourceName] = etag
                }
                unread.append(member.path)
            }
            try session.multiget(
                collection, unread,
                gone: { path in
                    sink.warning(SourceProblem(location: "\(session.location) \(path)", message: "gone between the listing and the multiget; not carried"))
                },
                take: { path, bytes in
                    let origin = "\(session.location) \(path)"
                    let resourceName = Self.resourceName(path)
                    switch collection.kind {
                    case .addressBook:
                        let summary = VCardCodec.summarize(bytes)
                        for problem in summary.problems { sink.warning(SourceProblem(location: origin, message: problem)) }
                        try sink.contact(
                            ContactInfo(resourceName: resourceName, cards: summary.cards, etag: etags[resourceName]), inAddressBook: number,
                            body: MemoryBody(bytes, origin: origin))
                    case .calendar:
                        let summary = ICalendarCodec.summarize(bytes)
                        for problem in summary.problems { sink.warning(SourceProblem(location: origin, message: problem)) }
                        try sink.calendarItem(
                            CalendarItemInfo(resourceName: resourceName, components: summary.components, etag: etags[resourceName]),
                            inCalendar: number,
                            body: MemoryBody(bytes, origin: origin))
                    }
                })
        }
        try sink.endUser(settings: UserSettings())
    }

    /// The members of `collection` to consider, and the sync token that names the state they were listed in.
    /// - The sink knows the collection at a token and the server still does: the members changed since
    ///   (sync-collection, RFC 6578), and `reported`, every name the server reported changed or removed; the sink
    ///   keeps the rest as unchanged.
    /// - Otherwise every member, from an initial sync-collection (the listing and its token in one answer), or where
    ///   the server has none, from a PROPFIND listing, without a token.
    private func members(
        of collection: DAVCollection, kind: ItemKind, session: DAVSession, sink: any MailboxSink
    ) throws -> (members: [(path: String, etag: String?)], token: String?, reported: Set<String>?) {
        if let known = sink.syncToken(of: kind, collection: collection.name), !known.isEmpty,
            let changes = try session.changes(of: collection, since: known)
        {
            let reported = Set((changes.changed.map(\.path) + changes.removed).map(Self.resourceName))
            return (changes.changed, changes.token, reported)
        }
        if let initial = try session.changes(of: collection, since: ""), initial.removed.isEmpty {
            return (initial.changed, initial.token, nil)
        }
        return (try session.members(of: collection), nil, nil)
    }

    /// An object's name: its path's last segment, percent-decoded.
    static func resourceName(_ path: String) -> String {
        String(DAVServer.decoded(path).split(separator: "/").last ?? "")
    }
}
