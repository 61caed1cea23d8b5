import Foundation
import IMAPCore
import MailModel
import NIOCore
import NIOPosix
import NIOSSL

/// The commands the connectors use, one blocking call each.
extension IMAPConnection {
    /// Logs in. Refuses (`.plaintextRefused`) to send a password without TLS unless the endpoint allows it.
    public func authenticate(_ auth: IMAPAuthentication) throws {
        guard isTLS || endpoint.allowPlaintextPassword else {
            throw fail(
                .plaintextRefused, command: "LOGIN",
                "not sending a password without TLS (the server offers no STARTTLS; \(endpoint.settingNames.allowPlaintext) allows it)",
                keepUsable: true)
        }
        let command: IMAPCommand
        switch auth {
        case .login(let user, let password):
            if capabilities.contains("AUTH=PLAIN") {
                command = .authenticatePlain(
                    authorizationID: nil, authenticationID: user, password: password,
                    initialResponse: capabilities.contains("SASL-IR"))
            } else {
                command = .login(user: user, password: password)
            }
        case .plain(let authorizationID, let authenticationID, let password):
            command = .authenticatePlain(
                authorizationID: authorizationID, authenticationID: authenticationID, password: password,
                initialResponse: capabilities.contains("SASL-IR"))
        }
        secrets = Self.secretForms(of: auth)
        var found: [String]? = nil
        let response = try run(command) { untagged in
            if case .capability(let list) = untagged { found = list }
        }
        try check(response, command.name)
        if case .capability(let list) = response.text.code { found = list }
        if let found {
            capabilities = Set(found.map { $0.uppercased() })
        } else {
            try refreshCapabilities()
        }
    }

    /// Every form in which `auth`'s password can go on the wire: as is (an atom or a literal), quoted with IMAP's
    /// escapes, base64 of itself, and the whole SASL PLAIN message in base64 (RFC 4616), as LOGIN's user
    /// would send it with AUTH=PLAIN and as an admin's authorization identity would.
    static func secretForms(of auth: IMAPAuthentication) -> [String] {
        let user: String, authorizationID: String, password: String
        switch auth {
        case .login(let u, let p): (user, authorizationID, password) = (u, "", p)
        case .plain(let z, let u, let p): (user, authorizationID, password) = (u, z ?? "", p)
        }
        guard !password.isEmpty else { return [] }
        // Inside a quoted string, with `\` before each `"` and `\`.
        let quoted = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let plain = Array(authorizationID.utf8) + [0] + Array(user.utf8) + [0] + Array(password.utf8)
        let plainWithoutZ = [0] + Array(user.utf8) + [0] + Array(password.utf8)
        let forms = [
            password, quoted, Data(password.utf8).base64EncodedString(), Data(plain).base64EncodedString(),
            Data(plainWithoutZ).base64EncodedString(),
        ]
        return Array(Set(forms)).sorted { $0.count > $1.count }
    }

    /// The first personal namespace, or nil when the server has no NAMESPACE.
    public func namespace() throws -> IMAPNamespace? {
        guard capabilities.contains("NAMESPACE") else { return nil }
        var result: IMAPNamespace? = nil
        let response = try run(.namespace) { untagged in
            if case .namespace(let ns) = untagged, let personal = ns.personal.first {
                result = IMAPNamespace(prefix: personal.prefix, separator: personal.separator.map { String($0) })
            }
        }
        try check(response, "NAMESPACE")
        return result
    }

    static let specialUses = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"]

