extension RFC5322 {
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Obsolete zone names (RFC 5322 section 4.3) with their offsets in minutes; military letters are
    /// taken as -0000 (unknown), as that section advises, so they map to nil below.
    static let zoneNames: [String: Int] = [
        "ut": 0, "gmt": 0, "z": 0, "edt": -240, "est": -300, "cdt": -300, "cst": -360,
        "mdt": -360, "mst": -420, "pdt": -420, "pst": -480,
    ]

    /// Reads a `Date:` value, leniently: the day name is optional, seconds are optional, two-digit
    /// years are widened (section 4.3), comments and obsolete zone names are accepted.
    ///
    ///     date-time = [ day-of-week "," ] date time [CFWS]   ; RFC 5322 section 3.3
    ///     date      = day month year
    ///     time      = hour ":" minute [ ":" second ] FWS zone
    ///     zone      = ( "+" / "-" ) 4DIGIT / obs-zone
    public static func date(_ text: String) -> InternalDate? {
        // Drop comments such as "(CET)", then split at white space and commas.
        var plain = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 } else if character == ")" { depth = max(0, depth - 1) }
            else if depth == 0 { plain.append(character) }
        }
        var tokens = plain.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" })
            .map { String($0) }
        if let first = tokens.first, Int(first) == nil { tokens.removeFirst() }  // day-of-week
        guard tokens.count >= 4, let day = Int(tokens[0]), (1...31).contains(day),
            let monthIndex = monthNames.firstIndex(of: String(tokens[1].lowercased().prefix(3))),
            var year = Int(tokens[2]), let clock = clockTime(tokens[3])
        else { return nil }
        if tokens[2].count == 2 { year += year < 50 ? 2000 : 1900 } else if tokens[2].count == 3 { year += 1900 }
        // A year of more than four digits is not a date a mailer wrote, and would overflow the seconds below.
        guard (0...9999).contains(year) else { return nil }
        let offset = tokens.count > 4 ? zoneOffset(tokens[4]) : nil
        let days = InternalDate.days(year: Int64(year), month: Int64(monthIndex + 1), day: Int64(day))
        let local = days * 86_400 + Int64(clock)
        return InternalDate(
            epochSeconds: local - Int64(offset ?? 0) * 60, utcOffsetMinutes: offset.map { Int16($0) })
    }

    /// `hh:mm` or `hh:mm:ss` to seconds of the day (a leap second 60 is allowed).
    static func clockTime(_ token: String) -> Int? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let numbers = parts.map { $0.count == 2 || $0.count == 1 ? Int($0) : nil }
        guard let hour = numbers[0], let minute = numbers[1], hour < 24, minute < 60 else { return nil }
        let second = parts.count == 3 ? numbers[2] : 0
        guard let second, second <= 60 else { return nil }
        return hour * 3600 + minute * 60 + second
    }

    /// `+0100`, `-0500` or an obsolete name, to minutes east of UTC; nil when unknown.
    static func zoneOffset(_ token: String) -> Int? {
        let scalars = Array(token.unicodeScalars)
        if scalars.count == 5, scalars[0] == "+" || scalars[0] == "-",
            let value = Int(String(String.UnicodeScalarView(scalars[1...])))
        {
            let minutes = value / 100 * 60 + value % 100
            return scalars[0] == "-" ? -minutes : minutes
        }
        return zoneNames[token.lowercased()]
    }
}
