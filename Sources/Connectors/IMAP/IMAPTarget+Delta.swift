import Foundation
import IMAPClient
import IMAPCore
import MailModel

/// Delta changes on an IMAP server. An earlier item is found where the import journal of the archive that carried
/// it says it was placed (folder, UIDVALIDITY, UID from APPENDUID), after the moves and renames earlier deltas
/// recorded in this station's relocation file; failing that, by size and SHA-256 in the folder it should be in and
/// where it was placed. Flags are replaced with UID STORE FLAGS.SILENT, moves are UID MOVE (or COPY, \Deleted and
/// UID EXPUNGE of those UIDs), deletions \Deleted and UID EXPUNGE of that UID, folders RENAME and DELETE.
///
/// Nothing is read per item: each earlier archive's journal is read once per user (`IMAPPlacementIndex`), the
/// relocation file once, and each mailbox's sizes and flags with a few UID FETCH commands
/// (`IMAPMailboxSummaries`). Nor is anything sent per item: flag changes and moves wait (`IMAPPendingUpdates`) and
/// go as one UID STORE per mailbox and flag set and one UID MOVE per mailbox and destination, sent before anything
/// that depends on them (a deletion in the same mailbox, a search by content, a folder renamed or deleted,
/// `settleAll`, `finish`). A moved item's new UID is recorded where the server says it (COPYUID).
extension IMAPUserTarget: DeltaTarget {
    func renameFolder(from: [String], to: [String]) throws -> Bool {
        let old = naming.mailboxName(for: from).name, new = naming.mailboxName(for: to).name
        guard !from.isEmpty, from.first?.uppercased() != "INBOX" || from.count > 1, existing.contains(old), !existing.contains(new)
        else { return false }
        try settleAll()
        try session.run("RENAME \(old)") { c in
            for parent in naming.parents(of: new) where !existing.contains(parent) {
                _ = try c.create(parent)
                existing.insert(parent)
            }
            try c.rename(old, to: new)
        }
        try relocations().recordRename(from: old, to: new)
        mailboxSummaries = [:]
        existing = Set(try session.run("LIST") { c in try c.listMailboxes() }.map(\.name))
        return true
    }

    func deleteFolder(_ path: [String]) throws -> Bool {
        let name = naming.mailboxName(for: path).name
        guard existing.contains(name), name.uppercased() != "INBOX" else { return false }
        try settleAll()
        try session.run("DELETE \(name)") { c in
            // Not the selected mailbox while it goes.
            if session.isSelected(name, on: c) { _ = try session.select("INBOX", readOnly: true, on: c) }
            try c.delete(name)
        }
        existing.remove(name)
        mailboxSummaries[name] = nil
        return true
    }

    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate {
        try settleAppends()
        let destination = folders[folder]
        guard let (mailbox, uid, flags) = try locate(key, preferring: destination) else { return .notFound }
        let wanted = info.flags.names + info.keywords
        var changed = false
        if Set(flags.map { $0.lowercased() }) != Set(wanted.map { $0.lowercased() }) {
            // Found now rather than when the STORE is sent, so the delta line that carries it is the one that fails.
            if let invalid = wanted.first(where: { !IMAPCommandEncoder.isValidFlag($0) }) {
                throw ConnectorError(
                    location: "\(location) \(mailbox)",
                    message: "\(key.entryPath): \(String(reflecting: invalid)) cannot be written as an IMAP flag")
            }
            pendingUpdates.store(wanted, uid: uid, in: mailbox)
            mailboxSummaries[mailbox]?.setFlags(uid, wanted)
            changed = true
        }
        if mailbox != destination {
            pendingUpdates.move(uid, holding: key, from: mailbox, to: destination)
            changed = true
        }
        if pendingUpdates.count >= IMAPPendingUpdates.limit { try flushUpdates() }
        return changed ? .changed : .unchanged
    }

    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool {
        guard kind == .message else { return false }
        try settleAppends()
        guard let (mailbox, uid, _) = try locate(key, preferring: nil) else { return false }
        try flushUpdates(of: mailbox)
        try session.run("UID EXPUNGE in \(mailbox)") { c in
            _ = try session.select(mailbox, readOnly: false, on: c)
            try c.uidDelete(uid)
        }
        mailboxSummaries[mailbox]?.forget(uid)
        return true
    }

    /// Sends the flag changes and moves waiting (`pendingUpdates`), of every mailbox or of `only`: per mailbox, one
    /// UID STORE per flag set, then one UID MOVE per destination; each move recorded in the relocation record with
    /// the new UID the server gave, the moves of one command with one fsync.
    func flushUpdates(of only: String? = nil) throws {
        guard !pendingUpdates.isEmpty else { return }
        for mailbox in only.map({ [$0] }) ?? pendingUpdates.mailboxes {
            let (stores, moves) = pendingUpdates.take(mailbox)
            if !stores.isEmpty {
                try session.run("UID STORE in \(mailbox)") { c in
                    _ = try session.select(mailbox, readOnly: false, on: c)
                    for store in stores { try c.uidStoreFlags(IMAPUIDSet(store.uids), flags: store.flags) }
                }
                for store in stores {
                    for uid in store.uids { mailboxSummaries[mailbox]?.forget(uid) }
                }
            }
            for move in moves {
                let copied = try session.run("UID MOVE to \(move.destination)") { c in
                    _ = try session.select(mailbox, readOnly: false, on: c)
                    return try c.uidMove(IMAPUIDSet(move.items.map(\.uid)), to: move.destination)
                }
                for item in move.items { mailboxSummaries[mailbox]?.forget(item.uid) }
                try relocations().recordMoves(
                    move.items.map { item in
                        (item.key, copied.flatMap { c in c.destination[item.uid].map { (c.uidValidity, $0) } })
                    },
                    to: move.destination)
            }
        }
    }

