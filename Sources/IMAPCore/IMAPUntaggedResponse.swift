/// response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data /
///                 enable-data / namespace-response / acl-data / myrights-data / id-response) CRLF
/// FETCH (message-data) comes as `IMAPResponseEvent.fetch*` events instead, so bodies can stream.
public enum IMAPUntaggedResponse: Sendable, Hashable {
    /// `* OK/NO/BAD/BYE/PREAUTH [code] text`
    case condition(IMAPStatus, IMAPResponseText)
    case capability([String])
    case enabled([String])
    case list(IMAPListResponse)
    case lsub(IMAPListResponse)
    case namespace(IMAPNamespaceResponse)
    /// `* STATUS mailbox (NAME value ...)`, names uppercased.
    case status(IMAPMailboxName, [String: UInt64])
    case exists(UInt32)
    case recent(UInt32)
    case expunge(UInt32)
    case flags([String])
    /// `* SEARCH n...` (with RFC 7162's `(MODSEQ n)` dropped).
    case search([UInt32])
    case esearch(IMAPESearchResponse)
    /// RFC 4314 `* ACL mailbox identifier rights ...`
    case acl(IMAPMailboxName, [IMAPACLEntry])
    /// RFC 4314 `* MYRIGHTS mailbox rights`
    case myRights(IMAPMailboxName, String)
    /// RFC 2971 `* ID ...`: ignored.
    case id
    /// A response this client does not know: its first atom uppercased.
    case other(String)
}

/// One identifier's rights in an ACL response (RFC 4314 section 3.6).
public struct IMAPACLEntry: Sendable, Hashable {
    public var identifier: String
    public var rights: String
    public init(identifier: String, rights: String) {
        self.identifier = identifier
        self.rights = rights
    }
}

/// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]
public struct IMAPListResponse: Sendable, Hashable {
    /// As sent, for example `\HasNoChildren`, `\Sent`.
    public var attributes: [String]
    public var separator: Character?
    public var mailbox: IMAPMailboxName
    /// LIST-EXTENDED items (RFC 5258), for example `CHILDINFO`: tag uppercased, value skipped.
    public var extendedItems: [String]
    public init(attributes: [String], separator: Character?, mailbox: IMAPMailboxName, extendedItems: [String] = []) {
        self.attributes = attributes
        self.separator = separator
        self.mailbox = mailbox
        self.extendedItems = extendedItems
    }
}

/// namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace (RFC 2342, RFC 9051)
public struct IMAPNamespaceResponse: Sendable, Hashable {
    public struct Description: Sendable, Hashable {
        public var prefix: String
        public var separator: Character?
        public init(prefix: String, separator: Character?) {
            self.prefix = prefix
            self.separator = separator
        }
    }
    public var personal: [Description]
    public var otherUsers: [Description]
    public var shared: [Description]
    public init(personal: [Description], otherUsers: [Description], shared: [Description]) {
        self.personal = personal
        self.otherUsers = otherUsers
        self.shared = shared
    }
}

/// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data) (RFC 4731)
public struct IMAPESearchResponse: Sendable, Hashable {
    public var tag: String?
    public var uid: Bool
    /// `ALL` as a sequence set, expanded.
    public var all: [UInt32]
    public var min: UInt32?
    public var max: UInt32?
    public var count: UInt32?
    public init(tag: String?, uid: Bool, all: [UInt32] = [], min: UInt32? = nil, max: UInt32? = nil, count: UInt32? = nil) {
        self.tag = tag
        self.uid = uid
        self.all = all
        self.min = min
        self.max = max
        self.count = count
    }
}
