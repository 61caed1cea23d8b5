import IMAPClient
import MailModel
import SystemLayer

/// Where earlier imports into this IMAP server placed items, for the reconcile after a delta: an item found here
/// is checked from the metadata of its UID (`IMAPSource.placedMessages`) instead of its bytes being read again.
public struct IMAPPlacedMessage: Sendable, Hashable {
    /// The folder as the source reads it back (`IMAPFolderNaming.path(ofMailbox:)`).
    public var path: [String]
    public var uidValidity: UInt32
    public var uid: UInt32
    /// RFC822.SIZE the server must give: the size of the bytes it was sent (the CRLF form where that differs).
    public var size: Int64
}

extension IMAPSource {
    /// Where the import of each key's archive placed it, for the keys whose place is still known: the archive's
    /// import journal gave a UID and UIDVALIDITY (APPENDUID) and no delta moved the item since, or the station's
    /// relocation record names the UID a delta's move gave it (COPYUID; a move the server did not answer so is not
    /// known here). A folder renamed since is looked for under its new name. Each earlier archive's journal is read
    /// once, the relocation record once.
    ///
    /// What the placement is good for (RFC 9051 section 2.3.1.1): a UID with the same UIDVALIDITY names the same
    /// message for ever, and a message's bytes never change, so the message at that UID still has the bytes the
    /// reconcile of the import that placed it read and checked. Whether the UID is still there, with the size,
    /// flags, keywords and date expected, the reconcile reads from the folder's metadata FETCH.
    /// The answer is one element per key, in the keys' order (nil: not known), and what is built on the way is
    /// kept small (a 200,000-message mailbox asks about 200,000 keys): folder paths are shared, and a UID is
    /// claimed by the key's number, not a copy of the key.
    public func placedMessages(of keys: ItemKeyList, user: String, journalDirectory: String) throws -> [IMAPPlacedMessage?] {
        guard !keys.isEmpty else { return [] }
        let session = IMAPSession(access: access, user: user)
        session.onRetry = onNotice
        defer { session.close() }
        let naming = try session.run("NAMESPACE") { c in try Self.naming(c) }
        let moves = try IMAPRelocations(directory: journalDirectory, user: user, server: access.serverName)
        var indexes: [String: IMAPPlacementIndex] = [:]
        var found = [IMAPPlacedMessage?](repeating: nil, count: keys.count)
        var paths: [String: [String]] = [:]
        func path(ofMailbox mailbox: String) -> [String] {
            if let known = paths[mailbox] { return known }
            let path = naming.path(ofMailbox: mailbox)
            paths[mailbox] = path
            return path
        }
        var mailboxes = InternedValues<String>()
        // Where each found key is, to find afterwards a UID claimed by two keys (a journal that disagrees with
        // itself), which vouches for neither: sorted, 16 bytes a key (a dictionary of them took 13 MB for 200,000).
        struct Slot {
            var mailbox: UInt32
            var uidValidity: UInt32
            var uid: UInt32
            var key: Int32
            func same(_ other: Slot) -> Bool { (mailbox, uidValidity, uid) == (other.mailbox, other.uidValidity, other.uid) }
        }
        var slots: [Slot] = []
        for index in keys.indices {
            let key = keys[index]
            let moved = moves.folder(of: key)
            // Moved without the server naming its new UID: not known here.
            if moved != nil && moves.uid(of: key) == nil { continue }
            if indexes[key.archiveID] == nil {
                indexes[key.archiveID] = IMAPImportJournal.placementIndex(
                    directory: journalDirectory, archiveID: key.archiveID, user: user, server: access.serverName)
            }
            guard let placed = indexes[key.archiveID]![key.entryPath] else { continue }
            let held = placed.held(key)
            let mailbox: String, uidValidity: UInt32, uid: UInt32
            if let moved, let now = moves.uid(of: key) {
                (mailbox, uidValidity, uid) = (moved, now.uidValidity, now.uid)
            } else {
                guard let placedUID = placed.uid, let placedValidity = placed.uidValidity else { continue }
                (mailbox, uidValidity, uid) = (moves.currentName(of: placed.folder), placedValidity, placedUID)
            }
            slots.append(Slot(mailbox: mailboxes.number(for: mailbox), uidValidity: uidValidity, uid: uid, key: Int32(index)))
            found[index] = IMAPPlacedMessage(path: path(ofMailbox: mailbox), uidValidity: uidValidity, uid: uid, size: held.size)
        }
        slots.sort { ($0.mailbox, $0.uidValidity, $0.uid) < ($1.mailbox, $1.uidValidity, $1.uid) }
        var start = 0
        while start < slots.count {
            var end = start + 1
            while end < slots.count, slots[end].same(slots[start]) { end += 1 }
            if end - start > 1 { for n in start..<end { found[Int(slots[n].key)] = nil } }
            start = end
        }
        return found
    }
}
