/// When the mail system received a message (IMAP INTERNALDATE, a Maildir file's mtime),
/// kept to the nanosecond with the zone it was given in, when the source knows it.
public struct InternalDate: Hashable, Sendable, Codable, Comparable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var epochSeconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int32
    /// The zone offset in minutes east of UTC the source gave, or nil where it has none (file mtimes).
    public var utcOffsetMinutes: Int16?

    public init(epochSeconds: Int64, nanoseconds: Int32 = 0, utcOffsetMinutes: Int16? = nil) {
        self.epochSeconds = epochSeconds
        self.nanoseconds = nanoseconds
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    enum CodingKeys: String, CodingKey {
        case epochSeconds = "epoch"
        case nanoseconds = "nanos"
        case utcOffsetMinutes = "offset"
    }

    public static func < (lhs: InternalDate, rhs: InternalDate) -> Bool {
        (lhs.epochSeconds, lhs.nanoseconds) < (rhs.epochSeconds, rhs.nanoseconds)
    }

    /// `2024-03-01T09:00:00Z` or `2024-03-01T10:00:00+01:00` (zone as given), for people to read.
    public var iso8601: String {
        // Any signed 64-bit epoch is valid in an archive; beyond the calendar arithmetic's safe range (some
        // 140 million years) the date is shown as its number rather than overflowing.
        guard Self.calendarRange.contains(epochSeconds) else { return "epoch \(epochSeconds)" }
        let offset = Int64(utcOffsetMinutes ?? 0)
        let local = epochSeconds + offset * 60
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondsOfDay = local - days * 86_400
        let (y, m, d) = Self.civil(fromDays: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var text = "\(y)-\(two(m))-\(two(d))T\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60))"
        if let minutes = utcOffsetMinutes {
            let sign = minutes < 0 ? "-" : "+"
            let a = Int64(abs(Int(minutes)))
            text += "\(sign)\(two(a / 60)):\(two(a % 60))"
        } else {
            text += "Z"
        }
        return text
    }

    /// Epoch seconds the calendar arithmetic handles without overflow (with any zone offset added).
    public static let calendarRange: ClosedRange<Int64> = -(1 << 52)...(1 << 52)

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// A proleptic Gregorian date to days since 1970-01-01 (days_from_civil).
    public static func days(year y0: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
