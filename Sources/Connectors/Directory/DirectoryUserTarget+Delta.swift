import MailModel
import SystemLayer

/// Delta changes in a directory store: mail through the Maildir part; a contact, calendar item or script found
/// through the `.mailferry-import` journal and removed only while the file still holds the bytes the key names
/// (a newer version written under the same name since is left alone).
extension DirectoryUserTarget: DeltaTarget {
    func renameFolder(from: [String], to: [String]) throws -> Bool {
        try maildir().renameFolder(from: from, to: to)
    }

    func deleteFolder(_ path: [String]) throws -> Bool {
        try maildir().deleteFolder(path)
    }

    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate {
        try maildir().updateMessage(key: key, info: info, inFolder: folder)
    }

    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool {
        if kind == .message { return try maildir().deleteItem(key: key, kind: kind) }
        guard let file = try journalledFile(for: key) else { return false }
        let bytes = try FileSystem.readFile(file, limit: Int(key.size) + 1)
        let hasher = SHA256()
        hasher.update(bytes)
        guard bytes.count == key.size, hasher.finalizeHex() == key.sha256 else { return false }
        return try FileSystem.unlinkIfPresent(file)
    }
}
