import MailModel

/// What a `MaildirTarget` knows about one folder it writes: where it is, its keyword letters, and which
/// items are already in it (by `ItemKeyDigest`, scanned once on first use).
struct MaildirFolderState {
    var path: [String]
    var directory: String
    var keywords: DovecotKeywords
    /// Digest to the committed file's path; nil until the folder's `cur/` and `new/` are scanned.
    var committed: [String: String]?
}
