/// One `response` of a DAV multistatus (RFC 4918 section 14.24): the href as the server wrote it and the
/// properties it found, by `propstat`.
struct DAVResponse {
    let href: String
    let element: DAVXMLElement

    /// The status of the response as a whole (`<D:status>` beside the href), which servers use for a resource that
    /// is not there (Xandikos answers a PROPFIND of a missing collection with 207 and a 404 here).
    var status: Int? {
        guard let text = element.child(DAVXMLElement.dav, "status")?.text else { return nil }
        return text.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// The property's element when a `propstat` with status 200 holds it; nil when it is absent or not found.
    func property(_ namespace: String, _ name: String) -> DAVXMLElement? {
        for propstat in element.all(DAVXMLElement.dav, "propstat") {
            let status = propstat.child(DAVXMLElement.dav, "status")?.text ?? ""
            guard status.split(separator: " ").dropFirst().first == "200" else { continue }
            if let found = propstat.child(DAVXMLElement.dav, "prop")?.child(namespace, name) { return found }
        }
        return nil
    }

    /// The properties of a PROPPATCH answer whose status is not 2xx, by local name.
    var refusedProperties: [String] {
        element.all(DAVXMLElement.dav, "propstat").flatMap { propstat -> [String] in
            let code = (propstat.child(DAVXMLElement.dav, "status")?.text ?? "").split(separator: " ").dropFirst().first ?? ""
            guard !code.hasPrefix("2") else { return [] }
            return propstat.child(DAVXMLElement.dav, "prop")?.children.map(\.name) ?? []
        }
    }
}
