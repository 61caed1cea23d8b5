import MailModel

/// Delta changes on a Maildir++ tree. An earlier item is found by the item-key digest in its file name, in any
/// folder (one listing of every folder's `cur/` and `new/`, kept while the target is open). A move is one
/// rename(2) into the destination's `cur/` under the same base name with the new flag letters (keyword letters
/// are those of the destination folder's `dovecot-keywords`); a folder rename renames its directory and those of
/// the folders under it.
extension MaildirTarget: DeltaTarget {
    public func renameFolder(from: [String], to: [String]) throws -> Bool {
        guard !Self.isInbox(from), !Self.isInbox(to) else { return false }
        try commitBatches()  // staged messages must be in place before their folder's directory moves
        let fromName = try MaildirFolderName.directoryName(for: from)
        let toName = try MaildirFolderName.directoryName(for: to)
        guard try FileSystem.lstatIfPresent("\(path)/\(fromName)") != nil,
            try FileSystem.lstatIfPresent("\(path)/\(toName)") == nil
        else { return false }
        for name in try FileSystem.listDirectory(path).names where name == fromName || name.hasPrefix(fromName + ".") {
            try FileSystem.rename("\(path)/\(name)", to: "\(path)/\(toName)\(name.dropFirst(fromName.count))")
        }
        try renameSubscriptions(from: from, to: to)
        forgetLocations()
        try FileSystem.fsyncPath(path)
        return true
    }

    public func deleteFolder(_ folder: [String]) throws -> Bool {
        guard !Self.isInbox(folder) else { return false }
        try commitBatches()
        let directory = "\(path)/\(try MaildirFolderName.directoryName(for: folder))"
        guard try FileSystem.lstatIfPresent(directory) != nil else { return false }
        // Out of the way in one rename first, so a crash never leaves a half-removed folder under its name.
        let doomed = "\(path)/.mailferry-deleted-\(ItemKeyDigest.hex(of: ItemKey(archiveID: "", entryPath: directory, sha256: "", size: 0)))"
        try FileSystem.removeTree(doomed)
        try FileSystem.rename(directory, to: doomed)
        try FileSystem.fsyncPath(path)
        try FileSystem.removeTree(doomed)
        forgetLocations()
        return true
    }

    public func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate {
        let digest = ItemKeyDigest.hex(of: key)
        guard let current = try locations()[digest] else { return .notFound }
        let flags = try flagsForDelta(info, folder: folder)
        let base = MaildirFlags.parse(fileName: FileSystem.lastComponent(of: current)).baseName
        let directory = directoryOfFolder(folder)
        let final = "\(directory)/cur/\(flags.fileName(baseName: base))"
        guard current != final else { return .unchanged }
        if FileSystem.parentDirectory(of: FileSystem.parentDirectory(of: current)) != directory {
            // Into another folder: moved and listed there under its lock, with a new UID as a move in Dovecot
            // gives (the source's new one where it can).
            try moveIntoList(from: current, to: final, info: info, entry: key.entryPath, folder: folder)
        } else {
            try FileSystem.rename(current, to: final)
        }
        noteMoved(digest: digest, from: current, to: final)
        return .changed
    }

    public func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool {
        guard kind == .message else { return false }
        let digest = ItemKeyDigest.hex(of: key)
        guard let current = try locations()[digest] else { return false }
        let removed = try FileSystem.unlinkIfPresent(current)
        noteMoved(digest: digest, from: current, to: nil)
        return removed
    }

    static func isInbox(_ path: [String]) -> Bool { path.count == 1 && path[0].uppercased() == "INBOX" }
}
