/// An address book (a `contacts/` folder, a CardDAV collection).
public struct AddressBookInfo: Hashable, Sendable, Codable {
    /// The collection's name as the source gave it (a folder's name, a DAV collection's last path segment).
    public var name: String
    /// What people see of a DAV collection (WebDAV `displayname`, CardDAV `addressbook-description`); nil where the
    /// source has none (a `dir:` folder).
    public var displayName: String?
    public var description: String?
    /// The collection's `DAV:sync-token` (RFC 6578) for the objects read: the token that came with their listing, so
    /// a later delta export asks the server only for what changed since (`MailboxSink.syncToken`).
    public var syncToken: String?
    public init(name: String, displayName: String? = nil, description: String? = nil, syncToken: String? = nil) {
        self.name = name
        self.displayName = displayName
        self.description = description
        self.syncToken = syncToken
    }
}

/// A calendar (a `calendars/<name>/` folder, a CalDAV collection) holding events and tasks.
public struct CalendarInfo: Hashable, Sendable, Codable {
    public var name: String
    /// A CalDAV collection's properties, nil where the source has none: `displayname`, `calendar-description`,
    /// Apple's `calendar-color` (`#RRGGBB[AA]`), `calendar-timezone` (an iCalendar object holding one VTIMEZONE) and
    /// `supported-calendar-component-set` (`VEVENT`, `VTODO`, `VJOURNAL`, ...; nil when the server did not say).
    public var displayName: String?
    public var description: String?
    public var color: String?
    public var timeZone: String?
    public var components: [String]?
    /// As `AddressBookInfo.syncToken`.
    public var syncToken: String?
    public init(
        name: String, displayName: String? = nil, description: String? = nil, color: String? = nil,
        timeZone: String? = nil, components: [String]? = nil, syncToken: String? = nil
    ) {
        self.name = name
        self.displayName = displayName
        self.description = description
        self.color = color
        self.timeZone = timeZone
        self.components = components
        self.syncToken = syncToken
    }
}

/// One contact resource: a `.vcf` file (or DAV resource) carried byte for byte.
/// A file may hold several vCards; each is summarised in `cards`.
public struct ContactInfo: Hashable, Sendable, Codable {
    /// The resource's name at the source (a file name), restored at the target; never used as an archive path.
    public var resourceName: String
    public var cards: [CardSummary]
    /// The resource's entity tag at a DAV source (RFC 4918 `getetag`), as the server gave it: a delta export takes
    /// an object whose tag is unchanged from the previous archive without reading it again.
    public var etag: String?
    public init(resourceName: String, cards: [CardSummary], etag: String? = nil) {
        self.resourceName = resourceName
        self.cards = cards
        self.etag = etag
    }
}

public struct CardSummary: Hashable, Sendable, Codable {
    /// `3.0` or `4.0`, as the card says.
    public var version: String?
    public var uid: String?
    public var formattedName: String?
    public init(version: String?, uid: String?, formattedName: String?) {
        self.version = version
        self.uid = uid
        self.formattedName = formattedName
    }
}

/// One calendar resource: an `.ics` file carried byte for byte, summarised per component.
public struct CalendarItemInfo: Hashable, Sendable, Codable {
    public var resourceName: String
    public var components: [ComponentSummary]
    /// As `ContactInfo.etag`.
    public var etag: String?
    public init(resourceName: String, components: [ComponentSummary], etag: String? = nil) {
        self.resourceName = resourceName
        self.components = components
        self.etag = etag
    }
}

/// One top-level iCalendar component inside a VCALENDAR (VEVENT, VTODO, VJOURNAL; VTIMEZONE is not listed).
public struct ComponentSummary: Hashable, Sendable, Codable {
    public var kind: String
    public var uid: String?
    public var summary: String?
    /// The ORGANIZER's address (its `mailto:` cal-address without the scheme, RFC 5545 3.8.4.3), for a scheduled
    /// meeting; nil when the component has none. Reconcile links an attendee's copy to the organizer's event by it.
    public var organizer: String?
    public init(kind: String, uid: String?, summary: String?, organizer: String? = nil) {
        self.kind = kind
        self.uid = uid
        self.summary = summary
        self.organizer = organizer
    }
}

/// A Sieve script (RFC 5228) of the user's filters.
public struct SieveScriptInfo: Hashable, Sendable, Codable {
    /// The script's name without `.sieve`.
    public var name: String
    public var active: Bool
    public init(name: String, active: Bool) {
        self.name = name
        self.active = active
    }
}

/// Settings that are not items: the vacation auto-reply, when a source knows one.
public struct UserSettings: Hashable, Sendable, Codable {
    public var vacation: VacationReply?
    public init(vacation: VacationReply? = nil) { self.vacation = vacation }
}

public struct VacationReply: Hashable, Sendable, Codable {
    public var enabled: Bool
    public var subject: String?
    public var body: String
    /// Days between replies to the same sender (RFC 5230 `:days`).
    public var days: Int?
    public init(enabled: Bool, subject: String?, body: String, days: Int?) {
        self.enabled = enabled
        self.subject = subject
        self.body = body
        self.days = days
    }
}
