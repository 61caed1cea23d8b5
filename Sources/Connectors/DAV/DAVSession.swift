import Foundation
import IMAPClient
import IMAPCore
import MailModel

/// One user's conversation with a CalDAV/CardDAV server (RFC 4791, RFC 6352) over WebDAV (RFC 4918): HTTP Basic
/// with the user's line of the credentials file, redirects followed only on the same server, discovery (RFC 6764
/// well-known URIs, RFC 5397 current-user-principal, the home sets), collection listings, multiget REPORTs, and the
/// writes a target makes.
///
/// Every href the server answers with is checked: one on another server, or outside the collection asked about, is
/// refused (an error naming it), so a hostile server cannot point the client elsewhere.
final class DAVSession {
    let server: DAVServer
    let user: String
    let connection: HTTPConnection
    private let authorization: String

    /// How many redirects one request may follow (RFC 9110 section 15.4 leaves it to the client).
    static let maxRedirects = 5
    /// Objects asked for in one multiget REPORT: the answer is one response body, which the parser bounds.
    static let multigetBatch = 100

    init(server: DAVServer, user: String) throws {
        self.server = server
        self.user = user
        let name: String, password: String
        switch try server.access.credentials.login(for: user) {
        case .user(let n, let p), .master(let n, let p): (name, password) = (n, p)
        case .sasl:
            throw FerryError(.usage, "\(server.name): a DAV server takes an HTTP Basic login; give \(user)'s own password, or an admin line with the method master, in the credentials file")
        }
        guard server.access.implicitTLS || server.access.allowPlaintext else {
            throw FerryError(.usage, "\(server.name): dav:// would send \(user)'s password in the clear; use davs://, or give --allow-plaintext")
        }
        let basic = Data("\(name):\(password)".utf8).base64EncodedString()
        authorization = "Basic " + basic
        connection = HTTPConnection(server.endpoint)
        connection.secrets = [password, basic]
    }

    deinit { connection.close() }

    var location: String { "\(server.name) \(user)" }

    /// An error for this user at this server; the message, which may quote the server, without the password.
    func failure(_ message: String) -> ConnectorError { ConnectorError(location: location, message: redacted(message)) }

    /// `text` without the password or its Basic form (a server may echo what it was sent).
    func redacted(_ text: String) -> String {
        var text = text
        for secret in connection.secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
        return text
    }

    // MARK: Requests

