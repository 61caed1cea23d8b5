import FerryArchive
import Foundation
import IMAPClient
import IMAPCore
import MailModel
import Synchronization

/// Writes users' mailboxes into an IMAP server by APPEND, keeping the journal that makes imports idempotent and
/// resumable (`IMAPImportJournal`), and counting refused items against a limit shared by all users.
public final class IMAPTarget: MailboxTarget {
    /// APPENDs in flight per connection (pipelined with LITERAL+, RFC 7888).
    public static let window = 32
    /// Messages up to this size are kept in memory while their APPEND is in flight, so that a dropped connection
    /// can send them again; a larger one is streamed straight from the archive and waited for before the next.
    public static let retainedMessageLimit: Int64 = 1 << 20

    public let access: IMAPServerAccess
    public let journalDirectory: String
    /// How many refused items are tolerated in all before the import stops (Exchange's bad-item limit); 0 stops at
    /// the first.
    public let maxBadItems: Int
    public var onNotice: ((String) -> Void)?
    /// Shared by the users an import runs side by side (`--jobs`).
    private let badItemCount = Mutex(0)

    public init(access: IMAPServerAccess, journalDirectory: String, maxBadItems: Int) {
        self.access = access
        self.journalDirectory = journalDirectory
        self.maxBadItems = maxBadItems
    }

    public func open(user: UserInfo) throws -> any UserMailboxTarget {
        try IMAPUserTarget(target: self, user: user.address)
    }

    /// Counts one refused item; throws once there are more than `maxBadItems`.
    func countBadItem(_ item: BadItem, user: String) throws {
        let count = badItemCount.withLock { n -> Int in
            n += 1
            return n
        }
        guard count > maxBadItems else {
            onNotice?("\(access) \(user): refused, counted as bad item \(count) of at most \(maxBadItems): \(item)")
            return
        }
        throw SourceError(
            location: "\(access) \(user) \(item.folder)",
            message: "the server refused \(item.entry): \(item.reason). That is bad item \(count), over the limit of \(maxBadItems) (raise it with --max-bad-items N to go on without such items)")
    }
}

/// One user's side of an IMAP target.
final class IMAPUserTarget: UserMailboxTarget {
    private struct Pending {
        var sequence: Int
        var key: ItemKey
        var guid: String?
        var mailbox: String
        var flags: [String]
        var internalDate: InternalDate
        /// The bytes, for messages small enough to keep until their APPEND is confirmed.
        var bytes: [UInt8]?
    }

    let target: IMAPTarget
    let user: String
    let session: IMAPSession
    let naming: IMAPFolderNaming
    var existing: Set<String>
    private var specialUse: [String: String] = [:]
    private let supportsACL: Bool
    private(set) var folders: [String] = []
    private var journal: IMAPImportJournal?
    private var pending: [Pending] = []
    private(set) var placements: [ItemPlacement] = []
    private(set) var badItems: [BadItem] = []
    /// Moves and renames made by delta imports (IMAPTarget+Delta.swift), opened on first use.
    var relocationRecord: IMAPRelocations?

    init(target: IMAPTarget, user: String) throws {
        self.target = target
        self.user = user
        session = IMAPSession(access: target.access, user: user)
        session.onRetry = target.onNotice
        let (naming, listings, capabilities) = try session.run("LIST") { c in
            (try IMAPSource.naming(c), try c.listMailboxes(), c.capabilities)
        }
        self.naming = naming
        existing = Set(listings.map(\.name))
        for listing in listings {
            if let use = listing.specialUse?.lowercased(), specialUse[use] == nil { specialUse[use] = listing.name }
        }
        supportsACL = capabilities.contains("ACL")
    }

    var location: String { "\(target.access) \(user)" }

    // MARK: Folders