    /// Every mailbox, with special use and subscription: one `LIST "" "*" RETURN (SUBSCRIBED SPECIAL-USE)` when
    /// the server has LIST-EXTENDED and SPECIAL-USE, otherwise LIST and LSUB.
    public func listMailboxes() throws -> [IMAPMailboxListing] {
        var lists: [IMAPListResponse] = []
        var subscribed: Set<String> = []
        let extended =
            listExtendedOverride ?? (capabilities.contains("LIST-EXTENDED") && capabilities.contains("SPECIAL-USE"))
        let command: IMAPCommand =
            extended
            ? .listExtended(reference: "", pattern: "*", specialUseOnly: false) : .list(reference: "", pattern: "*")
        let response = try run(command) { untagged in
            if case .list(let list) = untagged { lists.append(list) }
        }
        try check(response, "LIST")
        if !extended {
            let lsub = try run(.lsub(reference: "", pattern: "*")) { untagged in
                if case .lsub(let list) = untagged { subscribed.insert(list.mailbox.wire) }
            }
            try check(lsub, "LSUB")
        }
        return lists.map { list in
            var attributes = Set(list.attributes.map { $0.lowercased() })
            if subscribed.contains(list.mailbox.wire) { attributes.insert("\\subscribed") }
            let specialUse = Self.specialUses.first { attributes.contains($0.lowercased()) }
            return IMAPMailboxListing(
                name: list.mailbox.name, wireName: list.mailbox.wire, separator: list.separator.map { String($0) },
                attributes: attributes, specialUse: specialUse, subscribed: attributes.contains("\\subscribed"))
        }
    }

    /// SELECT (or EXAMINE when `readOnly`).
    public func select(_ name: String, readOnly: Bool) throws -> IMAPSelectedMailbox {
        var result = IMAPSelectedMailbox(
            name: name, uidValidity: nil, uidNext: nil, exists: 0, mailboxID: nil, highestModSeq: nil,
            permanentFlags: [], readOnly: readOnly)
        func take(_ code: IMAPResponseCode?) {
            switch code {
            case .uidValidity(let v): result.uidValidity = v
            case .uidNext(let v): result.uidNext = v
            case .mailboxID(let v): result.mailboxID = v
            case .highestModSeq(let v): result.highestModSeq = v
            case .permanentFlags(let v): result.permanentFlags = v
            case .readOnly: result.readOnly = true
            default: break
            }
        }
        let condStore = capabilities.contains("CONDSTORE")
        let response = try run(.select(mailbox: name, readOnly: readOnly, condStore: condStore)) { untagged in
            switch untagged {
            case .exists(let n): result.exists = n
            case .condition(_, let text): take(text.code)
            default: break
            }
        }
        try check(response, readOnly ? "EXAMINE" : "SELECT")
        take(response.text.code)
        return result
    }

    var isDovecot: Bool { capabilities.contains("XDOVECOT") || greetingText.lowercased().contains("dovecot") }

    /// UID, flags, internal date, size and a message identifier for the UIDs in `uids` (`1...UInt32.max` is
    /// `1:*`). Messages outside `uids` the server adds (`n:*` always matches the last message) are left out.
    /// With `changedSince` (RFC 7162 CHANGEDSINCE), only the messages whose flags changed, or that arrived, after
    /// that MODSEQ.
    public func fetchSummaries(uids: IMAPUIDRange, changedSince: UInt64? = nil) throws -> [IMAPMessageSummary] {
        var items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        let guidItem: String? = capabilities.contains("OBJECTID") ? "EMAILID" : isDovecot ? "X-GUID" : nil
        if let guidItem { items.append(guidItem) }
        var summaries: [IMAPMessageSummary] = []
        var uid: UInt32?
        var flags: [String] = []
        var date: InternalDate?
        var size: Int64?
        var guid: String?
        let command: IMAPCommand = changedSince.map { .uidFetchChangedSince(IMAPUIDSet(uids), items: items, modSeq: $0) } ?? .uidFetch(IMAPUIDSet(uids), items: items)
        let response = try eachFetchEvent(of: command) { event in
            switch event {
            case .fetchStart:
                (uid, flags, date, size, guid) = (nil, [], nil, nil, nil)
            case .fetchAttribute(let attribute):
                switch attribute {
                case .uid(let v): uid = v
                case .flags(let v): flags = v.filter { $0.lowercased() != "\\recent" }
                case .internalDate(let v): date = v
                case .rfc822Size(let v): size = v
                case .emailID(let v): guid = v
                case .xGUID(let v): guid = guidItem == "X-GUID" ? v : guid
                default: break
                }
            case .fetchBodyStart:
                try skipBody()
            case .fetchEnd:
                guard let uid, uids.contains(uid) else { return }  // unsolicited flag updates have no UID
                guard let date, let size else {
                    throw fail(
                        .protocolViolation, command: "UID FETCH",
                        "FETCH for UID \(uid) without INTERNALDATE or RFC822.SIZE")
                }
                summaries.append(IMAPMessageSummary(uid: uid, flags: flags, internalDate: date, size: size, guid: guid))
            default:
                break
            }
        }
        try check(response, "UID FETCH")
        return summaries
    }

