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
    /// A stable identifier the source gives this message, by which a later export recognises it without reading
    /// its bytes (Maildir: the unique part of the file name; IMAP: the object id, else mailbox, UIDVALIDITY and
    /// UID). Not part of the `message` object: the archive carries it as the entry's `sourceKey`.
    public var sourceKey: String?

    enum CodingKeys: String, CodingKey {
        case flags, keywords, internalDate, guid, uid, subject, from, messageID
    }

    public init(
        flags: SystemFlags = [], keywords: [String] = [], internalDate: InternalDate, guid: String? = nil,
        uid: UInt32? = nil, subject: String? = nil, from: String? = nil, messageID: String? = nil,
        sourceKey: String? = nil
    ) {
        self.sourceKey = sourceKey
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

extension MessageInfo {
    /// Equal when what the archive's `message` object carries is equal; `sourceKey` travels beside it.
    public static func == (a: MessageInfo, b: MessageInfo) -> Bool {
        a.flags == b.flags && a.keywords == b.keywords && a.internalDate == b.internalDate && a.guid == b.guid
            && a.uid == b.uid && a.subject == b.subject && a.from == b.from && a.messageID == b.messageID
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(flags)
        hasher.combine(keywords)
        hasher.combine(internalDate)
        hasher.combine(guid)
        hasher.combine(uid)
        hasher.combine(subject)
        hasher.combine(from)
        hasher.combine(messageID)
    }
}
