import IMAPCore
import MailModel
import SystemLayer

/// One user's side of a `DAVTarget`.
///
/// Containers: each address book and calendar goes into the user's home set under the archive's name, made with
/// extended MKCOL (RFC 5689) or MKCALENDAR (RFC 4791 section 5.3.1) carrying its properties, then a PROPPATCH of
/// the same properties for servers that leave them out at creation; a property the server will not keep is named
/// in a notice. A collection already there is used as it is.
///
/// Objects: each is read whole (bounded by `maxObjectBytes`), checked against the manifest, then sent with `PUT`
/// and `If-None-Match: *`, so the server stores it only where nothing has that name. Exactly once without a
/// journal, as for ManageSieve: a resource name is unique in its collection and a PUT is atomic, so what the server
/// holds is the record. An object already there (412) is read back with GET: the same bytes count as already
/// present, which is how an import killed part way finishes when run again; other bytes are a bad item (nothing a
/// user changed at the target is overwritten). A refused PUT is a bad item with the server's status and words.
final class DAVUserTarget: UserMailboxTarget {
    let target: DAVTarget
    let user: String
    let session: DAVSession
    private let homes: (calendars: String?, addressBooks: String?)
    /// Paths of the containers opened so far, by the number the import gave them (1-based, per kind).
    private var addressBooks: [(path: String, name: String)] = []
    private var calendars: [(path: String, name: String)] = []
    /// Where each object went: its collection and resource name.
    let placements = PlacementLog()
    private(set) var badItems: [BadItem] = []
    private(set) var convertedItems: [RewrittenItem] = []
    /// Set for a delta import: a changed object's new version replaces the old one.
    private var replacesChanged = false
    /// Objects written and not yet read back, by collection path: each one's key and content-lines digest.
    private var unread: [String: (calendar: Bool, objects: [(path: String, key: ItemKey, digest: String)])] = [:]

    /// The largest object this target sends in one PUT (vCards and iCalendar objects are small; a server's own
    /// limit is usually far lower).
    static let maxObjectBytes: Int64 = 32 << 20

    var heldKinds: Set<ItemKind> { [.contact, .calendarItem] }

    init(target: DAVTarget, user: String) throws {
        self.target = target
        self.user = user
        session = try DAVSession(server: target.server, user: user)
        homes = try session.homeSets()
    }

    var location: String { session.location }

    // MARK: What a DAV server does not hold

    private func refusal(_ what: String) -> ConnectorError {
        ConnectorError(
            location: location,
            message: "a CalDAV/CardDAV server holds contacts and calendars only, not \(what); import mail into imap(s)://, maildir: or dir:, and Sieve scripts into sieve://")
    }

    func folder(_ folder: FolderInfo) throws -> Int { throw refusal("mail folders (\(folder.path.joined(separator: "/")))") }