    /// Sends `command` (a UID FETCH) and hands `each` every event until its tagged response, which it returns
    /// unchecked. `each` must read or skip (`skipBody`) every body literal it is shown the start of.
    private func eachFetchEvent(of command: IMAPCommand, _ each: (IMAPResponseEvent) throws -> Void) throws -> IMAPTaggedResponse {
        let tag = try send(command)
        while true {
            let (event, route) = try nextRoutedEvent(command: "UID FETCH")
            try each(event)
            if case .completed(let response, _) = route, response.tag == tag { return response }
        }
    }

    /// Every UID of the selected mailbox, ascending. With ESEARCH (RFC 4731) one short answer, the UIDs as ranges;
    /// without it `UID FETCH 1:* (UID)`, a line a message, never a plain SEARCH: that answers in one line, which for
    /// a folder of some 150,000 messages passes the response line limit (`IMAPLimits.maxLineLength`).
    public func allUIDs() throws -> [UInt32] {
        if capabilities.contains("ESEARCH") { return try uidSearch([]) }
        var found: [UInt32] = []
        var uid: UInt32?
        let response = try eachFetchEvent(of: .uidFetch(IMAPUIDSet(1...UInt32.max), items: ["UID"])) { event in
            switch event {
            case .fetchStart:
                uid = nil
            case .fetchAttribute(.uid(let v)):
                uid = v
            case .fetchBodyStart:
                try skipBody()
            case .fetchEnd:
                if let uid { found.append(uid) }  // an unsolicited flag update may have none
            default:
                break
            }
        }
        try check(response, "UID FETCH")
        found.sort()
        // The same UID twice (an unsolicited update with its UID beside the answer) counts once.
        var unique: [UInt32] = []
        unique.reserveCapacity(found.count)
        for u in found where unique.last != u { unique.append(u) }
        return unique
    }

    /// One `UID FETCH uids (UID BODY.PEEK[])`; `each` gets every message the server still has, as a body that
    /// streams from the connection and is valid only during the call. What `each` leaves unread is drained.
    /// The server must send UID before the body (Dovecot, Cyrus and Gmail do).
    /// With `partial`, only that range of each message's bytes (`BODY.PEEK[]<offset.length>`, RFC 9051 section
    /// 6.4.5), which is how a body cut off by a dropped connection is fetched again from where it broke.
    public func fetchBodies(
        uids: [UInt32], partial: (offset: Int64, length: Int64)? = nil, _ each: (UInt32, any ItemBody) throws -> Void
    ) throws {
        guard !uids.isEmpty else { return }
        let wanted = Set(uids)
        let item = partial.map { "BODY.PEEK[]<\($0.offset).\($0.length)>" } ?? "BODY.PEEK[]"
        var uid: UInt32?
        var failure: (any Error)?
        let response = try eachFetchEvent(of: .uidFetch(IMAPUIDSet(uids), items: ["UID", item])) { event in
            switch event {
            case .fetchStart:
                uid = nil
            case .fetchAttribute(.uid(let v)):
                uid = v
            case .fetchBodyStart(let section, let size):
                guard failure == nil, section.isEmpty, let current = uid, wanted.contains(current) else {
                    if section.isEmpty && uid == nil && failure == nil {
                        throw fail(.protocolViolation, command: "UID FETCH", "server sent BODY[] before UID")
                    }
                    try skipBody()
                    return
                }
                let body = FetchedBody(connection: self, uid: current, byteCount: size)
                do {
                    try each(current, body)
                } catch {
                    failure = error  // the rest of the response is drained so the connection stays usable
                }
                body.valid = false
                if !body.finished {
                    // The callback's own failure is the one to report: a connection that broke inside the body
                    // fails the drain too, and its error must not stand in for the callback's (a caller would
                    // take it for a dropped connection and try the message again).
                    do { try skipBody() } catch { throw failure ?? error }
                }
            default:
                break
            }
        }
        if let failure { throw failure }
        try check(response, "UID FETCH")
    }

