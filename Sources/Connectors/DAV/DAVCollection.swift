import MailModel

/// An address book or calendar on a DAV server, with the properties MailFerry carries.
struct DAVCollection {
    enum Kind { case addressBook, calendar }

    var kind: Kind
    /// As sent on the wire, ending in `/`.
    var path: String
    /// The last path segment, decoded: the name the archive keeps and a target creates again.
    var name: String
    var displayName: String?
    var description: String?
    var color: String?
    var timeZone: String?
    var components: [String]?
    /// The `DAV:sync-token` (RFC 6578) that came with the listing of its objects; nil until then, and where the
    /// server offers no sync-collection. Not asked in the home set's PROPFIND: a cold Radicale took 80 s there for two
    /// collections of 2,000 objects, against 6 s each for the listing with its token (`DAVSession.changes`).
    var syncToken: String?

    /// What a home-set listing asks of each collection.
    static let properties: [(String, String)] = [
        (DAVXMLElement.dav, "resourcetype"), (DAVXMLElement.dav, "displayname"),
        (DAVXMLElement.calDAV, "calendar-description"), (DAVXMLElement.cardDAV, "addressbook-description"),
        (DAVXMLElement.apple, "calendar-color"), (DAVXMLElement.calDAV, "calendar-timezone"),
        (DAVXMLElement.calDAV, "supported-calendar-component-set"),
    ]

    /// A collection from its home-set listing entry; nil for anything that is neither an address book nor a calendar
    /// (a scheduling inbox, a plain folder).
    init?(path: String, answer: DAVResponse) {
        guard let types = answer.property(DAVXMLElement.dav, "resourcetype") else { return nil }
        if types.child(DAVXMLElement.calDAV, "calendar") != nil {
            kind = .calendar
        } else if types.child(DAVXMLElement.cardDAV, "addressbook") != nil {
            kind = .addressBook
        } else {
            return nil
        }
        self.path = path.hasSuffix("/") ? path : path + "/"
        name = String(DAVServer.decoded(self.path).dropLast().split(separator: "/").last ?? "")
        func text(_ namespace: String, _ name: String) -> String? {
            guard let text = answer.property(namespace, name)?.text, !text.isEmpty else { return nil }
            return text
        }
        displayName = text(DAVXMLElement.dav, "displayname")
        if kind == .calendar {
            description = text(DAVXMLElement.calDAV, "calendar-description")
            color = text(DAVXMLElement.apple, "calendar-color")
            timeZone = text(DAVXMLElement.calDAV, "calendar-timezone").map { String(decoding: DAVObjectBytes.restoringLineEnds($0), as: UTF8.self) }
            components = answer.property(DAVXMLElement.calDAV, "supported-calendar-component-set")?
                .all(DAVXMLElement.calDAV, "comp").compactMap { $0.attributes["name"]?.uppercased() }.sorted()
        } else {
            description = text(DAVXMLElement.cardDAV, "addressbook-description")
        }
    }

    var addressBookInfo: AddressBookInfo { AddressBookInfo(name: name, displayName: displayName, description: description, syncToken: syncToken) }

    var calendarInfo: CalendarInfo {
        CalendarInfo(name: name, displayName: displayName, description: description, color: color, timeZone: timeZone, components: components,
            syncToken: syncToken)
    }
}
