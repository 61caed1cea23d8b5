/// search-key (RFC 9051 section 6.4.4), the keys the connectors use.
public indirect enum IMAPSearchKey: Sendable, Hashable {
    case all
    /// RFC822.SIZE larger than n octets
    case larger(Int64)
    case smaller(Int64)
    /// `HEADER field-name string`: the field contains the string (case-insensitive substring).
    case header(String, String)
    /// Internal date on the day (ignoring time and zone).
    case on(IMAPDate)
    case since(IMAPDate)
    case before(IMAPDate)
    case uid(IMAPUIDSet)
    case not(IMAPSearchKey)
    case or(IMAPSearchKey, IMAPSearchKey)
}
