import IMAPClient
import MailModel

/// Reads users' mailboxes from an IMAP server: the folder tree with special use, subscriptions, UIDVALIDITY and
/// ACLs; every message's bytes, flags, keywords, INTERNALDATE and object id.
///
/// Per folder, the UIDs (`allUIDs`), then for each run of 2,000 of them one UID FETCH of their metadata (small), then
/// their bodies in batches of one UID FETCH BODY.PEEK[] each, streamed into the sink as they arrive. A connection
/// that drops, or a server that restarts, is reconnected and the export goes on where it was, even inside a message
/// (the rest of it is fetched from the byte where it broke), so the archive never holds a message in part.
public final class IMAPSource: MailboxSource {
    /// A body batch ends at this many messages or bytes, whichever comes first.
    public static let batchMessages = 500
    public static let batchBytes: Int64 = 64 << 20
    /// UIDs whose metadata is fetched and held at a time (a few hundred kilobytes of summaries); tests make it small.
    public var metadataRun = 2_000

    public let access: IMAPServerAccess
    public let userAddresses: [String]
    /// Called with progress lines meant for people (reconnects).
    public var onNotice: ((String) -> Void)?
    /// Called with the mailbox and UID of each message whose body was fetched and given to the sink: what tests
    /// count to see which bodies a reconcile read (`ConnectorOptions.onBodyRead`).
    public var onBodyRead: ((String, UInt32) -> Void)?

    public init(access: IMAPServerAccess, users: [String]) {
        self.access = access
        self.userAddresses = users
    }

    public var internalDateResolution: InternalDateResolution { .seconds }

