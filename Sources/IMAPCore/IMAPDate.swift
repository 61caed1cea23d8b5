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
