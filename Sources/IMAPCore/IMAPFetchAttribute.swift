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

/// What the decoder hands out: whole responses, and FETCH responses as a start, attributes, streamed bodies and
/// an end.
public enum IMAPResponseEvent: Sendable, Hashable {
    case greeting(IMAPGreeting)
    /// continue-req = "+" SP (resp-text / base64) CRLF
    case continuation(String)
    case tagged(IMAPTaggedResponse)
    case untagged(IMAPUntaggedResponse)
    /// `* n FETCH (`
    case fetchStart(sequence: UInt32)
    case fetchAttribute(IMAPFetchAttribute)
    /// `BODY[section]<origin>`, `BINARY[section]` or `RFC822...` with a literal (or quoted string) of `size` bytes.
    case fetchBodyStart(section: String, size: Int64)
    case fetchBodyBytes([UInt8])
    case fetchBodyEnd
    /// The FETCH response's closing `)`.
    case fetchEnd
}
