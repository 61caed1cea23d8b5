import Foundation

/// Times are stored as integer milliseconds since 1970-01-01T00:00:00Z.
enum Timestamp {
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// Now, rounded to what the database keeps, so a value returned at commit equals the one read back.
    static func now() -> Date { date(milliseconds(Date())) }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
