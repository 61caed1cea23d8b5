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
    /// `* STATUS mailbox (NAME value ...)`, names uppercased: numbers, and in `ids` the identifiers (RFC 8474
    /// `MAILBOXID (id)`, Dovecot's `X-GUID hex`).
    case status(IMAPMailboxName, [String: UInt64], ids: [String: String] = [:])
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