    /// Sends one request, following redirects to the same server (at most `maxRedirects`, a loop is an error).
    func request(_ method: String, _ path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        var path = path
        var visited = [path]
        while true {
            let request = HTTPRequest(
                method: method, path: path,
                headers: [("Authorization", authorization), ("User-Agent", "mailferry")] + headers, body: body)
            let response = try connection.send(request)
            if response.status == 401 {
                throw failure("\(method) \(path): the server refused the login (401 \(response.reason)); check the credentials file")
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let target = response.header("location") else {
                return response
            }
            guard let next = server.pathOnThisServer(target, from: path) else {
                throw failure("\(method) \(path): the server redirects to \(target.debugDescription), another server; refused")
            }
            if visited.contains(next) {
                throw failure("\(method): a redirect loop: \((visited + [next]).joined(separator: " -> "))")
            }
            visited.append(next)
            guard visited.count <= Self.maxRedirects + 1 else {
                throw failure("\(method): more than \(Self.maxRedirects) redirects: \(visited.joined(separator: " -> "))")
            }
            path = next
        }
    }

    /// A PROPFIND for `properties`, answered with a multistatus; nil when the resource is not there (404).
    func propfind(_ path: String, depth: Int, _ properties: [(String, String)]) throws -> [DAVResponse]? {
        let body = DAVRequestBody.propfind(properties)
        let response = try request(
            "PROPFIND", path, headers: [("Depth", "\(depth)"), ("Content-Type", "application/xml; charset=utf-8")], body: body)
        if response.status == 404 { return nil }
        guard response.status == 207 else {
            throw failure("PROPFIND \(path): \(response.status) \(response.reason)\(Self.snippet(response.body))")
        }
        let answers = try multistatus(response, of: path)
        if !answers.isEmpty && answers.allSatisfy({ $0.status == 404 }) { return nil }
        return answers
    }

    func multistatus(_ response: HTTPResponse, of path: String) throws -> [DAVResponse] {
        try responses(in: parsed(response, of: path), of: path)
    }

    /// The answer's XML document.
    func parsed(_ response: HTTPResponse, of path: String) throws -> DAVXMLElement {
        do {
            return try DAVXMLElement.parse(response.body)
        } catch {
            throw failure("the answer for \(path): \(error)")
        }
    }

    /// The `response` elements of a parsed multistatus.
    func responses(in root: DAVXMLElement, of path: String) throws -> [DAVResponse] {
        guard root.namespace == DAVXMLElement.dav && root.name == "multistatus" else {
            throw failure("the answer for \(path) is not a DAV multistatus (its root is \(root.name))")
        }
        return try root.all(DAVXMLElement.dav, "response").map { element in
            guard let href = element.child(DAVXMLElement.dav, "href")?.text.trimmingCharacters(in: .whitespacesAndNewlines) else {
                throw failure("a response without href in the answer for \(path)")
            }
            return DAVResponse(href: href, element: element)
        }
    }

    /// The path of `href` as this server names it, refused unless it is `collection` itself or inside it.
    func memberPath(_ href: String, of collection: String) throws -> String {
        guard let path = server.pathOnThisServer(href, from: collection) else {
            throw failure("the server named \(href.debugDescription) in its answer for \(collection): another server; refused")
        }
        let decoded = DAVServer.decoded(path), base = DAVServer.decoded(collection)
        let segments = decoded.split(separator: "/")
        guard decoded.hasPrefix(base.hasSuffix("/") ? base : base + "/") || decoded == base || decoded + "/" == base,
            !segments.contains("..") && !segments.contains(".")
        else {
            throw failure("the server named \(href.debugDescription) in its answer for \(collection): outside that collection; refused")
        }
        return path
    }

    /// What a server said about a refusal, for the report: the `responsedescription` texts and the names of the
    /// `error` preconditions (RFC 4918 section 16, RFC 4791 section 5.3.2.1) of a DAV error body, else its start.
    static func serverReason(_ body: [UInt8]) -> String {
        guard let root = try? DAVXMLElement.parse(body) else { return snippet(body) }
        var said: [String] = []
        func walk(_ element: DAVXMLElement, depth: Int) {
            guard depth < DAVXMLElement.maxDepth else { return }
            if element.namespace == DAVXMLElement.dav && element.name == "error" {
                said += element.children.map(\.name)
            }
            if element.namespace == DAVXMLElement.dav && element.name == "responsedescription" {
                said.append(element.text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            for child in element.children { walk(child, depth: depth + 1) }
        }
        walk(root, depth: 0)
        return said.isEmpty ? snippet(body) : ": " + said.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    static func snippet(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return ": " + text + (body.count > 300 ? "..." : "")
    }

    // MARK: Discovery

    /// The user's principal (RFC 5397): asked at the URL's path, then at the well-known URIs (RFC 6764 section 5),
    /// then at the root.
    func principal() throws -> String {
        var candidates = [String]()
        if server.path != "/" { candidates.append(server.path) }
        candidates += ["/.well-known/caldav", "/.well-known/carddav", "/"]
        for candidate in candidates {
            // A candidate that answers with anything but a multistatus is passed over; a refused redirect, a broken
            // or hostile answer is an error.
            let response = try request(
                "PROPFIND", candidate, headers: [("Depth", "0"), ("Content-Type", "application/xml; charset=utf-8")],
                body: DAVRequestBody.propfind([(DAVXMLElement.dav, "current-user-principal")]))
            guard response.status == 207 else { continue }
            for answer in try multistatus(response, of: candidate) {
                if let href = answer.property(DAVXMLElement.dav, "current-user-principal")?.child(DAVXMLElement.dav, "href")?.text,
                    let path = server.pathOnThisServer(href.trimmingCharacters(in: .whitespacesAndNewlines), from: candidate)
                {
                    return path
                }
            }
        }
        throw failure("no current-user-principal at \(candidates.joined(separator: ", ")): is this a CalDAV/CardDAV server?")
    }

    /// Every address book and calendar in the user's home sets, sorted by name.
    func collections() throws -> [DAVCollection] {
        let homes = try homeSets()
        var found: [DAVCollection] = []
        var seen = Set<String>()
        for home in [homes.calendars, homes.addressBooks].compactMap({ $0 }) where seen.insert(DAVServer.decoded(home)).inserted {
            guard let answers = try propfind(home, depth: 1, DAVCollection.properties) else { continue }
            for answer in answers {
                let path = try memberPath(answer.href, of: home)
                guard DAVServer.decoded(path).trimmingSlash != DAVServer.decoded(home).trimmingSlash else { continue }
                if let collection = DAVCollection(path: path, answer: answer) { found.append(collection) }
            }
        }
        return found.sorted { ($0.kind == .addressBook ? 0 : 1, $0.name) < ($1.kind == .addressBook ? 0 : 1, $1.name) }
    }

    /// The calendar and address-book home sets (RFC 4791 section 6.2.1, RFC 6352 section 7.1.1) of the principal.
    func homeSets() throws -> (calendars: String?, addressBooks: String?) {
        let principal = try principal()
        guard let answer = try propfind(
            principal, depth: 0,
            [(DAVXMLElement.calDAV, "calendar-home-set"), (DAVXMLElement.cardDAV, "addressbook-home-set")])?.first
        else {
            throw failure("the principal \(principal) is not there (404)")
        }
        func home(_ namespace: String, _ name: String) -> String? {
            guard let href = answer.property(namespace, name)?.child(DAVXMLElement.dav, "href")?.text else { return nil }
            return server.pathOnThisServer(href.trimmingCharacters(in: .whitespacesAndNewlines), from: principal).map {
                $0.hasSuffix("/") ? $0 : $0 + "/"
            }
        }
        let homes = (home(DAVXMLElement.calDAV, "calendar-home-set"), home(DAVXMLElement.cardDAV, "addressbook-home-set"))
        guard homes.0 != nil || homes.1 != nil else {
            throw failure("the principal \(principal) names neither a calendar nor an address-book home set")
        }
        return homes
    }

    // MARK: Objects

    /// The objects in `collection` (their paths, sorted, with their entity tags where the server gives them),
    /// sub-collections left out.
    func members(of collection: DAVCollection) throws -> [(path: String, etag: String?)] {
        guard let answers = try propfind(collection.path, depth: 1, [(DAVXMLElement.dav, "resourcetype"), (DAVXMLElement.dav, "getetag")]) else {
            throw failure("the collection \(collection.path) went away while it was read")
        }
        var paths: [(path: String, etag: String?)] = []
        for answer in answers {
            let path = try memberPath(answer.href, of: collection.path)
            if DAVServer.decoded(path).trimmingSlash == DAVServer.decoded(collection.path).trimmingSlash { continue }
            if answer.property(DAVXMLElement.dav, "resourcetype")?.child(DAVXMLElement.dav, "collection") != nil { continue }
            if path.hasSuffix("/") { continue }
            let etag = answer.property(DAVXMLElement.dav, "getetag")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
            paths.append((path, etag?.isEmpty == false ? etag : nil))
        }
        return paths.sorted { $0.path < $1.path }
    }

    /// What changed in `collection` since `token` (a sync-collection REPORT, RFC 6578), with the token that names
    /// the collection's state now: the members changed or added, with their entity tags, and the members removed (a
    /// 404 response, section 3.5.2). An empty `token` asks for the initial sync (section 3.4): every member, the
    /// listing and its token taken together. A truncated answer (507 on the collection itself, section 3.6) is asked
    /// again from the token it came with. Nil when the server takes no sync-collection, no longer knows the token
    /// (403/409 `valid-sync-token`, section 3.2) or names no new token: the caller lists the collection instead.
    func changes(of collection: DAVCollection, since token: String) throws
        -> (changed: [(path: String, etag: String?)], removed: [String], token: String)?
    {
        var changed: [String: (path: String, etag: String?)] = [:]
        var removed: [String: String] = [:]
        var token = token
        for _ in 0..<Self.maxSyncRounds {
            let response = try request(
                "REPORT", collection.path, headers: [("Depth", "0"), ("Content-Type", "application/xml; charset=utf-8")],
                body: DAVRequestBody.syncCollection(since: token))
            guard response.status == 207 else { return nil }
            var truncated = false
            let root = try parsed(response, of: collection.path)
            for answer in try responses(in: root, of: collection.path) {
                let path = try memberPath(answer.href, of: collection.path)
                let decoded = DAVServer.decoded(path)
                if decoded.trimmingSlash == DAVServer.decoded(collection.path).trimmingSlash {
                    // The collection itself: 507 says the answer is cut short; some servers list it as changed.
                    if answer.status == 507 { truncated = true }
                    continue
                }
                if path.hasSuffix("/") { continue }
                if answer.status == 404 {
                    changed[decoded] = nil
                    removed[decoded] = path
                } else {
                    let etag = answer.property(DAVXMLElement.dav, "getetag")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
                    removed[decoded] = nil
                    changed[decoded] = (path, etag?.isEmpty == false ? etag : nil)
                }
            }
            guard let next = root.child(DAVXMLElement.dav, "sync-token")?.text.trimmingCharacters(in: .whitespacesAndNewlines),
                !next.isEmpty
            else { return nil }
            guard truncated else {
                return (changed.values.sorted { $0.path < $1.path }, removed.values.sorted(), next)
            }
            guard next != token else { return nil }
            token = next
        }
        return nil
    }

    /// How many truncated sync-collection answers one collection may take before it is listed instead.
    static let maxSyncRounds = 1000

    /// Each object's exact bytes with multiget REPORTs (RFC 4791 section 7.9, RFC 6352 section 8.7) of
    /// `multigetBatch` objects each, handed to `take` in the order asked. An object gone since the listing is
    /// passed to `gone`.
    func multiget(
        _ collection: DAVCollection, _ paths: [String], gone: (String) -> Void,
        take: (_ path: String, _ bytes: [UInt8]) throws -> Void
    ) throws {
        try multiget(collection.path, calendar: collection.kind == .calendar, paths, gone: gone, take: take)
    }

    func multiget(
        _ collectionPath: String, calendar: Bool, _ paths: [String], gone: (String) -> Void,
        take: (_ path: String, _ bytes: [UInt8]) throws -> Void
    ) throws {
        let (report, data) =
            calendar
            ? ((DAVXMLElement.calDAV, "calendar-multiget"), (DAVXMLElement.calDAV, "calendar-data"))
            : ((DAVXMLElement.cardDAV, "addressbook-multiget"), (DAVXMLElement.cardDAV, "address-data"))
        var start = 0
        while start < paths.count {
            let batch = Array(paths[start..<min(paths.count, start + Self.multigetBatch)])
            start += batch.count
            let response = try request(
                "REPORT", collectionPath, headers: [("Depth", "1"), ("Content-Type", "application/xml; charset=utf-8")],
                body: DAVRequestBody.multiget(report, data, hrefs: batch))
            guard response.status == 207 else {
                throw failure("REPORT \(report.1) on \(collectionPath): \(response.status) \(response.reason)\(Self.snippet(response.body))")
            }
            var byPath: [String: [UInt8]] = [:]
            for answer in try multistatus(response, of: collectionPath) {
                let path = try memberPath(answer.href, of: collectionPath)
                if let element = answer.property(data.0, data.1) {
                    byPath[DAVServer.decoded(path)] = DAVObjectBytes.restoringLineEnds(element.text)
                }
            }
            for path in batch {
                if let bytes = byPath[DAVServer.decoded(path)] { try take(path, bytes) } else { gone(path) }
            }
        }
    }
}

extension String {
    var trimmingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