    func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool { throw refusal("messages") }

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void)
        throws -> Bool
    { throw refusal("Sieve scripts") }

    // MARK: Collections

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        guard let home = homes.addressBooks else {
            throw session.failure("the server names no address-book home set, so address book \(book.name) has nowhere to go")
        }
        let path = home + DAVServer.encodedSegment(book.name) + "/"
        try ensureCollection(
            path, DAVRequestBody.CollectionProperties(isCalendar: false, displayName: book.displayName, description: book.description))
        addressBooks.append((path, book.name))
        return addressBooks.count
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        guard let home = homes.calendars else {
            throw session.failure("the server names no calendar home set, so calendar \(calendar.name) has nowhere to go")
        }
        let path = home + DAVServer.encodedSegment(calendar.name) + "/"
        try ensureCollection(
            path,
            DAVRequestBody.CollectionProperties(
                isCalendar: true, displayName: calendar.displayName, description: calendar.description, color: calendar.color,
                timeZone: calendar.timeZone, components: calendar.components))
        calendars.append((path, calendar.name))
        return calendars.count
    }

    private func ensureCollection(_ path: String, _ properties: DAVRequestBody.CollectionProperties) throws {
        let kind = properties.isCalendar ? "calendar" : "address book"
        if let answer = try session.propfind(path, depth: 0, [(DAVXMLElement.dav, "resourcetype")])?.first {
            let types = answer.property(DAVXMLElement.dav, "resourcetype")
            let matches =
                properties.isCalendar
                ? types?.child(DAVXMLElement.calDAV, "calendar") != nil : types?.child(DAVXMLElement.cardDAV, "addressbook") != nil
            guard matches else { throw session.failure("\(path) is already there and is not \(properties.isCalendar ? "a" : "an") \(kind)") }
            return
        }
        let response =
            properties.isCalendar
            ? try session.request(
                "MKCALENDAR", path, headers: [("Content-Type", "application/xml; charset=utf-8")],
                body: DAVRequestBody.makeCalendar(properties))
            : try session.request(
                "MKCOL", path, headers: [("Content-Type", "application/xml; charset=utf-8")],
                body: DAVRequestBody.makeAddressBook(properties))
        guard response.status == 201 || response.status == 200 else {
            throw session.failure("cannot create the \(kind) \(path): \(response.status) \(response.reason)\(DAVSession.serverReason(response.body))")
        }
        guard let update = DAVRequestBody.propertyUpdate(properties) else { return }
        let patched = try session.request(
            "PROPPATCH", path, headers: [("Content-Type", "application/xml; charset=utf-8")], body: update)
        var refused: [String] = []
        if patched.status == 207 {
            refused = try session.multistatus(patched, of: path).flatMap(\.refusedProperties)
        } else if !(200..<300).contains(patched.status) {
            refused = ["every property (PROPPATCH: \(patched.status) \(patched.reason))"]
        }
        if !refused.isEmpty {
            target.onNotice?("\(location): the \(kind) \(path) does not keep \(refused.joined(separator: ", ")) at this server")
        }
    }

    // MARK: Objects

    func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        try put(into: addressBooks[book - 1], resourceName: info.resourceName, contentType: "text/vcard; charset=utf-8", key: key, body: body, check: check)
    }

    func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody,
        check: () throws -> Void
    ) throws -> Bool {
        try put(into: calendars[calendar - 1], resourceName: info.resourceName, contentType: "text/calendar; charset=utf-8", key: key, body: body, check: check)
    }

    private func put(
        into collection: (path: String, name: String), resourceName: String, contentType: String, key: ItemKey,
        body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        guard key.size <= Self.maxObjectBytes else {
            try refuse(key, collection.name, "\(key.size) bytes, more than the \(Self.maxObjectBytes) this program sends as one object")
            return false
        }
        guard !resourceName.isEmpty, resourceName != ".", resourceName != ".." else {
            try refuse(key, collection.name, "the resource name \(resourceName.debugDescription) cannot name a DAV object")
            return false
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(key.size))
        try body.stream { bytes.append(contentsOf: $0) }
        // Nothing reaches the server before the bytes matched the manifest.
        try check()
        let path = collection.path + DAVServer.encodedSegment(resourceName)
        let isCalendar = contentType.hasPrefix("text/calendar")
        var (status, response) = try send(bytes, to: path, contentType: contentType, condition: ("If-None-Match", "*"))
        if status == 412 {
            // Something has this name already (or, for Xandikos, this UID): the same object counts as present.
            let existing = try session.request("GET", path)
            guard existing.status == 200 else {
                try refuse(key, collection.name, "PUT \(resourceName): 412 \(response.reason)\(DAVSession.serverReason(response.body))")
                return false
            }
            let held = SHA256.hex(existing.body)
            if held == key.sha256 {
                status = 0
            } else if DAVObjectBytes.contentLinesDigest(existing.body) == DAVObjectBytes.contentLinesDigest(bytes) {
                convertedItems.append(RewrittenItem(entry: key.entryPath, sha256: held, size: Int64(existing.body.count), archivedSHA256: key.sha256))
                status = 0
            } else if replacesChanged {
                // A delta's new version of a changed object replaces the one there, only if it is still that one.
                (status, response) = try send(
                    bytes, to: path, contentType: contentType, condition: existing.header("etag").map { ("If-Match", $0) })
            } else {
                try refuse(key, collection.name, "another object is already stored as \(resourceName); it is left as it is")
                return false
            }
        }
        let written: Bool
        switch status {
        case 0:
            written = false
        case 200..<300 where status != 207:
            written = true
            unread[collection.path, default: (isCalendar, [])].objects.append(
                (path, key, DAVObjectBytes.contentLinesDigest(bytes)))
            if unread[collection.path]!.objects.count >= DAVSession.multigetBatch { try readBack(collection.path) }
        default:
            try refuse(key, collection.name, "PUT \(resourceName): \(status) \(response.reason)\(DAVSession.serverReason(response.body))")
            return false
        }
        try placements.append(ItemPlacement(entry: key.entryPath, guid: nil, folder: collection.name, uidValidity: nil, uid: nil, file: resourceName))
        return written
    }

    /// One PUT; its status, or for a 207 (Xandikos answers a refused precondition so) the status inside.
    private func send(_ bytes: [UInt8], to path: String, contentType: String, condition: (String, String)?) throws -> (Int, HTTPResponse) {
        // Schedule-Reply: F (RFC 6638 section 8.1): a server that schedules sends no reply for what is only a copy.
        let response = try session.request(
            "PUT", path, headers: [("Content-Type", contentType), ("Schedule-Reply", "F")] + (condition.map { [$0] } ?? []),
            body: bytes)
        var status = response.status
        if status == 207, let inner = try? session.multistatus(response, of: path).first?.status { status = inner }
        return (status, response)
    }

    /// Reads back, with one multiget, the objects written into `collectionPath` since the last time. A server may
    /// store an object in its own serialisation (RFC 4791 section 5.3.4 allows it; Radicale and Xandikos both do
    /// for some objects): when the content lines are the same in another order or folding, the object is recorded
    /// as held in the server's form (`convertedItems`: the reconcile then expects those bytes, this run and later
    /// ones). Any other difference is left for the reconcile to report.
    private func readBack(_ collectionPath: String) throws {
        guard let pending = unread.removeValue(forKey: collectionPath), !pending.objects.isEmpty else { return }
        var byPath: [String: (key: ItemKey, digest: String)] = [:]
        for object in pending.objects { byPath[DAVServer.decoded(object.path)] = (object.key, object.digest) }
        var reordered = 0
        try session.multiget(
            collectionPath, calendar: pending.calendar, pending.objects.map(\.path), gone: { _ in },
            take: { path, bytes in
                guard let written = byPath[DAVServer.decoded(path)] else { return }
                let held = SHA256.hex(bytes)
                guard held != written.key.sha256, DAVObjectBytes.contentLinesDigest(bytes) == written.digest else { return }
                convertedItems.append(RewrittenItem(entry: written.key.entryPath, sha256: held, size: Int64(bytes.count), archivedSHA256: written.key.sha256))
                reordered += 1
            })
        if reordered > 0 {
            target.onNotice?("\(location): \(reordered) objects of \(collectionPath) are held in the server's own serialisation (the same content lines, reordered or refolded)")
        }
    }

    private func refuse(_ key: ItemKey, _ collection: String, _ reason: String) throws {
        let bad = BadItem(entry: key.entryPath, folder: collection, reason: session.redacted(reason))
        badItems.append(bad)
        try target.countBadItem(bad, user: user)
    }

    /// Every object is stored once the server answered; vacation settings have no place here and are named.
    func finish(settings: UserSettings) throws {
        for path in unread.keys.sorted() { try readBack(path) }
        if settings.vacation != nil {
            target.onNotice?("\(location): the archive's vacation setting is not written (a DAV target takes contacts and calendars only)")
        }
    }
}