    /// The next chunk of the body literal being streamed, or nil at its end.
    func nextBodyChunk() throws -> [UInt8]? {
        let (event, _) = try nextRoutedEvent(command: "UID FETCH")
        switch event {
        case .fetchBodyBytes(let bytes): return bytes
        case .fetchBodyEnd: return nil
        default: throw fail(.protocolViolation, command: "UID FETCH", "unexpected response inside a body literal")
        }
    }

    func skipBody() throws {
        while try nextBodyChunk() != nil {}
    }

    /// UIDs matching all of `criteria` (ESEARCH when offered).
    public func uidSearch(_ criteria: [IMAPSearchKey]) throws -> [UInt32] {
        let esearch = capabilities.contains("ESEARCH")
        var found: [UInt32] = []
        let response = try run(.uidSearch(criteria, esearch: esearch)) { untagged in
            switch untagged {
            case .search(let numbers): found += numbers
            case .esearch(let result): found += result.all
            default: break
            }
        }
        try check(response, "UID SEARCH")
        return found.sorted()
    }

    /// Creates the mailbox; false if it already existed (ALREADYEXISTS, or NO and LIST finds it).
    public func create(_ name: String) throws -> Bool {
        let response = try run(.create(mailbox: name))
        if response.status == .ok { return true }
        if response.text.code == .alreadyExists { return false }
        if response.status == .no {
            var exists = false
            let list = try run(.list(reference: "", pattern: name)) { untagged in
                if case .list(let l) = untagged, l.mailbox.name == name { exists = true }
            }
            if list.status == .ok && exists { return false }
        }
        try check(response, "CREATE")
        return true
    }

    /// Replaces a message's flags and keywords (UID STORE FLAGS.SILENT) in the selected mailbox.
    public func uidStoreFlags(_ uid: UInt32, flags: [String]) throws {
        try uidStoreFlags(IMAPUIDSet([uid]), flags: flags)
    }

    /// Replaces the flags and keywords of every message of `uids` in the selected mailbox with `flags`: one
    /// UID STORE FLAGS.SILENT per part of the set (`IMAPUIDSet.split`), so that each command line stays short.
    public func uidStoreFlags(_ uids: IMAPUIDSet, flags: [String]) throws {
        for flag in flags where !IMAPCommandEncoder.isValidFlag(flag) {
            throw fail(.invalidArgument, command: "UID STORE", "\(String(reflecting: flag)) cannot be written as an IMAP flag")
        }
        for part in uids.split() {
            try check(try run(.uidStoreFlags(part, flags: flags)), "UID STORE")
        }
    }

    /// Moves a message of the selected mailbox to `mailbox`: UID MOVE (RFC 6851) when offered, else UID COPY, then
    /// \\Deleted and UID EXPUNGE (RFC 4315) of that UID only.
    public func uidMove(_ uid: UInt32, to mailbox: String) throws {
        _ = try uidMove(IMAPUIDSet([uid]), to: mailbox)
    }

    /// Moves the messages `uids` of the selected mailbox to `mailbox`, as `uidMove(_:to:)` moves one, one command
    /// per part of the set (`IMAPUIDSet.split`). Returns their UIDs in `mailbox` when the server said them
    /// (COPYUID, RFC 4315: with MOVE in an untagged OK before the expunges, RFC 6851 section 4.3; with COPY in the
    /// tagged OK); UIDs that were not there any more are not moved and not named.
    public func uidMove(_ uids: IMAPUIDSet, to mailbox: String) throws -> IMAPCopiedUIDs? {
        let move = capabilities.contains("MOVE")
        guard move || capabilities.contains("UIDPLUS") else {
            throw fail(.invalidArgument, command: "UID COPY", "the server offers neither MOVE nor UIDPLUS, so a message cannot be moved without touching others")
        }
        var copied: IMAPCopiedUIDs?
        func take(_ code: IMAPResponseCode?) {
            guard case .copyUID(let validity, let source, let destination) = code,
                let found = IMAPCopiedUIDs(uidValidity: validity, source: source, destination: destination)
            else { return }
            if copied == nil { copied = found } else { copied!.merge(found) }
        }
        for part in uids.split() {
            let response = try run(move ? .uidMove(part, mailbox: mailbox) : .uidCopy(part, mailbox: mailbox)) { untagged in
                if case .condition(.ok, let text) = untagged { take(text.code) }
            }
            try check(response, move ? "UID MOVE" : "UID COPY")
            take(response.text.code)
            if !move { try uidDelete(part) }
        }
        return copied
    }

