import MailModel

/// One msg-att item of a FETCH response (RFC 9051 section 7.5.2) other than a message body, which streams as
/// `IMAPResponseEvent.fetchBodyStart`/`fetchBodyBytes`/`fetchBodyEnd`.
public enum IMAPFetchAttribute: Sendable, Hashable {
    case uid(UInt32)
    case flags([String])
    case internalDate(InternalDate)
    case rfc822Size(Int64)
    /// Dovecot's `X-GUID`.
    case xGUID(String)
    /// RFC 8474
    case emailID(String)
    /// RFC 8474; nil for `THREADID NIL`.
    case threadID(String?)
    /// RFC 7162 `MODSEQ (n)`
    case modSeq(UInt64)
    /// `BODY[section]<origin> NIL`: the server has no such body.
    case bodyNil(section: String)
    /// An item this client does not use, skipped: its name uppercased.
    case skipped(String)
}
