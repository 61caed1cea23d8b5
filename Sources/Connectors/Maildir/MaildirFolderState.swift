#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel

/// What a `MaildirTarget` knows about one folder it writes: where it is, its keyword letters, which items are
/// already in it (by `ItemKeyDigest`, scanned once on first use), and its `dovecot-uidlist` with the messages
/// checked and staged in `tmp/` that wait to be moved into `cur/` and listed there together.
struct MaildirFolderState {
    var path: [String]
    var directory: String
    var keywords: DovecotKeywords
    /// Digest to the committed file's path, of the files the folder held when first used (and those a delta moved
    /// into it since); nil until the folder's `cur/` and `new/` are scanned. What this run writes is not added.
    var committed: MaildirFileIndex?
    let list: MaildirUIDListWriter
    /// Staged messages and messages found in place, waiting for the list, with the archive entry each came from.
    var batch: [(move: MaildirUIDListWriter.Move, entry: String)] = []
    /// Whether this run changed the folder's list or must still make one (an empty folder whose source gave a
    /// UIDVALIDITY keeps it too).
    var touched: Bool

    init(
        path: [String], directory: String, keywords: DovecotKeywords, source: FolderInfo, listExists: Bool, owner: stat?
    ) {
        self.path = path
        self.directory = directory
        self.keywords = keywords
        list = MaildirUIDListWriter(directory: directory, source: source, owner: owner)
        touched = source.uidValidity != nil && !listExists
    }
}
