import MailModel

/// What a `MaildirTarget` knows about one folder it writes: where it is, its keyword letters, which items are
/// already in it (by `ItemKeyDigest`, scanned once on first use), and what its `dovecot-uidlist` must still list.
struct MaildirFolderState {
    var path: [String]
    var directory: String
    var keywords: DovecotKeywords
    /// Digest to the committed file's path; nil until the folder's `cur/` and `new/` are scanned.
    var committed: [String: String]?
    /// Whether the scan found mail this target did not write (then a new list cannot take the source's UIDVALIDITY).
    var holdsOtherMail = false
    /// The source folder's identity, which a new `dovecot-uidlist` takes where it can (`MaildirUIDListUpdate`).
    var sourceUIDValidity: UInt32?
    var sourceUIDNext: UInt32?
    var sourceGUID: String?
    /// Whether the folder had no `dovecot-uidlist` when opened and the source gave a UIDVALIDITY: then a list is
    /// written even for no message, so that an empty folder keeps the source's UIDVALIDITY and UIDNEXT too.
    var needsList = false
    /// Messages placed or found since the list was last written, with the archive entry each came from.
    var unlisted: [(message: MaildirUIDListUpdate.Message, entry: String, guid: String?)] = []

    init(path: [String], directory: String, keywords: DovecotKeywords, source: FolderInfo) {
        self.path = path
        self.directory = directory
        self.keywords = keywords
        sourceUIDValidity = source.uidValidity
        sourceUIDNext = source.uidNext
        sourceGUID = source.guid
    }
}