    /// An IMAP server cannot list its users: they are the ones named.
    public func users() throws -> [UserInfo] { userAddresses.map { UserInfo(address: $0) } }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        let session = IMAPSession(access: access, user: user.address)
        session.onRetry = onNotice
        defer { session.close() }
        try sink.beginUser(user)
        let (naming, listings, capabilities) = try session.run("LIST") { c in
            (try Self.naming(c), try c.listMailboxes(), c.capabilities)
        }
        sink.folderPropertiesHeld(Self.folderPropertySupport(capabilities: capabilities, listings: listings))
        let folders = listings
            .filter { !$0.attributes.contains("\\noselect") && !$0.attributes.contains("\\nonexistent") }
            .map { (listing: $0, path: naming.path(ofMailbox: $0.name)) }
            .sorted { a, b in
                let aInbox = a.path.first == "INBOX", bInbox = b.path.first == "INBOX"
                if aInbox != bInbox { return aInbox }
                return a.path.lexicographicallyPrecedes(b.path)
            }
        for (listing, path) in folders {
            try readFolder(listing, path: path, capabilities: capabilities, session: session, sink: sink)
        }
        try sink.endUser(settings: UserSettings())
    }

    /// What a server keeps of a folder besides its messages: ACLs with the ACL extension (RFC 4314); special use
    /// when it advertises SPECIAL-USE or marks a folder with one (RFC 6154); subscriptions always.
    static func folderPropertySupport(capabilities: Set<String>, listings: [IMAPMailboxListing]) -> FolderPropertySupport {
        FolderPropertySupport(
            acl: capabilities.contains("ACL")
                ? .held : .notHeld(reason: "the server does not offer the ACL extension (RFC 4314)"),
            subscriptions: .held,
            specialUse: capabilities.contains("SPECIAL-USE") || listings.contains { $0.specialUse != nil }
                ? .held : .notHeld(reason: "the server marks no folder with a special use (no SPECIAL-USE, RFC 6154)"))
    }

    /// A Dovecot mailbox's GUID (STATUS X-GUID), for servers without RFC 8474 MAILBOXID; nil elsewhere or when the
    /// server will not say.
    private func dovecotFolderGUID(_ name: String, session: IMAPSession) throws -> String? {
        do {
            return try session.run("STATUS \(name)") { c in
                guard c.folderIDItem == "X-GUID" else { return nil }
                return try c.status(name, items: ["X-GUID"]).ids["X-GUID"]
            }
        } catch let error as IMAPError where !error.isCuredByReconnecting {
            return nil
        }
    }

    private func readFolder(
        _ listing: IMAPMailboxListing, path: [String], capabilities: Set<String>, session: IMAPSession,
        sink: any MailboxSink
    ) throws {
        let name = listing.name
        let location = "\(access) \(session.user) \(name)"
        let selected = try session.run("SELECT \(name)") { c in try session.select(name, readOnly: true, on: c) }
        var acl: [ACLEntry] = []
        if capabilities.contains("ACL") {
            do {
                acl = try session.run("GETACL \(name)") { c in
                    try c.getACL(name).map { ACLEntry(identifier: $0.identifier, rights: $0.rights) }
                }
            } catch let error as IMAPError where !error.isCuredByReconnecting {
                sink.warning(SourceProblem(location: location, message: "its ACL cannot be read: \(error)"))
            }
        }
        let info = FolderInfo(
            path: path, separator: listing.separator, specialUse: path == ["INBOX"] ? nil : listing.specialUse,
            subscribed: listing.subscribed, guid: try selected.mailboxID ?? dovecotFolderGUID(name, session: session),
            uidValidity: selected.uidValidity,
            uidNext: selected.uidNext, acl: acl,
            highestModSeq: selected.highestModSeq)
        let folder = try sink.folder(info)
        guard selected.exists > 0 else { return }

        let mailboxKey = "\(selected.mailboxID ?? path.joined(separator: "/")):\(selected.uidValidity.map(String.init) ?? "-")"
        // The folder is read a run of UIDs at a time, so what is held is one run's metadata, not the folder's: a
        // folder of 200,000 messages held 40 MB of summaries (twice, sorted) when they were fetched in one go.
        // A delta export skips the messages it already has: only their metadata is read; with CONDSTORE only that
        // of messages changed since the previous archive, the others vouched for by UID.
        let since = capabilities.contains("CONDSTORE") ? sink.knownModSeq(of: info) : nil
        let uids = try session.run("UIDs in \(name)") { c in
            _ = try session.select(name, readOnly: true, on: c)
            return try c.allUIDs()
        }
        var runStart = 0
        while runStart < uids.count {
            let run = uids[runStart..<min(runStart + metadataRun, uids.count)]
            runStart = run.endIndex
            let range = run.first!...run.last!
            var fetched: [IMAPMessageSummary]
            if let since {
                let changed = try session.run("FETCH changes in \(name)") { c in
                    _ = try session.select(name, readOnly: true, on: c)
                    return try c.fetchSummaries(uids: range, changedSince: since)
                }
                let changedUIDs = Set(changed.map(\.uid))
                var unknown = Set<UInt32>()
                for uid in run where !changedUIDs.contains(uid) {
                    if try !sink.takesUnchangedMessage(uid: uid, inFolder: folder) { unknown.insert(uid) }
                }
                fetched = changed
                if !unknown.isEmpty {
                    fetched += try session.run("FETCH metadata in \(name)") { c in
                        _ = try session.select(name, readOnly: true, on: c)
                        return try c.fetchSummaries(uids: range).filter { unknown.contains($0.uid) }
                    }
                }
            } else {
                fetched = try session.run("FETCH metadata in \(name)") { c -> [IMAPMessageSummary] in
                    _ = try session.select(name, readOnly: true, on: c)
                    return try c.fetchSummaries(uids: range)
                }
            }
            let summaries = try fetched.sorted { $0.uid < $1.uid }.filter { summary in
                !(try sink.skipsMessage(Self.messageInfo(summary, mailboxKey: mailboxKey), inFolder: folder, size: summary.size))
            }
            var start = 0
            while start < summaries.count {
                var end = start
                var bytes: Int64 = 0
                while end < summaries.count, end - start < Self.batchMessages, end == start || bytes + summaries[end].size <= Self.batchBytes {
                    bytes += summaries[end].size
                    end += 1
                }
                try readBodies(summaries[start..<end], folder: folder, mailbox: name, mailboxKey: mailboxKey, session: session, sink: sink)
                start = end
            }
        }
    }

    /// Streams one batch of bodies into the sink, going on after a reconnect with what is not yet delivered.
    private func readBodies(
        _ batch: ArraySlice<IMAPMessageSummary>, folder: Int, mailbox: String, mailboxKey: String, session: IMAPSession,
        sink: any MailboxSink
    ) throws {
        let byUID = Dictionary(batch.map { ($0.uid, $0) }, uniquingKeysWith: { a, _ in a })
        var delivered = Set<UInt32>()
        do {
            try session.run("FETCH bodies in \(mailbox)") { c in
                _ = try session.select(mailbox, readOnly: true, on: c)
                let wanted = batch.map(\.uid).filter { !delivered.contains($0) }
                guard !wanted.isEmpty else { return }
                try c.fetchBodies(uids: wanted) { uid, body in
                    guard let summary = byUID[uid], !delivered.contains(uid) else { return }
                    if body.byteCount != summary.size {
                        // The body is archived as the server gives it; a size that disagrees with RFC822.SIZE
                        // can mean a damaged message on the server, which the person running the export must hear.
                        sink.warning(SourceProblem(
                            location: "\(access) \(session.user) \(mailbox) UID \(uid)",
                            message: "the server gave \(body.byteCount) bytes, but said its RFC822.SIZE is \(summary.size); it is archived as given"))
                    }
                    let resumable = ResumableIMAPBody(first: body, uid: uid, mailbox: mailbox, session: session)
                    do {
                        try sink.message(Self.messageInfo(summary, mailboxKey: mailboxKey), inFolder: folder, body: resumable)
                    } catch {
                        throw SinkFailure(error: error)
                    }
                    delivered.insert(uid)
                    onBodyRead?(mailbox, uid)
                }
            }
        } catch let failure as SinkFailure {
            throw failure.error
        }
        for summary in batch where !delivered.contains(summary.uid) {
            sink.warning(SourceProblem(
                location: "\(access) \(session.user) \(mailbox) UID \(summary.uid)",
                message: "the message was expunged while the export ran; it is not in the archive"))
        }
    }

    /// A failure while the sink took a message, kept apart from the connection's failures so that `IMAPSession.run`
    /// never retries it: the sink may hold part of the message by then (the body itself comes back from a break
    /// on its own, in `ResumableIMAPBody`).
    private struct SinkFailure: Error {
        let error: any Error
    }

    /// An IMAP message is known by its object id (Dovecot's GUID, RFC 8474 EMAILID), which survives moves between
    /// folders; without one by its mailbox (MAILBOXID, else path), UIDVALIDITY and UID.
    static func messageInfo(_ summary: IMAPMessageSummary, mailboxKey: String) -> MessageInfo {
        var keywords: [String] = []
        var system: [String] = []
        for flag in summary.flags {
            if flag.hasPrefix("\\") {
                if flag.lowercased() != "\\recent" { system.append(flag) }
            } else {
                keywords.append(flag)
            }
        }
        var unknown: [String] = []
        let flags = SystemFlags(names: system, unknown: &unknown)
        // A system-looking flag that is not one of the five (an extension's) is carried as a keyword.
        return MessageInfo(
            flags: flags, keywords: (keywords + unknown).sorted(), internalDate: summary.internalDate,
            guid: summary.guid, uid: summary.uid,
            sourceKey: summary.guid.map { "imap-guid:\($0)" } ?? "imap:\(mailboxKey):\(summary.uid)")
    }

    /// The server's personal namespace, or the separator LIST gives when the server has no NAMESPACE.
    static func naming(_ c: IMAPConnection) throws -> IMAPFolderNaming {
        if let ns = try c.namespace() { return IMAPFolderNaming(prefix: ns.prefix, separator: ns.separator) }
        return IMAPFolderNaming(prefix: "", separator: try c.listMailboxes().first?.separator)
    }
}

