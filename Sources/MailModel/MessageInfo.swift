/// What is known about one message besides its bytes, which are carried separately and exactly.
/// Decoded on a fast path too (`CanonicalManifestLine` in FerryArchive, in the writer's exact form): a field or a check added to
/// its decoding must be added there as well, or lines holding it must be left to JSONDecoder.
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
    /// The Maildir P (passed) letter, which no IMAP flag stands for: Dovecot shows no flag for it (its
    /// `$Forwarded` is a keyword letter). Carried as what it is, so that a Maildir target writes it back;
    /// other targets cannot hold it. Written in the archive only when set.
    public var maildirPassed: Bool

    enum CodingKeys: String, CodingKey {
        case flags, keywords, internalDate, guid, uid, subject, from, messageID, maildirPassed
    }

    public init(
        flags: SystemFlags = [], keywords: [String] = [], internalDate: InternalDate, guid: String? = nil,
        uid: UInt32? = nil, subject: String? = nil, from: String? = nil, messageID: String? = nil,
        sourceKey: String? = nil, maildirPassed: Bool = false
    ) {
        self.sourceKey = sourceKey
        self.maildirPassed = maildirPassed
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
            && a.maildirPassed == b.maildirPassed
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
        hasher.combine(maildirPassed)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        flags = try c.decode(SystemFlags.self, forKey: .flags)
        keywords = try c.decode([String].self, forKey: .keywords)
        internalDate = try c.decode(InternalDate.self, forKey: .internalDate)
        guid = try c.decodeIfPresent(String.self, forKey: .guid)
        uid = try c.decodeIfPresent(UInt32.self, forKey: .uid)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        from = try c.decodeIfPresent(String.self, forKey: .from)
        messageID = try c.decodeIfPresent(String.self, forKey: .messageID)
        maildirPassed = try c.decodeIfPresent(Bool.self, forKey: .maildirPassed) ?? false
        sourceKey = nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(flags, forKey: .flags)
        try c.encode(keywords, forKey: .keywords)
        try c.encode(internalDate, forKey: .internalDate)
        try c.encodeIfPresent(guid, forKey: .guid)
        try c.encodeIfPresent(uid, forKey: .uid)
        try c.encodeIfPresent(subject, forKey: .subject)
        try c.encodeIfPresent(from, forKey: .from)
        try c.encodeIfPresent(messageID, forKey: .messageID)
        if maildirPassed { try c.encode(true, forKey: .maildirPassed) }
    }
}
