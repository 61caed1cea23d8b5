import MailModel
import Reporting

/// Compares an archived address book's or calendar's own properties (display name, description, colour, time zone,
/// components: what a DAV source carries) with the target's collection. A property the archive has and the target
/// shows none of is not held (Xandikos keeps no calendar description or time zone; a `dir:` store keeps none of
/// them; the import named it in a notice): listed, not a failure. One the target holds with another value fails.
/// Pure: values in, report lines out.
struct CollectionPropertyComparison {
    typealias Line = ReconcileReport.FolderProperty

    private var lines: [Line] = []

    init(archived: AddressBookInfo, target: AddressBookInfo) {
        compare(.displayName, archived.displayName, target.displayName)
        compare(.collectionDescription, archived.description, target.description)
    }

    init(archived: CalendarInfo, target: CalendarInfo) {
        compare(.displayName, archived.displayName, target.displayName)
        compare(.collectionDescription, archived.description, target.description)
        compare(.color, archived.color, target.color, normalized: Self.color)
        compare(.timeZone, archived.timeZone, target.timeZone, shown: Self.timeZoneID, normalized: Self.timeZoneID)
        components(archived.components, target.components)
    }

    var properties: [Line] { lines }

    /// `shown` is how a value reads in the report, `normalized` what is compared.
    private mutating func compare(
        _ property: Line.Property, _ archived: String?, _ target: String?, shown: (String) -> String = { $0 },
        normalized: (String) -> String = { $0 }
    ) {
        guard let archived else { return }
        guard let target else {
            lines.append(Line(
                property: property, outcome: .notHeld, archive: shown(archived), target: nil,
                reason: "the target's collection shows no \(property.displayName)"))
            return
        }
        let outcome: Line.Outcome = normalized(archived) == normalized(target) ? .match : .different
        lines.append(Line(property: property, outcome: outcome, archive: shown(archived), target: shown(target)))
    }

    /// Supported components compared as sets. A target that accepts more kinds than the archived calendar (a server
    /// that sets its own component set, as Xandikos does) holds every archived item: listed as extra, not a failure.
    private mutating func components(_ archived: [String]?, _ target: [String]?) {
        guard let archived, let target else {
            compare(.components, archived.map(Self.componentList), target.map(Self.componentList))
            return
        }
        let a = Set(archived.map { $0.uppercased() })
        let t = Set(target.map { $0.uppercased() })
        guard a != t, a.isSubset(of: t) else {
            compare(.components, Self.componentList(archived), Self.componentList(target))
            return
        }
        lines.append(Line(
            property: .components, outcome: .extra, archive: Self.componentList(archived), target: Self.componentList(target),
            reason: "the target's calendar accepts more kinds of item (the server sets its own component set)"))
    }

    /// `#rrggbb` and `#RRGGBBFF` are one colour (Apple's calendar-color may carry an opaque alpha).
    static func color(_ value: String) -> String {
        var text = value.trimmingCharacters(in: .whitespaces).uppercased()
        if text.count == 7, text.hasPrefix("#") { text += "FF" }
        return text
    }

    /// A `calendar-timezone` is an iCalendar object a server may serialise its own way: it is the zone its VTIMEZONE's
    /// TZID names (the whole text when it names none).
    static func timeZoneID(_ value: String) -> String {
        for line in value.split(whereSeparator: \.isNewline) where line.uppercased().hasPrefix("TZID:") {
            return String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)
        }
        return value
    }

    /// Components as a sorted set: `VEVENT, VTODO`.
    static func componentList(_ components: [String]) -> String {
        Set(components.map { $0.uppercased() }).sorted().joined(separator: ", ")
    }
}
