import MailModel

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