    /// Where the item is now: folder, UID and flags.
    private func locate(_ key: ItemKey, preferring destination: String?) throws -> (String, UInt32, [String])? {
        let moves = try relocations()
        let placed = placement(of: key)
        // The server may hold the message in CRLF form: its size and hash are what the journal recorded.
        let held = placed?.held(key) ?? key
        if let placed, moves.folder(of: key) == nil, let uid = placed.uid {
            let mailbox = moves.currentName(of: placed.folder)
            if existing.contains(mailbox), let found = try summary(uid: uid, in: mailbox, uidValidity: placed.uidValidity), found.size == held.size {
                return (mailbox, uid, pendingUpdates.flags(of: uid, in: mailbox) ?? found.flags)
            }
        }
        // Moved by an earlier delta to a UID the server named (COPYUID); the record gives the folder's name now.
        if let mailbox = moves.folder(of: key), let moved = moves.uid(of: key), existing.contains(mailbox),
            let found = try summary(uid: moved.uid, in: mailbox, uidValidity: moved.uidValidity), found.size == held.size
        {
            return (mailbox, moved.uid, pendingUpdates.flags(of: moved.uid, in: mailbox) ?? found.flags)
        }
        var folders: [String] = []
        for candidate in [moves.folder(of: key), destination, placed.map { moves.currentName(of: $0.folder) }] {
            if let candidate, existing.contains(candidate), !folders.contains(candidate) { folders.append(candidate) }
        }
        // A search by content sees the folders as the updates decided so far leave them.
        if !folders.isEmpty { try flushUpdates() }
        for mailbox in folders {
            if let uid = try lookUp(held, in: mailbox), let found = try summary(uid: uid, in: mailbox, uidValidity: nil) {
                return (mailbox, uid, found.flags)
            }
        }
        return nil
    }

    /// The size and flags of `uid` in `mailbox`; nil when it is not there or the mailbox's UIDVALIDITY is not
    /// `uidValidity`.
    private func summary(uid: UInt32, in mailbox: String, uidValidity: UInt32?) throws -> (size: Int64, flags: [String])? {
        let known = try summaries(of: mailbox)
        if let uidValidity, let now = known.uidValidity, now != uidValidity { return nil }
        if let found = known.message(uid) { return found }
        // Not among the messages read (stored since, or changed by this import): fetched alone.
        return try session.run("UID FETCH \(uid) in \(mailbox)") { c in
            let selected = try session.select(mailbox, readOnly: false, on: c)
            if let uidValidity, let now = selected.uidValidity, now != uidValidity { return nil }
            return try c.fetchSummaries(uids: uid...uid).first.map { ($0.size, $0.flags) }
        }
    }

    /// Every message's size and flags in `mailbox`, read on first use.
    private func summaries(of mailbox: String) throws -> IMAPMailboxSummaries {
        if let known = mailboxSummaries[mailbox] { return known }
        let read = try session.run("UID FETCH 1:* in \(mailbox)") { c in
            let selected = try session.select(mailbox, readOnly: false, on: c)
            var read = IMAPMailboxSummaries(uidValidity: selected.uidValidity)
            guard selected.exists > 0 else { return read }
            let uids = try c.allUIDs()
            var start = 0
            while start < uids.count {
                let end = min(start + IMAPMailboxSummaries.fetchChunk, uids.count)
                for summary in try c.fetchSummaries(uids: uids[start]...uids[end - 1]) { read.add(summary) }
                start = end
            }
            return read
        }
        mailboxSummaries[mailbox] = read
        return read
    }

    /// Where the import of the item's archive placed it: from that archive's journal, read once per user.
    private func placement(of key: ItemKey) -> IMAPImportJournal.Location? {
        if let journal, journal.archiveID == key.archiveID { return journal.done[key.entryPath] }
        if let index = placementIndexes[key.archiveID] { return index[key.entryPath] }
        let index = IMAPImportJournal.placementIndex(
            directory: target.journalDirectory, archiveID: key.archiveID, user: user, server: target.access.serverName)
        target.countJournalRead()
        placementIndexes[key.archiveID] = index
        return index[key.entryPath]
    }

    private func relocations() throws -> IMAPRelocations {
        if let relocationRecord { return relocationRecord }
        let opened = try IMAPRelocations(directory: target.journalDirectory, user: user, server: target.access.serverName)
        relocationRecord = opened
        return opened
    }
}