    func folder(_ folder: FolderInfo) throws -> Int {
        let name: String
        let (plain, altered) = naming.mailboxName(for: folder.path)
        if !folder.isInbox, !existing.contains(plain), let use = folder.specialUse?.lowercased(), let mapped = specialUse[use] {
            // The target's own Sent (Drafts, Trash...) takes the source's, whatever either is called, unless the
            // target already has a folder of the source's name. Reconcile follows the same rule.
            name = mapped
        } else {
            if altered {
                target.onNotice?("\(location): folder \(folder.displayName) is stored as \(plain) (its name holds the server's separator)")
            }
            name = plain
        }
        if !folder.isInbox && !existing.contains(name) {
            try session.run("CREATE \(name)") { c in
                for parent in naming.parents(of: name) where !existing.contains(parent) {
                    _ = try c.create(parent)
                    existing.insert(parent)
                }
                _ = try c.create(name)
            }
            existing.insert(name)
            if let use = folder.specialUse?.lowercased(), specialUse[use] == nil { specialUse[use] = name }
        }
        if folder.subscribed {
            try session.run("SUBSCRIBE \(name)") { c in try c.subscribe(name) }
        }
        if supportsACL {
            for entry in folder.acl {
                do {
                    try session.run("SETACL \(name)") { c in try c.setACL(name, identifier: entry.identifier, rights: entry.rights) }
                } catch let error as IMAPError where !error.isCuredByReconnecting {
                    target.onNotice?("\(location) \(name): the ACL entry for \(entry.identifier) was not set: \(error)")
                }
            }
        }
        folders.append(name)
        return folders.count - 1
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        throw SourceError(location: location, message: "an IMAP server holds mail only; import contacts into a dir: target")
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        throw SourceError(location: location, message: "an IMAP server holds mail only; import calendars into a dir: target")
    }

    // MARK: Messages