    /// Sets \\Deleted on one message of the selected mailbox and expunges that UID only (UIDPLUS).
    public func uidDelete(_ uid: UInt32) throws {
        try uidDelete(IMAPUIDSet([uid]))
    }

    /// Sets \\Deleted on the messages `uids` of the selected mailbox and expunges those UIDs only (UIDPLUS).
    public func uidDelete(_ uids: IMAPUIDSet) throws {
        guard capabilities.contains("UIDPLUS") else {
            throw fail(.invalidArgument, command: "UID EXPUNGE", "the server does not offer UIDPLUS, so one message cannot be expunged alone")
        }
        for part in uids.split() {
            try check(try run(.uidStoreFlags(part, flags: ["\\Deleted"])), "UID STORE")
            try check(try run(.uidExpunge(part)), "UID EXPUNGE")
        }
    }

    public func rename(_ from: String, to: String) throws {
        try check(try run(.rename(from: from, to: to)), "RENAME")
    }

    public func delete(_ name: String) throws {
        try check(try run(.delete(mailbox: name)), "DELETE")
    }

    public func subscribe(_ name: String) throws {
        try check(try run(.subscribe(mailbox: name)), "SUBSCRIBE")
    }

    /// RFC 4314 GETACL.
    public func getACL(_ name: String) throws -> [(identifier: String, rights: String)] {
        var entries: [(identifier: String, rights: String)] = []
        let response = try run(.getACL(mailbox: name)) { untagged in
            if case .acl(_, let list) = untagged { entries += list.map { ($0.identifier, $0.rights) } }
        }
        try check(response, "GETACL")
        return entries
    }

    /// STATUS: the numbers (`UIDVALIDITY`, `UIDNEXT`, `MESSAGES`) and identifiers (`folderIDItem`) asked for.
    public func status(_ name: String, items: [String]) throws -> (numbers: [String: UInt64], ids: [String: String]) {
        var numbers: [String: UInt64] = [:]
        var ids: [String: String] = [:]
        let response = try run(.status(mailbox: name, items: items)) { untagged in
            if case .status(_, let found, let foundIDs) = untagged {
                numbers.merge(found) { $1 }
                ids.merge(foundIDs) { $1 }
            }
        }
        try check(response, "STATUS")
        return (numbers, ids)
    }

    /// The STATUS item that gives a mailbox's own identifier: RFC 8474 `MAILBOXID`, or on Dovecot without it the
    /// mailbox GUID (`X-GUID`); nil when the server has neither.
    public var folderIDItem: String? { capabilities.contains("OBJECTID") ? "MAILBOXID" : isDovecot ? "X-GUID" : nil }

    /// RFC 4314 SETACL.
    public func setACL(_ name: String, identifier: String, rights: String) throws {
        try check(try run(.setACL(mailbox: name, identifier: identifier, rights: rights)), "SETACL")
    }

    /// RFC 4314 DELETEACL: the identifier's entry removed.
    public func deleteACL(_ name: String, identifier: String) throws {
        try check(try run(.deleteACL(mailbox: name, identifier: identifier)), "DELETEACL")
    }

    public func noop() throws {
        try check(try run(.noop), "NOOP")
    }

    /// A polite LOGOUT (waiting at most 5 s), then close. Never throws.
    public func logout() {
        if isUsable {
            if let tag = try? send(.logout) {
                let end = Date().addingTimeInterval(min(5, endpoint.timeoutSeconds))
                while let (_, route) = try? nextRoutedEvent(command: "LOGOUT", until: end) {
                    if case .completed(let response, _) = route, response.tag == tag { break }
                }
            }
        }
        close()
    }
}
