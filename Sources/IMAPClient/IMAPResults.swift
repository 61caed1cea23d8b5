import IMAPCore
import MailModel

/// The personal namespace (RFC 2342): where the user's mailboxes live and how names are joined.
public struct IMAPNamespace: Sendable, Hashable {
    public var prefix: String
    public var separator: String?
    public init(prefix: String, separator: String?) {
        self.prefix = prefix
        self.separator = separator
    }
}

/// One mailbox from LIST.
public struct IMAPMailboxListing: Sendable, Hashable {
    /// Decoded from modified UTF-7.
    public var name: String
    /// As sent by the server.
    public var wireName: String
    public var separator: String?
    /// Lowercased: `\noselect`, `\haschildren`, `\subscribed`, `\sent`, ...
    public var attributes: Set<String>
    /// RFC 6154 special use, capitalized as in the RFC: `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`,
    /// `\All`, `\Flagged`.
    public var specialUse: String?
    public var subscribed: Bool
    public init(
        name: String, wireName: String, separator: String?, attributes: Set<String>, specialUse: String?, subscribed: Bool
    ) {
        self.name = name
        self.wireName = wireName
        self.separator = separator
        self.attributes = attributes
        self.specialUse = specialUse
        self.subscribed = subscribed
    }
    public var isSelectable: Bool { !attributes.contains("\\noselect") && !attributes.contains("\\nonexistent") }
}

/// What SELECT or EXAMINE reported.
public struct IMAPSelectedMailbox: Sendable, Hashable {
    public var name: String
    public var uidValidity: UInt32?
    public var uidNext: UInt32?
    public var exists: UInt32
    /// RFC 8474
    public var mailboxID: String?
    /// RFC 7162
    public var highestModSeq: UInt64?
    public var permanentFlags: [String]
    public var readOnly: Bool
    public init(
        name: String, uidValidity: UInt32?, uidNext: UInt32?, exists: UInt32, mailboxID: String?,
        highestModSeq: UInt64?, permanentFlags: [String], readOnly: Bool
    ) {
        self.name = name
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.exists = exists
        self.mailboxID = mailboxID
        self.highestModSeq = highestModSeq
        self.permanentFlags = permanentFlags
        self.readOnly = readOnly
    }
}

/// A message's metadata from UID FETCH.
public struct IMAPMessageSummary: Sendable, Hashable {
    public var uid: UInt32
    /// System flags with their backslash (`\Seen`), then keywords, as the server sent them; `\Recent` dropped.
    public var flags: [String]
    public var internalDate: InternalDate
    public var size: Int64
    /// EMAILID (RFC 8474) when the server has OBJECTID, Dovecot's X-GUID on Dovecot, else nil.
    public var guid: String?
    public init(uid: UInt32, flags: [String], internalDate: InternalDate, size: Int64, guid: String?) {
        self.uid = uid
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
        self.guid = guid
    }
}

/// How one pipelined APPEND ended.
public struct IMAPAppendOutcome: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        /// Stored; the UIDs come from APPENDUID (RFC 4315) when the server sends it.
        case appended(uidValidity: UInt32?, uid: UInt32?)
        /// NO or BAD, with the server's text and response code (for example TRYCREATE, OVERQUOTA).
        case refused(status: IMAPStatus, text: String, code: IMAPResponseCode?)
    }
    /// The number `beginAppend` returned.
    public var sequence: Int
    public var result: Result
    public init(sequence: Int, result: Result) {
        self.sequence = sequence
        self.result = result
    }
}
