/// One mail folder of a user, with everything a target needs to recreate it.
public struct FolderInfo: Hashable, Sendable, Codable {
    /// The name as Unicode components from the top of the user's tree, for example
    /// `["Archive", "2024", "Reports/Q1"]`. A component may hold any character, including the
    /// separator of some other system, so names survive moves between systems unchanged.
    public var path: [String]
    /// The hierarchy separator of the source (`"/"`, `"."`), kept for the record; nil where the source has none.
    public var separator: String?
    /// RFC 6154 special use, such as `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`; `\Inbox` marks the inbox.
    public var specialUse: String?
    public var subscribed: Bool
    /// The source's mailbox GUID (Dovecot) or MAILBOXID (RFC 8474), when known.
    public var guid: String?
    public var uidValidity: UInt32?
    /// The UID the source would give its next message (IMAP UIDNEXT, a `dovecot-uidlist`'s next UID). A target
    /// that keeps the source's UIDVALIDITY gives new messages UIDs from here on, never one the source gave to a
    /// message since expunged.
    public var uidNext: UInt32?
    /// Access rights (RFC 4314), in the source's order.
    public var acl: [ACLEntry]
    /// The source's HIGHESTMODSEQ (RFC 7162 CONDSTORE) when it was read, so that the next delta asks the source
    /// only for what changed after it.
    public var highestModSeq: UInt64?

    public init(
        path: [String], separator: String? = nil, specialUse: String? = nil, subscribed: Bool = false,
        guid: String? = nil, uidValidity: UInt32? = nil, uidNext: UInt32? = nil, acl: [ACLEntry] = [],
        highestModSeq: UInt64? = nil
    ) {
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.path = path
        self.separator = separator
        self.specialUse = specialUse
        self.subscribed = subscribed
        self.guid = guid
        self.uidValidity = uidValidity
        self.acl = acl
    }

    /// True for the user's inbox (`INBOX` is case-insensitive in IMAP, RFC 9051 section 5.1).
    public var isInbox: Bool { path.count == 1 && path[0].uppercased() == "INBOX" }

    /// The name joined with `/` for people to read; components containing `/` are shown as they are.
    public var displayName: String { path.joined(separator: "/") }
}

/// One RFC 4314 access control entry: an identifier (a user, `anyone`, a group) and its rights letters.
public struct ACLEntry: Hashable, Sendable, Codable {
    public var identifier: String
    public var rights: String
    public init(identifier: String, rights: String) {
        self.identifier = identifier
        self.rights = rights
    }
}
