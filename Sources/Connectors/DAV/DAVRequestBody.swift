/// The XML bodies a DAV client sends: PROPFIND, multiget REPORTs, extended MKCOL, MKCALENDAR and PROPPATCH.
enum DAVRequestBody {
    static let prefixes = [
        DAVXMLElement.dav: "D", DAVXMLElement.calDAV: "C", DAVXMLElement.cardDAV: "A", DAVXMLElement.apple: "I",
    ]
    static let declarations = prefixes.sorted { $0.value < $1.value }.map { " xmlns:\($0.value)=\"\($0.key)\"" }.joined()

    static func qualified(_ property: (String, String)) -> String { "\(prefixes[property.0] ?? "D"):\(property.1)" }

    static func document(_ root: (String, String), _ inside: String) -> [UInt8] {
        Array("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<\(qualified(root))\(declarations)>\(inside)</\(qualified(root))>".utf8)
    }

    static func propfind(_ properties: [(String, String)]) -> [UInt8] {
        document((DAVXMLElement.dav, "propfind"), "<D:prop>" + properties.map { "<\(qualified($0))/>" }.joined() + "</D:prop>")
    }

    static func multiget(_ report: (String, String), _ data: (String, String), hrefs: [String]) -> [UInt8] {
        document(
            report,
            "<D:prop><D:getetag/><\(qualified(data))/></D:prop>" + hrefs.map { "<D:href>\(escaped($0))</D:href>" }.joined())
    }

    /// A sync-collection REPORT (RFC 6578 section 3.2) for the members changed or removed since `token`, with their
    /// entity tags.
    static func syncCollection(since token: String) -> [UInt8] {
        document(
            (DAVXMLElement.dav, "sync-collection"),
            "<D:sync-token>\(escaped(token))</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>")
    }

    /// The properties of a collection to set, as `<D:prop>` content; the component set only when creating.
    static func collectionProperties(_ collection: CollectionProperties, creating: Bool) -> String {
        var inside = ""
        if let name = collection.displayName { inside += "<D:displayname>\(escaped(name))</D:displayname>" }
        if let description = collection.description {
            let element = collection.isCalendar ? "C:calendar-description" : "A:addressbook-description"
            inside += "<\(element)>\(escaped(description))</\(element)>"
        }
        if let color = collection.color { inside += "<I:calendar-color>\(escaped(color))</I:calendar-color>" }
        if let zone = collection.timeZone {
            // The CR of each CR LF as a character reference, so the zone keeps its line ends through XML.
            inside += "<C:calendar-timezone>\(escaped(zone).replacingOccurrences(of: "\r", with: "&#13;"))</C:calendar-timezone>"
        }
        if creating, let components = collection.components, !components.isEmpty {
            inside += "<C:supported-calendar-component-set>"
                + components.map { "<C:comp name=\"\(escaped($0))\"/>" }.joined() + "</C:supported-calendar-component-set>"
        }
        return inside
    }

    static func makeCalendar(_ collection: CollectionProperties) -> [UInt8] {
        document((DAVXMLElement.calDAV, "mkcalendar"), "<D:set><D:prop>\(collectionProperties(collection, creating: true))</D:prop></D:set>")
    }

    /// Extended MKCOL (RFC 5689) with the address book resource type (RFC 6352 section 6.3.1).
    static func makeAddressBook(_ collection: CollectionProperties) -> [UInt8] {
        document(
            (DAVXMLElement.dav, "mkcol"),
            "<D:set><D:prop><D:resourcetype><D:collection/><A:addressbook/></D:resourcetype>"
                + collectionProperties(collection, creating: true) + "</D:prop></D:set>")
    }

    static func propertyUpdate(_ collection: CollectionProperties) -> [UInt8]? {
        let inside = collectionProperties(collection, creating: false)
        guard !inside.isEmpty else { return nil }
        return document((DAVXMLElement.dav, "propertyupdate"), "<D:set><D:prop>\(inside)</D:prop></D:set>")
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// What a target sets on a collection it creates.
    struct CollectionProperties {
        var isCalendar: Bool
        var displayName: String?
        var description: String?
        var color: String?
        var timeZone: String?
        var components: [String]?
    }
}
