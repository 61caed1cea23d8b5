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

/// date = date-text / DQUOTE date-text DQUOTE ; date-text = date-day "-" date-month "-" date-year
public struct IMAPDate: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `1-Feb-1994`
    public var imapText: String { "\(day)-\(Self.months[max(0, min(11, month - 1))])-\(year)" }
}
