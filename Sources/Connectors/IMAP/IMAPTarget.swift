import Foundation
import IMAPClient
import IMAPCore
import MailModel
import Synchronization
import SystemLayer

/// Writes users' mailboxes into an IMAP server by APPEND, keeping the journal that makes imports idempotent and
/// resumable (`IMAPImportJournal`), and counting refused items against a limit shared by all users.
public final class IMAPTarget: MailboxTarget {
    /// Messages gathered into one MULTIAPPEND (RFC 3502) at most, and their bytes. One command for many messages
    /// lets the server store them in one transaction: Dovecot then spends a third of the time it spends on
    /// separate APPENDs.
    public static let batchLimit = 128
    public static let batchByteLimit: Int64 = 4 << 20
    /// Messages in APPENDs sent and not yet answered, at most (three full batches), and their bytes. This is
    /// also the journal's window: after a crash, only that many items can be on the server without a line.
    public static let window = 3 * batchLimit
    public static let windowBytes: Int64 = 3 * batchByteLimit

    /// Messages up to this size are kept in memory until their APPEND is confirmed, so that a dropped
    /// connection can send them again; a larger one is copied to a temporary file, sent alone and waited for.
    public static let retainedMessageLimit: Int64 = 1 << 20

    public let access: IMAPServerAccess
    public let journalDirectory: String
    /// How many refused items are tolerated in all before the import stops (Exchange's bad-item limit); 0 stops at
    /// the first.
    public let maxBadItems: Int
    public var onNotice: ((String) -> Void)?
    /// `import --reimport`: an item the journal says was placed is checked on the server first and sent again if it
    /// is gone (the target lost mail, or was emptied, after the import finished). Otherwise the journal is trusted.
    public var checksPlacements = false
    /// Whether an import's report wants each message's id on this server (`ConnectorOptions.recordsPlacements`).
    public var recordsPlacements = true
    /// UIDs whose server ids are fetched and held at a time when the placements are read back (`readPlacements`);
    /// tests make it small.
    public var idWindow = 2_000
    /// Shared by the users an import runs side by side (`--jobs`).
    private let badItemCount = Mutex(0)
    private let journalReadCount = Mutex(0)

    /// How many import journals delta imports have read to find earlier items: one per user and earlier archive,
    /// however many items the delta changes.
    public var journalReads: Int { journalReadCount.withLock { $0 } }

    func countJournalRead() {
        journalReadCount.withLock { $0 += 1 }
    }

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
        throw ConnectorError(
            location: "\(access) \(user) \(item.folder)",
            message: "the server refused \(item.entry): \(item.reason). That is bad item \(count), over the limit of \(maxBadItems) (raise it with --max-bad-items N to go on without such items)")
    }
}

/// One user's side of an IMAP target.
final class IMAPUserTarget: UserMailboxTarget {
    private struct Pending {
        /// The key of the bytes the server gets: the archive's, or their CRLF form's size and hash.
        var key: ItemKey
        /// The archive's key, when the server gets the CRLF form instead.
        var archived: ItemKey?
        var guid: String?
        var mailbox: String
        var flags: [String]
        var internalDate: InternalDate
        /// The bytes, for messages small enough to keep until their APPEND is confirmed.
        var bytes: [UInt8]?
        /// A larger message's copy on disk, kept until its APPEND is confirmed.
        var copy: RetryCopy?

        /// The message again, to send once more after a dropped connection.
        var replay: any ItemBody { bytes.map { MemoryBody($0) } ?? copy! }

        mutating func convert(to held: ItemKey) {
            archived = key
            key = held
        }
    }

