/// What is known about one message besides its bytes, which are carried separately and exactly.
public struct MessageInfo: Hashable, Sendable, Codable {
    public var flags: SystemFlags
    /// IMAP keywords by name (`$Forwarded`, `Work`), whatever letters or ids a source used for them.
    public var keywords: [String]
    public var internalDate: InternalDate
    /// The source's object id: Dovecot's GUID or RFC 8474 EMAILID.
    public var guid: String?
    /// The source's UID in its folder, when it has one.
    public var uid: UInt32?
    /// Read from the header for people browsing an archive (decoded encoded words); never used to match.
    public var subject: String?
    public var from: String?
    public var messageID: String?

    public init(
        flags: SystemFlags = [], keywords: [String] = [], internalDate: InternalDate, guid: String? = nil,
        uid: UInt32? = nil, subject: String? = nil, from: String? = nil, messageID: String? = nil
    ) {
        self.flags = flags
        self.keywords = keywords
        self.internalDate = internalDate
        self.guid = guid
        self.uid = uid
        self.subject = subject
        self.from = from
        self.messageID = messageID
    }
}
