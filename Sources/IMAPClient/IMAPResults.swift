import IMAPCore
import MailModel

/// The personal namespace (RFC 2342): where the user's mailboxes live and how names are joined.
public struct IMAPNamespace: Sendable, Hashable {
    public var prefix: String
    public var separator: String?
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
}