    let target: IMAPTarget
    let user: String
    let session: IMAPSession
    let naming: IMAPFolderNaming
    var existing: Set<String>
    private var specialUse: [String: String] = [:]
    private let supportsACL: Bool
    private(set) var folders: [String] = []
    /// Each opened folder's path in the archive, by number, beside its name here (`folders`).
    private var folderSources: [[String]] = []
    private(set) var journal: IMAPImportJournal?
    /// Small messages for one mailbox, waiting until a batch's worth has gathered.
    private var batch: [Pending] = []
    private var batchBytes: Int64 = 0
    /// APPEND commands sent and not yet answered, oldest first; a MULTIAPPEND holds several items.
    private var inFlight: [[Pending]] = []
    private var itemsInFlight = 0
    private var bytesInFlight: Int64 = 0
    let placements = PlacementLog()
    private(set) var badItems: [BadItem] = []
    /// An IMAP server holds mail only.
    var heldKinds: Set<ItemKind> { [.message] }
    private(set) var convertedItems: [RewrittenItem] = []
    /// Moves and renames made by delta imports (IMAPTarget+Delta.swift), opened on first use.
    var relocationRecord: IMAPRelocations?
    /// Delta imports: where each earlier archive's import placed its items, read from its journal once.
    var placementIndexes: [String: IMAPPlacementIndex] = [:]
    /// Delta imports: each mailbox's sizes and flags, read once (`IMAPMailboxSummaries`).
    var mailboxSummaries: [String: IMAPMailboxSummaries] = [:]
    /// Delta imports: flag changes and moves decided and not sent yet (`flushUpdates`).
    var pendingUpdates = IMAPPendingUpdates()
    /// `checksPlacements`: each mailbox's UIDVALIDITY and UIDs, read once.
    private var serverUIDs: [String: (uidValidity: UInt32?, uids: Set<UInt32>)] = [:]
    /// Mailboxes a resumed import has waited for (`waitUntilQuiet`).
    private var settledMailboxes: Set<String> = []

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
        let creates = !folder.isInbox && !existing.contains(name)
        if creates {
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
            if creates { try removeInheritedACL(of: name, keeping: folder.acl) }
        }
        folders.append(name)
        folderSources.append(folder.path)
        return folders.count - 1
    }

    /// When a report wants them (`recordsPlacements`): the placements with each message's id on this server (EMAILID
    /// or Dovecot's X-GUID, one UID FETCH per window of 2,000 UIDs of a mailbox), and each opened folder's name,
    /// UIDVALIDITY and id here.
    func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement]) {
        guard target.recordsPlacements else { return (placements, []) }  // no report asks
        let folders = try placedFolders()
        // Each mailbox's range of placed UIDs; then, placement by placement, the ids of the window of that range
        // the UID falls in (one FETCH of up to `IMAPSource.metadataRun` UIDs, the last window of each mailbox kept),
        // so that ids are held for a window, not for every message placed (200,000 held 35 MB).
        var ranges: [String: ClosedRange<UInt32>] = [:]
        try placements.forEach { p in
            guard let uid = p.uid else { return }
            let known = ranges[p.folder]
            ranges[p.folder] = min(known?.lowerBound ?? uid, uid)...max(known?.upperBound ?? uid, uid)
        }
        let width = UInt32(max(1, target.idWindow))
        var windows: [String: (window: UInt32, uidValidity: UInt32?, ids: [UInt32: String])] = [:]
        let items = PlacementLog()
        try placements.forEach { p in
            var p = p
            if let uid = p.uid, let range = ranges[p.folder] {
                let window = (uid - range.lowerBound) / width
                if windows[p.folder]?.window != window {
                    let start = range.lowerBound + window * width
                    let uids = start...min(range.upperBound, start &+ (width - 1))
                    windows[p.folder] = try session.run("UID FETCH in \(p.folder)") { c in
                        let selected = try session.select(p.folder, readOnly: true, on: c)
                        let summaries = try c.fetchSummaries(uids: uids)
                        return (
                            window, selected.uidValidity,
                            Dictionary(summaries.compactMap { s in s.guid.map { (s.uid, $0) } }, uniquingKeysWith: { a, _ in a })
                        )
                    }
                }
                if let found = windows[p.folder], p.uidValidity == nil || p.uidValidity == found.uidValidity {
                    p.targetGUID = found.ids[uid]
                }
            }
            try items.append(p)
        }
        return (items, folders)
    }

    /// Each opened folder's name here, its UIDVALIDITY and its id where the server has one (one STATUS per mailbox).
    private func placedFolders() throws -> [FolderPlacement] {
        var found: [String: (uidValidity: UInt32?, guid: String?)] = [:]
        for name in Set(folders) {
            found[name] = try session.run("STATUS \(name)") { c in
                let idItem = c.folderIDItem
                let status = try c.status(name, items: ["UIDVALIDITY"] + (idItem.map { [$0] } ?? []))
                return (status.numbers["UIDVALIDITY"].map { UInt32(truncatingIfNeeded: $0) }, idItem.flatMap { status.ids[$0] })
            }
        }
        return zip(folderSources, folders).map {
            FolderPlacement(source: $0, folder: $1, uidValidity: found[$1]?.uidValidity, guid: found[$1]?.guid)
        }
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        throw ConnectorError(location: location, message: "an IMAP server holds mail only; import contacts into a dir: target")
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        throw ConnectorError(location: location, message: "an IMAP server holds mail only; import calendars into a dir: target")
    }

    /// A server may give a new folder its parent's ACL (Dovecot does): on a folder this import created, the entries
    /// the archive's folder does not have are removed, so that it holds the archive's ACL. The user's own entry, which
    /// the server lists for every folder, stays.
    private func removeInheritedACL(of name: String, keeping archived: [ACLEntry]) throws {
        let kept = Set(archived.map(\.identifier))
        let held: [(identifier: String, rights: String)]
        do {
            held = try session.run("GETACL \(name)") { c in try c.getACL(name) }
        } catch let error as IMAPError where !error.isCuredByReconnecting {
            target.onNotice?("\(location) \(name): its ACL could not be read back: \(error)")
            return
        }
        for entry in held where !kept.contains(entry.identifier) && entry.identifier.lowercased() != user.lowercased() {
            do {
                try session.run("DELETEACL \(name)") { c in try c.deleteACL(name, identifier: entry.identifier) }
            } catch let error as IMAPError where !error.isCuredByReconnecting {
                target.onNotice?("\(location) \(name): the ACL entry for \(entry.identifier) it was given at creation was not removed: \(error)")
            }
        }
    }

    // MARK: Messages

    func writeMessage(_ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        let journal = try openJournal(key.archiveID)
        if let placed = journal.done[key.entryPath], try !target.checksPlacements || isOnServer(placed, placed.held(key)) {
            // Written by an earlier run; the journal says in which form, for the reconcile.
            let held = placed.held(key)
            if held != key {
                convertedItems.append(RewrittenItem(entry: key.entryPath, sha256: held.sha256, size: held.size, archivedSHA256: key.sha256))
            }
            return false
        }
        // Writing again after `finish` (the buffer delivers one message at a time): a crash from here on leaves
        // work to look up.
        if journal.isFinished { try journal.recordStarted() }
        let mailbox = folders[folder]
        // A flag that is not an atom cannot be written in IMAP (it would break the command line): a bad item,
        // found before anything is sent.
        let flags = (info.flags.names + info.keywords).filter { $0.lowercased() != "\\recent" }
        if let invalid = flags.first(where: { !IMAPCommandEncoder.isValidFlag($0) }) {
            let bad = BadItem(entry: key.entryPath, folder: mailbox, reason: "flag \"\(invalid)\" is not an IMAP atom")
            badItems.append(bad)
            try journal.recordRefused(key.entryPath, reason: bad.reason)
            try target.countBadItem(bad, user: user)
            return false
        }
        var item = Pending(key: key, guid: info.guid, mailbox: mailbox, flags: flags, internalDate: info.internalDate, bytes: nil)
        // The server holds the message in CRLF form (RFC 9051 section 2.2): it is sent in that form, and looked up
        // and recorded by that form's size and hash.
        if body.byteCount <= IMAPTarget.retainedMessageLimit {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(body.byteCount))
            try body.stream { bytes.append(contentsOf: $0) }
            try check()
            if let crlf = CRLFForm.converting(bytes) {
                bytes = crlf
                item.convert(to: ItemKey(archiveID: key.archiveID, entryPath: key.entryPath, sha256: SHA256.hex(crlf), size: Int64(crlf.count)))
            }
            item.bytes = bytes
        } else {
            // Too large to keep in memory: checked into a temporary file, sent alone and waited for.
            let copy = try RetryCopy(copying: body, directory: (journal.path as NSString).deletingLastPathComponent, inCRLFForm: true)
            try check()
            if copy.changedLineEndings > 0 {
                item.convert(to: ItemKey(archiveID: key.archiveID, entryPath: key.entryPath, sha256: copy.sha256, size: copy.byteCount))
            }
            item.copy = copy
        }
        if let archived = item.archived {
            convertedItems.append(RewrittenItem(entry: key.entryPath, sha256: item.key.sha256, size: item.key.size, archivedSHA256: archived.sha256))
        }
        if !journal.refused.contains(key.entryPath), journal.takeLookUp() {
            // A resumed import: this item may have landed before the crash without its journal line.
            try settleAll()
            try waitUntilQuiet(mailbox)
            if let uid = try lookUp(item.key, in: mailbox) {
                try recordAppended(item, uidValidity: nil, uid: uid, durably: true)
                return false
            }
        }
        if let bytes = item.bytes {
            if let first = batch.first, first.mailbox != mailbox { try sendBatch() }
            batch.append(item)
            batchBytes += Int64(bytes.count)
            if batch.count >= IMAPTarget.batchLimit || batchBytes >= IMAPTarget.batchByteLimit { try sendBatch() }
        } else {
            try settleAll()
            try sendStreamed(item)
            try settleAll()
        }
        return true
    }

    /// Sends the gathered batch: one MULTIAPPEND when the server has it, otherwise pipelined APPENDs.
    private func sendBatch() throws {
        guard !batch.isEmpty else { return }
        let items = batch
        batch = []
        batchBytes = 0
        let mailbox = items[0].mailbox
        var sent = 0
        do {
            var connection = try session.connection()
            try makeRoom(items: items.count, bytes: items.reduce(0) { $0 + Int64($1.bytes!.count) })
            connection = try session.connection()
            try selectForAppend(mailbox, on: connection)
            let messages = items.map { item in
                (item: IMAPAppendItem(flags: item.flags, internalDate: item.internalDate, size: Int64(item.bytes!.count)), bytes: item.bytes!)
            }
            if items.count > 1 && connection.canMultiAppend(sizes: messages.map(\.item.size)) {
                _ = try connection.beginMultiAppend(to: mailbox, messages: messages)
                sent = items.count
                markInFlight(items)
            } else {
                for item in items {
                    try makeRoom(items: 1, bytes: Int64(item.bytes!.count))
                    _ = try connection.beginAppend(
                        to: mailbox, flags: item.flags, internalDate: item.internalDate, body: MemoryBody(item.bytes!),
                        beforeFinalByte: {})
                    sent += 1
                    markInFlight([item])
                }
            }
        } catch let error as IMAPError where error.isCuredByReconnecting {
            // What was in flight is settled by lookups; the rest of this batch may have reached the server too
            // (a write can fail after its bytes left), so each is looked up before it is sent again.
            try recover(after: error)
            for item in items[sent...] { try appendNow(item) }
        }
    }

    /// Streams one large message from its retry copy in its own APPEND; if the connection breaks on the way,
    /// it is looked up and, when not there, sent again.
    private func sendStreamed(_ item: Pending) throws {
        do {
            let connection = try session.connection()
            try selectForAppend(item.mailbox, on: connection)
            _ = try connection.beginAppend(
                to: item.mailbox, flags: item.flags, internalDate: item.internalDate, body: item.replay, beforeFinalByte: {})
            markInFlight([item])
        } catch let error as IMAPError where error.isCuredByReconnecting {
            try recover(after: error)
            try appendNow(item)
        }
    }

    /// APPEND into the selected mailbox: the server keeps it open instead of opening it (and, for Maildir,
    /// rescanning it) for every message, which made a large import quadratic.
    private func selectForAppend(_ mailbox: String, on connection: IMAPConnection) throws {
        guard !session.isSelected(mailbox, on: connection) else { return }
        try settleAll()
        _ = try session.select(mailbox, readOnly: false, on: connection)
    }

    private func markInFlight(_ items: [Pending]) {
        inFlight.append(items)
        itemsInFlight += items.count
        bytesInFlight += items.reduce(0) { $0 + Int64($1.bytes?.count ?? 0) }
    }

    /// Waits for the oldest commands until `items` more messages and `bytes` more bytes fit in the window.
    private func makeRoom(items: Int, bytes: Int64) throws {
        while !inFlight.isEmpty
            && (itemsInFlight + items > IMAPTarget.window || bytesInFlight + bytes > IMAPTarget.windowBytes)
        {
            try settleOldest()
        }
    }

    /// Waits for the oldest APPEND command in flight and records how it ended for each of its messages.
    private func settleOldest() throws {
        guard let items = inFlight.first else { return }
        let outcome: IMAPAppendOutcome
        do {
            outcome = try session.connection().nextAppendOutcome()
        } catch let error as IMAPError where error.isCuredByReconnecting {
            try recover(after: error)
            return
        }
        inFlight.removeFirst()
        itemsInFlight -= items.count
        bytesInFlight -= items.reduce(0) { $0 + Int64($1.bytes?.count ?? 0) }
        switch outcome.result {
        case .appended(let uidValidity, let uid):
            // APPENDUID gives a MULTIAPPEND's UIDs in the order of its messages (RFC 4315 section 3).
            var uids: [UInt32?] = Array(repeating: nil, count: items.count)
            if items.count == 1 {
                uids = [uid]
            } else if outcome.uids.count == items.count {
                uids = outcome.uids.map { $0 }
            }
            for (item, uid) in zip(items, uids) {
                try recordAppended(item, uidValidity: uid == nil ? nil : uidValidity, uid: uid)
            }
        case .refused where items.count > 1:
            // A MULTIAPPEND is stored whole or not at all (RFC 3502): none of these landed. Each goes alone, so
            // that only the message the server refuses is a bad item, with the server's reason.
            target.onNotice?("\(location) \(items[0].mailbox): the server refused a batch of \(items.count) messages (\(describe(outcome.result))); sending them one by one")
            try settleAppends()
            for item in items { try appendNow(item) }
        case .refused:
            try record(outcome.result, for: items[0])
        }
    }

    /// Every APPEND sent and answered, and every delta update waiting sent (`flushUpdates`).
    func settleAll() throws {
        try settleAppends()
        try flushUpdates()
    }

    /// Every APPEND gathered sent, and every APPEND sent answered.
    func settleAppends() throws {
        try sendBatch()
        while !inFlight.isEmpty { try settleOldest() }
    }

    private func recordAppended(_ item: Pending, uidValidity: UInt32?, uid: UInt32?, durably: Bool = false) throws {
        let location = IMAPImportJournal.Location(
            folder: item.mailbox, uidValidity: uidValidity, uid: uid, held: item.archived == nil ? nil : item.key)
        try journal!.recordDone(item.key.entryPath, at: location, durably: durably)
        try placements.append(ItemPlacement(entry: item.key.entryPath, guid: item.guid, folder: item.mailbox, uidValidity: uidValidity, uid: uid))
    }

    private func describe(_ result: IMAPAppendOutcome.Result) -> String {
        switch result {
        case .appended: "stored"
        case .refused(let status, let text, let code): "\(status) " + (code.map { "[\($0.name)] " } ?? "") + text
        }
    }

    private func record(_ result: IMAPAppendOutcome.Result, for item: Pending) throws {
        switch result {
        case .appended(let uidValidity, let uid):
            try recordAppended(item, uidValidity: uidValidity, uid: uid)
        case .refused:
            let bad = BadItem(entry: item.key.entryPath, folder: item.mailbox, reason: describe(result))
            badItems.append(bad)
            try journal!.recordRefused(item.key.entryPath, reason: bad.reason)
            try target.countBadItem(bad, user: user)
        }
    }

    /// After a broken connection: every APPEND that was in flight may or may not have landed. Each message is
    /// looked up on a new connection; those not there are sent again (from memory, or a large one's retry copy).
    private func recover(after error: IMAPError) throws {
        target.onNotice?("\(location): \(error); connecting again and checking the \(itemsInFlight) messages in flight")
        let unsettled = inFlight.flatMap { $0 }
        inFlight = []
        itemsInFlight = 0
        bytesInFlight = 0
        for item in unsettled {
            if let uid = try lookUp(item.key, in: item.mailbox) {
                try recordAppended(item, uidValidity: nil, uid: uid, durably: true)
            } else {
                try appendNow(item)
            }
        }
    }

    /// One APPEND, waited for, retried on a new connection (after a lookup) if the connection breaks.
    private func appendNow(_ item: Pending) throws {
        let result: IMAPAppendOutcome.Result = try session.run("APPEND to \(item.mailbox)") { c in
            if let uid = try lookUp(item.key, in: item.mailbox, on: c) { return .appended(uidValidity: nil, uid: uid) }
            _ = try c.beginAppend(
                to: item.mailbox, flags: item.flags, internalDate: item.internalDate, body: item.replay, beforeFinalByte: {})
            return try c.nextAppendOutcome().result
        }
        try record(result, for: item)
    }

    /// Finds an archived message on the server by its size, then the SHA-256 of the bytes of each candidate.
    /// Before a resumed import's first lookup in a mailbox, waits until the mailbox stops growing: the same UIDNEXT
    /// and message count twice, 0.5 s apart, for at most about 5 s. A server finishes an APPEND it has read whole
    /// even when its client was killed, and may store it after this run has started; waiting lets the lookup find
    /// it instead of sending it again. It narrows RFC 1047's window, which no lookup can close: a server slower
    /// than this can still leave a duplicate, never a loss.
    private func waitUntilQuiet(_ mailbox: String) throws {
        guard existing.contains(mailbox), settledMailboxes.insert(mailbox).inserted else { return }
        try session.run("wait for \(mailbox) to settle") { c in
            var last = try session.reselect(mailbox, readOnly: true, on: c)
            for _ in 0..<10 {
                Thread.sleep(forTimeInterval: 0.5)
                let now = try session.reselect(mailbox, readOnly: true, on: c)
                if now.uidNext == last.uidNext && now.exists == last.exists { return }
                last = now
            }
        }
    }

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

    /// Whether an item the journal placed is still on the server: by its UID where APPENDUID gave one and the
    /// mailbox's UIDVALIDITY is the same, otherwise by size and SHA-256 in the mailbox it was placed in.
    private func isOnServer(_ placed: IMAPImportJournal.Location, _ key: ItemKey) throws -> Bool {
        guard existing.contains(placed.folder) else { return false }
        if let validity = placed.uidValidity, let uid = placed.uid {
            let known = try uids(in: placed.folder)
            if known.uidValidity == validity { return known.uids.contains(uid) }
        }
        try settleAll()
        return try lookUp(key, in: placed.folder) != nil
    }

    private func uids(in mailbox: String) throws -> (uidValidity: UInt32?, uids: Set<UInt32>) {
        if let known = serverUIDs[mailbox] { return known }
        try settleAll()
        let found = try session.run("the UIDs of \(mailbox)") { c in
            let selected = try session.select(mailbox, readOnly: true, on: c)
            return (selected.uidValidity, Set(try c.allUIDs()))
        }
        serverUIDs[mailbox] = found
        return found
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
        throw ConnectorError(location: location, message: "an IMAP server holds mail only")
    }

    func writeCalendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        throw ConnectorError(location: location, message: "an IMAP server holds mail only")
    }

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        throw ConnectorError(location: location, message: "an IMAP server holds mail only; import Sieve scripts into a sieve:// (ManageSieve) or dir: target")
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
