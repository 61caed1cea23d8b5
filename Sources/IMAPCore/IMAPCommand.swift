import MailModel

/// The commands this client sends (RFC 9051 section 6 and the extensions named at each case).
public enum IMAPCommand: Sendable, Hashable {
    case capability
    case noop
    case logout
    case startTLS
    case login(user: String, password: String)
    /// RFC 4616 SASL PLAIN; with `initialResponse` (RFC 4959 SASL-IR) the credentials go on the command line.
    case authenticatePlain(authorizationID: String?, authenticationID: String, password: String, initialResponse: Bool)
    /// RFC 2342
    case namespace
    /// RFC 5161
    case enable([String])
    /// `LIST reference pattern`
    case list(reference: String, pattern: String)
    /// RFC 5258/6154: `LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED SPECIAL-USE)`; without `specialUseOnly` the
    /// selection is empty: `LIST "" "*" RETURN (SUBSCRIBED SPECIAL-USE)`.
    case listExtended(reference: String, pattern: String, specialUseOnly: Bool)
    case lsub(reference: String, pattern: String)
    /// With `condStore` (RFC 7162 section 3.1.8): `SELECT mailbox (CONDSTORE)`, so HIGHESTMODSEQ is reported.
    case select(mailbox: String, readOnly: Bool, condStore: Bool = false)
    case status(mailbox: String, items: [String])
    case uidFetch(IMAPUIDSet, items: [String])
    /// UID FETCH set (items) (CHANGEDSINCE modseq): RFC 7162 section 3.1.4.
    case uidFetchChangedSince(IMAPUIDSet, items: [String], modSeq: UInt64)
    /// With `esearch` (RFC 4731): `UID SEARCH RETURN (ALL) ...`.
    case uidSearch([IMAPSearchKey], esearch: Bool)
    case create(mailbox: String)
    case subscribe(mailbox: String)
    /// RFC 4314
    case getACL(mailbox: String)
    case setACL(mailbox: String, identifier: String, rights: String)
    case deleteACL(mailbox: String, identifier: String)
    case myRights(mailbox: String)
    /// The command line up to and including the message literal's announcement; the message bytes and the final
    /// CRLF are the caller's to send.
    case append(mailbox: String, flags: [String], internalDate: InternalDate?, size: Int64)
    /// RFC 3502 MULTIAPPEND: several messages in one command, stored all or none. Encoded with a
    /// `.messageBytes(i)` part where each message's bytes go; the final CRLF is the caller's to send.
    case multiAppend(mailbox: String, messages: [IMAPAppendItem])
    /// UID STORE uids FLAGS.SILENT (flags): replaces the flags (RFC 9051 section 6.4.6).
    case uidStoreFlags(IMAPUIDSet, flags: [String])
    /// UID MOVE (RFC 6851), UID COPY, UID EXPUNGE (RFC 4315).
    case uidMove(IMAPUIDSet, mailbox: String)
    case uidCopy(IMAPUIDSet, mailbox: String)
    case uidExpunge(IMAPUIDSet)
    case rename(from: String, to: String)
    case delete(mailbox: String)

    /// The command's name for error messages, never its arguments.
    public var name: String {
        switch self {
        case .capability: "CAPABILITY"
        case .noop: "NOOP"
        case .logout: "LOGOUT"
        case .startTLS: "STARTTLS"
        case .login: "LOGIN"
        case .authenticatePlain: "AUTHENTICATE PLAIN"
        case .namespace: "NAMESPACE"
        case .enable: "ENABLE"
        case .list, .listExtended: "LIST"
        case .lsub: "LSUB"
        case .select(_, let readOnly, _): readOnly ? "EXAMINE" : "SELECT"
        case .status: "STATUS"
        case .uidFetch, .uidFetchChangedSince: "UID FETCH"
        case .uidSearch: "UID SEARCH"
        case .create: "CREATE"
        case .subscribe: "SUBSCRIBE"
        case .getACL: "GETACL"
        case .setACL: "SETACL"
        case .deleteACL: "DELETEACL"
        case .myRights: "MYRIGHTS"
        case .append, .multiAppend: "APPEND"
        case .uidStoreFlags: "UID STORE"
        case .uidMove: "UID MOVE"
        case .uidCopy: "UID COPY"
        case .uidExpunge: "UID EXPUNGE"
        case .rename: "RENAME"
        case .delete: "DELETE"
        }
    }
}

/// One message of a MULTIAPPEND: what goes before its literal, and the literal's size.
public struct IMAPAppendItem: Sendable, Hashable {
    public var flags: [String]
    public var internalDate: InternalDate?
    public var size: Int64
    public init(flags: [String], internalDate: InternalDate?, size: Int64) {
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
    }
}
