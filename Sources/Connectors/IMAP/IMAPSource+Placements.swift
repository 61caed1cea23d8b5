import IMAPClient
import MailModel

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
    public func placedMessages(of keys: [ItemKey], user: String, journalDirectory: String) throws -> [ItemKey: IMAPPlacedMessage] {
        guard !keys.isEmpty else { return [:] }
        let session = IMAPSession(access: access, user: user)
        session.onRetry = onNotice
        defer { session.close() }
        let naming = try session.run("NAMESPACE") { c in try Self.naming(c) }
        let moves = try IMAPRelocations(directory: journalDirectory, user: user, server: access.serverName)
        var indexes: [String: IMAPPlacementIndex] = [:]
        var found: [ItemKey: IMAPPlacedMessage] = [:]
        // A UID claimed by two keys (a journal that disagrees with itself) vouches for neither.
        var claimed: [IMAPPlacedMessage: ItemKey] = [:]
        var doubtful: Set<ItemKey> = []
        for key in keys {
            let moved = moves.folder(of: key)
            // Moved without the server naming its new UID: not known here.
            if moved != nil && moves.uid(of: key) == nil { continue }
            if indexes[key.archiveID] == nil {
                indexes[key.archiveID] = IMAPImportJournal.placementIndex(
                    directory: journalDirectory, archiveID: key.archiveID, user: user, server: access.serverName)
            }
            guard let placed = indexes[key.archiveID]![key.entryPath] else { continue }
            let held = placed.held(key)
            let message: IMAPPlacedMessage
            if let moved, let now = moves.uid(of: key) {
                message = IMAPPlacedMessage(path: naming.path(ofMailbox: moved), uidValidity: now.uidValidity, uid: now.uid, size: held.size)
            } else {
                guard let uid = placed.uid, let uidValidity = placed.uidValidity else { continue }
                message = IMAPPlacedMessage(
                    path: naming.path(ofMailbox: moves.currentName(of: placed.folder)), uidValidity: uidValidity, uid: uid,
                    size: held.size)
            }
            var slot = message
            slot.size = 0
            if let other = claimed[slot] {
                doubtful.insert(other)
                doubtful.insert(key)
                continue
            }
            claimed[slot] = key
            found[key] = message
        }
        for key in doubtful { found[key] = nil }
        return found
    }
}