/// Delta imports: a changed object's new version replaces the one there (`If-Match` on its ETag, so nothing changed
/// meanwhile is overwritten); a deleted one is found by the name its source key records and removed only while it
/// still holds the archived bytes (or the form this target was recorded holding). A DAV server has no folders or
/// messages, so folder and message changes find nothing.
extension DAVUserTarget: DeltaTarget {
    func renameFolder(from: [String], to: [String]) throws -> Bool { false }
    func deleteFolder(_ path: [String]) throws -> Bool { false }
    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate { .notFound }
    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool { false }

    func beginDelta() { replacesChanged = true }

    func deleteItem(key: ItemKey, kind: ItemKind, sourceKey: String?, heldSHA256: String?) throws -> Bool {
        let prefix = kind == .contact ? "contact:" : kind == .calendarItem ? "calendar:" : nil
        guard let prefix, let sourceKey, sourceKey.hasPrefix(prefix),
            let slash = sourceKey.lastIndex(of: "/"),
            let home = kind == .contact ? homes.addressBooks : homes.calendars
        else { return false }
        let collection = String(sourceKey[sourceKey.index(sourceKey.startIndex, offsetBy: prefix.count)..<slash])
        let name = String(sourceKey[sourceKey.index(after: slash)...])
        let path = home + DAVServer.encodedSegment(collection) + "/" + DAVServer.encodedSegment(name)
        let existing = try session.request("GET", path)
        guard existing.status == 200 else { return false }
        let held = SHA256.hex(existing.body)
        guard held == key.sha256 || held == heldSHA256 else {
            target.onNotice?("\(location): \(path) is not deleted: it changed at the target since it was imported")
            return false
        }
        let deleted = try session.request("DELETE", path, headers: existing.header("etag").map { [("If-Match", $0)] } ?? [])
        guard (200..<300).contains(deleted.status) || deleted.status == 404 else {
            throw session.failure("DELETE \(path): \(deleted.status) \(deleted.reason)\(DAVSession.serverReason(deleted.body))")
        }
        return true
    }
}