/// A message body streamed from a FETCH that, should the connection break part way, fetches the rest from the byte
/// where it broke (`BODY.PEEK[]<offset>`) on a new connection and goes on, so the consumer sees every byte once.
///
/// The last bytes read before a break are not trusted: a server shutting down may write its `* BYE` line into the
/// middle of a literal before it closes (Dovecot does), and those bytes look like the message's own. So bytes are
/// passed on only once `unconfirmed` more have followed them or the literal has ended; on a break the ones held back
/// are dropped and fetched again.
final class ResumableIMAPBody: ItemBody {
    let first: any ItemBody
    let uid: UInt32
    let mailbox: String
    let session: IMAPSession

    init(first: any ItemBody, uid: UInt32, mailbox: String, session: IMAPSession) {
        self.first = first
        self.uid = uid
        self.mailbox = mailbox
        self.session = session
    }

    var byteCount: Int64 { first.byteCount }
    var origin: String { "\(session.access) \(session.user) \(mailbox) UID \(uid)" }

    /// Bytes read again before the point where the connection broke, and compared with what was already given: a
    /// server that would give other bytes at the same offset (so the message would be spliced wrongly) is caught.
    static let overlap = 4096
    /// Bytes held back from the consumer until more follow them, since the last ones before a break may be a
    /// server's parting words rather than the message (a BYE line is some 30 bytes).
    static let unconfirmed = 4096

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        // The splice keeps the consumer only for the length of this call.
        try withoutActuallyEscaping(consume) { consume in
            var splice = Splice(consume: consume)
            do {
                try first.stream { try splice.receive($0) }
                try splice.endOfLiteral()
                return
            } catch let error as IMAPError where error.isCuredByReconnecting {
                splice.dropUnconfirmed()
                try session.retry(after: error, "UID \(uid) in \(mailbox), fetching the rest from byte \(splice.given)")
            }
            // Each attempt starts from what has been given so far, so a connection that breaks again inside the rest
            // is resumed from there too. The rest comes from a partial fetch; should its first bytes not be the ones
            // already given (a partial fetch placed elsewhere by a faulty server), the whole message is fetched again
            // and its bytes up to the break skipped, once its own bytes there match.
            try session.run("FETCH the rest of UID \(uid) in \(mailbox)") { c in
                splice.dropUnconfirmed()
                _ = try session.select(mailbox, readOnly: true, on: c)
                do {
                    try fetchRest(on: c, whole: false, splice: &splice)
                } catch is OverlapMismatch {
                    session.onRetry?("\(origin): the server's partial fetch from byte \(splice.given - Int64(splice.tail.count)) did not start with the bytes already archived; fetching the whole message again")
                    splice.dropUnconfirmed()
                    do {
                        try fetchRest(on: c, whole: true, splice: &splice)
                    } catch let mismatch as OverlapMismatch {
                        throw ConnectorError(
                            location: origin,
                            message: "after the connection broke at byte \(splice.given), the server gave other bytes than before at byte \(mismatch.offset); the message cannot be put together safely, run the export again")
                    }
                }
                try splice.endOfLiteral()
            }
        }
    }

    /// What has reached the consumer so far, and the bytes read but not yet passed on.
    struct Splice {
        let consume: (UnsafeRawBufferPointer) throws -> Void
        /// Bytes passed on to the consumer.
        private(set) var given: Int64 = 0
        /// The last bytes passed on (at most `overlap`), for the overlap check.
        private(set) var tail: [UInt8] = []
        /// Bytes read after `given`, held back until `unconfirmed` more follow or the literal ends.
        private var held: [UInt8] = []

        init(consume: @escaping (UnsafeRawBufferPointer) throws -> Void) {
            self.consume = consume
        }

        /// Takes bytes read from the literal, passing on all but the last `unconfirmed`.
        mutating func receive(_ chunk: UnsafeRawBufferPointer) throws {
            let release = held.count + chunk.count - ResumableIMAPBody.unconfirmed
            guard release > 0 else {
                held.append(contentsOf: chunk)
                return
            }
            let fromHeld = min(release, held.count)
            if fromHeld > 0 {
                let confirmed = Array(held[..<fromHeld])
                held.removeFirst(fromHeld)
                try confirmed.withUnsafeBytes { try pass($0) }
            }
            try pass(UnsafeRawBufferPointer(rebasing: chunk[..<(release - fromHeld)]))
            held.append(contentsOf: chunk[(release - fromHeld)...])
        }

        /// The literal ended whole: what was held back is the message's.
        mutating func endOfLiteral() throws {
            let rest = held
            held = []
            try rest.withUnsafeBytes { try pass($0) }
        }

        /// The connection broke: what was held back may not be the message's, and is read again.
        mutating func dropUnconfirmed() {
            held = []
        }

        private mutating func pass(_ bytes: UnsafeRawBufferPointer) throws {
            guard !bytes.isEmpty else { return }
            try consume(bytes)
            given += Int64(bytes.count)
            tail.append(contentsOf: bytes.suffix(ResumableIMAPBody.overlap))
            if tail.count > ResumableIMAPBody.overlap { tail.removeFirst(tail.count - ResumableIMAPBody.overlap) }
        }
    }

    /// The bytes of a resumed fetch differ from those already given, at stream `offset`.
    private struct OverlapMismatch: Error {
        let offset: Int64
    }

    /// Fetches from `given - tail.count` (a partial fetch) or from the start (`whole`), checks the bytes before
    /// `given` against `tail` (skipping, for `whole`, the ones before it) and hands the rest to the splice.
    private func fetchRest(on c: IMAPConnection, whole: Bool, splice: inout Splice) throws {
        let given = splice.given, tail = splice.tail
        let from = given - Int64(tail.count)
        let expected = whole ? byteCount : byteCount - from
        var found = false
        try c.fetchBodies(uids: [uid], partial: whole ? nil : (from, expected)) { _, part in
            found = true
            guard part.byteCount == expected else {
                throw ConnectorError(location: origin, message: "the server gave \(part.byteCount) bytes for \(whole ? "the message" : "the rest"), not \(expected)")
            }
            // Position in the message of the next byte this fetch gives.
            var at: Int64 = whole ? 0 : from
            try part.stream { chunk in
                var rest = UnsafeRawBufferPointer(rebasing: chunk[...])
                if at < from {
                    let skip = Int(min(from - at, Int64(rest.count)))
                    at += Int64(skip)
                    rest = UnsafeRawBufferPointer(rebasing: rest[skip...])
                }
                if at < given, !rest.isEmpty {
                    let compared = Int(at - from)
                    let n = min(tail.count - compared, rest.count)
                    guard tail[compared..<compared + n].elementsEqual(rest[0..<n]) else { throw OverlapMismatch(offset: at) }
                    at += Int64(n)
                    rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                }
                guard !rest.isEmpty else { return }
                at += Int64(rest.count)
                try splice.receive(rest)
            }
        }
        guard found else { throw ConnectorError(location: origin, message: "the message was expunged while it was read") }
    }
}
