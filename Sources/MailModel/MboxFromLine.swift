/// The separator line that starts each message in an mbox file, such as
/// `From alice@example.com Thu Mar  7 10:00:00 2024`: the envelope sender and the delivery time.
public struct MboxFromLine: Hashable, Sendable {
    /// The envelope sender as written (`MAILER-DAEMON` and `-` occur); empty when the line has none.
    public var sender: String
    /// The text after the sender.
    public var dateText: String
    /// The delivery time, when `dateText` could be read. Without a zone the time is taken as UTC and
    /// `utcOffsetMinutes` is nil, since the writer's local zone is not recorded.
    public var date: InternalDate?

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Reads the line's text (the terminator already removed). Returns nil when it does not start with `From `.
    ///
    ///     From_ = "From " sender 1*SP asctime-date [1*SP zone] [" remote from " host]   ; mbox(5), informal
    ///     asctime-date = weekday SP month SP day SP hh ":" mm [":" ss] SP year    ; day may be space-padded
    public init?(_ line: String) {
        guard line.hasPrefix("From ") else { return nil }
        let rest = line.dropFirst(5).drop(while: { $0 == " " })
        let senderEnd = rest.firstIndex(of: " ") ?? rest.endIndex
        sender = String(rest[..<senderEnd])
        dateText = String(rest[senderEnd...]).trimmingWhiteSpace()
        date = Self.asctime(dateText)
    }

    /// Parses `Thu Mar  7 10:00:00 2024`, also with the zone before or after the year
    /// (`... 10:00:00 +0100 2024`, `... 2024 +0100`) and without seconds.
    public static func asctime(_ text: String) -> InternalDate? {
        let tokens = text.split(separator: " ").map { String($0) }
        guard let monthAt = tokens.firstIndex(where: { RFC5322.monthNames.contains($0.lowercased()) }),
            monthAt == 1, weekdays.contains(tokens[0].lowercased()), tokens.count >= monthAt + 4,
            let day = Int(tokens[monthAt + 1]), (1...31).contains(day),
            let clock = RFC5322.clockTime(tokens[monthAt + 2])
        else { return nil }
        var year: Int?
        var offset: Int?
        for token in tokens[(monthAt + 3)...] {
            if token.count == 4, let value = Int(token), year == nil {
                year = value
            } else if offset == nil, let zone = RFC5322.zoneOffset(token) {
                offset = zone
            } else {
                break  // `remote from host` and anything else after the date
            }
        }
        guard let year, let month = RFC5322.monthNames.firstIndex(of: tokens[monthAt].lowercased()) else { return nil }
        let days = InternalDate.days(year: Int64(year), month: Int64(month + 1), day: Int64(day))
        return InternalDate(
            epochSeconds: days * 86_400 + Int64(clock) - Int64(offset ?? 0) * 60,
            utcOffsetMinutes: offset.map { Int16($0) })
    }

    /// Writes a From_ line (without terminator) in the asctime form above, in UTC. A sender with white
    /// space or an empty one is replaced by `MAILER-DAEMON`, since the line is split at spaces.
    public static func format(sender: String, date: InternalDate) -> String {
        let safeSender =
            sender.isEmpty || sender.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
            ? "MAILER-DAEMON" : sender
        let seconds = date.epochSeconds
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = InternalDate.civil(fromDays: days)
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 7 + 3) % 7)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let dayText = day < 10 ? " \(day)" : "\(day)"
        let name = { (s: String) in s.prefix(1).uppercased() + s.dropFirst() }
        return "From \(safeSender) \(name(weekdays[weekday])) \(name(RFC5322.monthNames[Int(month - 1)])) \(dayText) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) \(year)"
    }
}