    func writeMessage(_ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        let journal = try openJournal(key.archiveID)
        if journal.done[key.entryPath] != nil { return false }
        // Writing again after `finish` (the buffer delivers one message at a time): a crash from here on leaves
        // work to look up.
        if journal.isFinished { try journal.recordStarted() }
        let mailbox = folders[folder]
        if journal.takeLookUp() {
            // A resumed import: this item may have landed before the crash without its journal line.
            try settleAll()
            if let uid = try lookUp(key, in: mailbox) {
                try journal.recordDone(key.entryPath, at: .init(folder: mailbox, uidValidity: nil, uid: uid), durably: true)
                placements.append(ItemPlacement(entry: key.entryPath, guid: info.guid, folder: mailbox, uidValidity: nil, uid: uid))
                return false
            }
        }
        var item = Pending(
            sequence: 0, key: key, guid: info.guid, mailbox: mailbox, flags: info.flags.names + info.keywords,
            internalDate: info.internalDate, bytes: nil)
        if body.byteCount <= IMAPTarget.retainedMessageLimit {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(body.byteCount))
            try body.stream { bytes.append(contentsOf: $0) }
            try check()
            item.bytes = bytes
            try send(item, body: MemoryBody(bytes, origin: body.origin), beforeFinalByte: {})
        } else {
            // Too large to keep: wait for the others, stream it, and wait for it before going on.
            try settleAll()
            try send(item, body: body, beforeFinalByte: check)
            try settleAll()
        }
        return true
    }

    /// Begins one APPEND, first making room in the window. A dropped connection is reconnected and what was in
    /// flight is settled before this one goes out again.
    private func send(_ item: Pending, body: any ItemBody, beforeFinalByte: () throws -> Void) throws {
        while pending.count >= IMAPTarget.window { try settleOldest() }
        var item = item
        do {
            let connection = try session.connection()
            // APPEND into the selected mailbox: the server keeps it open instead of opening it (and, for Maildir,
            // rescanning it) for every message, which made a large import quadratic.
            if !session.isSelected(item.mailbox, on: connection) {
                try settleAll()
                _ = try session.select(item.mailbox, readOnly: false, on: connection)
            }
            item.sequence = try connection.beginAppend(
                to: item.mailbox, flags: item.flags, internalDate: item.internalDate, body: body,
                beforeFinalByte: beforeFinalByte)
            pending.append(item)
        } catch let error as IMAPError where error.kind == .invalidArgument {
            // Nothing was sent: the item's flags cannot be written in IMAP (a keyword that is not an atom).
            let bad = BadItem(entry: item.key.entryPath, folder: item.mailbox, reason: error.description)
            badItems.append(bad)
            try target.countBadItem(bad, user: user)
        } catch let error as IMAPError where error.isCuredByReconnecting {
            try recover(after: error)
            guard let bytes = item.bytes else {
                throw SourceError(
                    location: "\(location) \(item.mailbox)",
                    message: "the connection broke while \(item.key.entryPath) (\(item.key.size) bytes, streamed from the archive) was sent: \(error). Run the same import again: it resumes where this one stopped")
            }
            try appendNow(item, bytes: bytes)
        }
    }

    /// Waits for the oldest APPEND in flight and records its outcome.
    private func settleOldest() throws {
        guard !pending.isEmpty else { return }
        let outcome: IMAPAppendOutcome
        do {
            outcome = try session.connection().nextAppendOutcome()
        } catch let error as IMAPError where error.isCuredByReconnecting {
            try recover(after: error)
            return
        }
        let item = pending.removeFirst()
        try record(outcome.result, for: item)
    }

    func settleAll() throws {
        while !pending.isEmpty { try settleOldest() }
    }

    private func record(_ result: IMAPAppendOutcome.Result, for item: Pending) throws {
        switch result {
        case .appended(let uidValidity, let uid):
            try journal!.recordDone(item.key.entryPath, at: .init(folder: item.mailbox, uidValidity: uidValidity, uid: uid))
            placements.append(ItemPlacement(entry: item.key.entryPath, guid: item.guid, folder: item.mailbox, uidValidity: uidValidity, uid: uid))
        case .refused(let status, let text, let code):
            let reason = "\(status) " + (code.map { "[\($0.name)] " } ?? "") + text
            let bad = BadItem(entry: item.key.entryPath, folder: item.mailbox, reason: reason)
            badItems.append(bad)
            try target.countBadItem(bad, user: user)
        }
    }

    /// After a broken connection: every APPEND that was in flight may or may not have landed. Each is looked up on
    /// a new connection; those not there are sent again (they are all small enough to have been kept).
    private func recover(after error: IMAPError) throws {
        target.onNotice?("\(location): \(error); connecting again and checking the \(pending.count) messages in flight")
        let unsettled = pending
        pending = []
        for item in unsettled {
            if let uid = try lookUp(item.key, in: item.mailbox) {
                try journal!.recordDone(item.key.entryPath, at: .init(folder: item.mailbox, uidValidity: nil, uid: uid), durably: true)
                placements.append(ItemPlacement(entry: item.key.entryPath, guid: item.guid, folder: item.mailbox, uidValidity: nil, uid: uid))
            } else if let bytes = item.bytes {
                try appendNow(item, bytes: bytes)
            } else {
                throw SourceError(
                    location: "\(location) \(item.mailbox)",
                    message: "the connection broke while \(item.key.entryPath) was in flight and it is not on the server. Run the same import again: it resumes where this one stopped")
            }
        }
    }

    /// One APPEND, waited for, retried on a new connection (after a lookup) if the connection breaks.
    private func appendNow(_ item: Pending, bytes: [UInt8]) throws {
        let result: IMAPAppendOutcome.Result = try session.run("APPEND to \(item.mailbox)") { c in
            if let uid = try lookUp(item.key, in: item.mailbox, on: c) { return .appended(uidValidity: nil, uid: uid) }
            _ = try c.beginAppend(
                to: item.mailbox, flags: item.flags, internalDate: item.internalDate, body: MemoryBody(bytes), beforeFinalByte: {})
            return try c.nextAppendOutcome().result
        }
        try record(result, for: item)
    }

    /// Finds an archived message on the server by its size, then the SHA-256 of the bytes of each candidate.
    func lookUp(_ key: ItemKey, in mailbox: String) throws -> UInt32? {
        try session.run("look up \(key.entryPath) in \(mailbox)") { c in try lookUp(key, in: mailbox, on: c) }
    }

    private func lookUp(_ key: ItemKey, in mailbox: String, on c: IMAPConnection) throws -> UInt32? {
        _ = try session.select(mailbox, readOnly: true, on: c)
        var criteria: [IMAPSearchKey] = [.smaller(key.size + 1)]
        if key.size > 0 { criteria.append(.larger(key.size - 1)) }
        let candidates = try c.uidSearch(criteria)
        guard !candidates.isEmpty else { return nil }
        var match: UInt32?
        let hasher = SHA256()
        try c.fetchBodies(uids: candidates) { uid, body in
            guard match == nil else { return }
            try body.stream { hasher.update($0) }
            if hasher.finalizeHex() == key.sha256 { match = uid }
        }
        return match
    }

    private func openJournal(_ archiveID: String) throws -> IMAPImportJournal {
        if let journal { return journal }
        let opened = try IMAPImportJournal(
            directory: target.journalDirectory, archiveID: archiveID, user: user, server: target.access.serverName,
            window: IMAPTarget.window)
        journal = opened
        return opened
    }

    func writeContact(_ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        throw SourceError(location: location, message: "an IMAP server holds mail only")
    }

    func writeCalendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        throw SourceError(location: location, message: "an IMAP server holds mail only")
    }

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        throw SourceError(location: location, message: "an IMAP server holds mail only; import Sieve scripts into a dir: target")
    }

    func finish(settings: UserSettings) throws {
        try settleAll()
        if let journal {
            try journal.sync()
            try journal.recordFinished()
        }
        // The connection stays open: a caller that writes again after `finish` (the buffer, one message at a time)
        // goes on on it; it is logged out when this target is released.
    }
}
