#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel
import SystemLayer

/// Writes one user's Dovecot Maildir++ tree (the layout `MaildirSource` reads).
///
/// A message is written to `tmp/`, checked, given its internal date as mtime, and renamed into `cur/` as
/// `SECONDS.MF<digest>.mailferry,S=SIZE:2,FLAGS`, in batches per folder under the folder's `dovecot-uidlist` lock
/// (`MaildirUIDListWriter`), so that a Dovecot serving the folder meanwhile sees each message once, with its UID. The digest comes from the item key (`ItemKeyDigest`), so a
/// re-run finds the item and does not write it again. Nothing is fsynced per message; `finish` makes the run
/// durable. After a power loss a renamed file may exist with lost contents, so a committed file whose size is
/// not the key's size is written again rather than trusted.
///
/// Keyword letters are assigned per folder in `dovecot-keywords`, by name, after the letters already there, as
/// Dovecot stores them (`$Forwarded` too); the P letter is written only for `maildirPassed`. Each folder's
/// `dovecot-uidlist` lists the messages written, with the source's UIDVALIDITY, UIDs and GUIDs where they can be
/// kept; `placements` say where each went.
/// Subscriptions are merged into the existing `subscriptions` file, which is
/// written once, atomically, when the user's writes are made durable (rewriting it per folder made a user with
/// thousands of folders quadratic).
/// Parents of a nested folder are not created: Maildir++ needs no directory for them, and Dovecot lists them.
/// Settings have no place in a Maildir and are not written; address books, calendars and Sieve scripts are
/// refused (the directory store, `DirectoryTarget`, holds them beside a Maildir).
public final class MaildirTarget: UserMailboxTarget {
    /// A Maildir holds mail only.
    public var heldKinds: Set<ItemKind> { [.message] }
    /// Suffix of staged files in `tmp/`; leftovers with it from a killed run are removed on first use.
    static let temporarySuffix = FileSystem.temporarySuffix
    /// Marks the digest inside a base name.
    static let digestPrefix = "MF"
    static let digestLength = 32

    public let path: String
    private var folders: [MaildirFolderState] = []
    private var folderNumbers: [String: Int] = [:]
    /// The subscriptions file as read on first use, with the folders added since; written by `syncWritten`.
    private var subscriptions: [[String]]?
    private var subscribed: Set<[String]> = []
    private var subscriptionsChanged = false
    private var filesToSync: [String] = []
    /// Set once more files were written than `syncfsThreshold` since the last sync.
    private var syncsFileSystem = false
    private var directoriesToSync: Set<String> = []
    private var stagedCount = 0
    /// Every committed item's file by digest, across folders, for delta changes (built on first use).
    private var itemLocations: MaildirFileIndex?
    public let placements = PlacementLog()
    /// Whether `placements` is kept (`ConnectorOptions.recordsPlacements`); the lists are written either way.
    public var recordsPlacements = true

    /// The Maildir root's owner and mode as found, which what this target creates takes (`FileSystem.adopt`).
    private var owner: stat?

    /// Creates the root (the inbox's `cur/`, `new/`, `tmp/`) with its parents if missing.
    public init(path: String) throws {
        self.path = path
        owner = try FileSystem.lstatIfPresent(path)
        try makeMaildir(path)
    }

    private func makeMaildir(_ directory: String) throws {
        for sub in ["cur", "new", "tmp"] {
            let created = try FileSystem.makeDirectories("\(directory)/\(sub)")
            for made in created {
                directoriesToSync.insert(FileSystem.parentDirectory(of: made))
                if made.hasPrefix(path) { try FileSystem.adopt(made, like: owner) }
            }
        }
    }

    /// Writes a small control file and gives it the Maildir's owner.
    private func writeControlFile(_ file: String, _ bytes: [UInt8]) throws {
        try FileSystem.writeFileAtomically(file, bytes)
        try FileSystem.adopt(file, like: owner)
    }

    // MARK: Folders

    public func folder(_ folder: FolderInfo) throws -> Int {
        let directory = folder.isInbox ? path : "\(path)/\(try MaildirFolderName.directoryName(for: folder.path))"
        if folder.subscribed { try subscribe(folder.isInbox ? ["INBOX"] : folder.path) }
        if let number = folderNumbers[directory] { return number }
        if !folder.isInbox {
            try makeMaildir(directory)
            // Dovecot marks Maildir++ subfolders with this empty file (for deliveries by other tools).
            let marker = "\(directory)/maildirfolder"
            if try FileSystem.lstatIfPresent(marker) == nil {
                try writeControlFile(marker, [])
                filesToSync.append(marker)
                directoriesToSync.insert(directory)
            }
        }
        let keywordsFile = "\(directory)/\(DovecotKeywords.fileName)"
        var keywords = DovecotKeywords()
        if let info = try FileSystem.lstatIfPresent(keywordsFile), FileSystem.isRegular(info) {
            let bytes = try FileSystem.readFile(keywordsFile, limit: MaildirSource.controlFileLimit)
            keywords = DovecotKeywords.parse(String(decoding: bytes, as: UTF8.self)).keywords
        }
        let listed = try FileSystem.lstatIfPresent("\(directory)/\(DovecotUIDList.fileName)") != nil
        folders.append(MaildirFolderState(
            path: folder.path, directory: directory, keywords: keywords, source: folder, listExists: listed, owner: owner))
        folderNumbers[directory] = folders.count - 1
        return folders.count - 1
    }

    private var subscriptionsFile: String { "\(path)/\(DovecotSubscriptions.fileName)" }

    /// The subscribed folders: the file's, read once, and those added since.
    private func loadSubscriptions() throws -> [[String]] {
        if let subscriptions { return subscriptions }
        var list: [[String]] = []
        if let info = try FileSystem.lstatIfPresent(subscriptionsFile), FileSystem.isRegular(info) {
            let bytes = try FileSystem.readFile(subscriptionsFile, limit: MaildirSource.controlFileLimit)
            list = DovecotSubscriptions.parse(String(decoding: bytes, as: UTF8.self))
        }
        subscriptions = list
        subscribed = Set(list)
        return list
    }

    private func subscribe(_ folderPath: [String]) throws {
        _ = try loadSubscriptions()
        guard subscribed.insert(folderPath).inserted else { return }
        subscriptions!.append(folderPath)
        subscriptionsChanged = true
    }

    private func writeSubscriptionsIfChanged() throws {
        guard subscriptionsChanged, let list = subscriptions else { return }
        try writeControlFile(subscriptionsFile, Array(DovecotSubscriptions.text(for: list).utf8))
        subscriptionsChanged = false
        filesToSync.append(subscriptionsFile)
        directoriesToSync.insert(path)
    }

    /// Scans a folder once: which digests are committed, and removes our staged leftovers from `tmp/`.
    private func committed(in number: Int) throws -> MaildirFileIndex {
        if let known = folders[number].committed { return known }
        let directory = folders[number].directory
        var found = MaildirFileIndex()
        var others = false
        for sub in ["cur", "new"] {
            for name in try FileSystem.listDirectory("\(directory)/\(sub)").names {
                if let digest = Self.digest(inFileName: name) {
                    found.scanned(digest: digest, directory: "\(directory)/\(sub)", name: name)
                } else if !name.hasPrefix(".") {
                    others = true
                }
            }
        }
        found.finishScan()
        if others { folders[number].list.holdsOtherMail = true }
        for name in try FileSystem.listDirectory("\(directory)/tmp").names where name.hasSuffix(Self.temporarySuffix) {
            try FileSystem.unlinkIfPresent("\(directory)/tmp/\(name)")
        }
        folders[number].committed = found
        return found
    }

    static func digest(inFileName name: String) -> String? {
        let base = MaildirFlags.parse(fileName: name).baseName
        let beforeSize = base.split(separator: ",", maxSplits: 1).first ?? ""
        for part in beforeSize.split(separator: ".") where part.hasPrefix(digestPrefix) {
            let digest = part.dropFirst(digestPrefix.count)
            if digest.count == digestLength { return String(digest) }
        }
        return nil
    }

    // MARK: Messages

    public func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        guard folders.indices.contains(folder) else {
            throw ConnectorError(location: path, message: "message \(key.entryPath) names folder \(folder), which was not opened")
        }
        let digest = ItemKeyDigest.hex(of: key)
        if let existing = try committed(in: folder)[digest] {
            if let status = try FileSystem.lstatIfPresent(existing), Int64(status.st_size) == key.size {
                // Listed already, unless a crash came between the rename and the list: listing keeps the UID it
                // has, or gives one.
                try queue(.init(from: nil, to: existing, sourceUID: info.uid, guid: info.guid), entry: key.entryPath, folder: folder)
                return false
            }
            // Committed before a crash but its bytes did not survive (or it was damaged): write it again.
            try FileSystem.unlinkIfPresent(existing)
            folders[folder].committed![digest] = nil
        }
        let flags = try maildirFlags(for: info, folder: folder)
        let directory = folders[folder].directory
        let seconds = max(0, info.internalDate.epochSeconds)
        let baseName = "\(seconds).\(Self.digestPrefix)\(digest).mailferry,S=\(key.size)"
        let final = "\(directory)/cur/\(flags.fileName(baseName: baseName))"
        stagedCount += 1
        let staged = "\(directory)/tmp/\(digest).\(getpid()).\(stagedCount)\(Self.temporarySuffix)"
        try Self.stage(body: body, at: staged, size: key.size, date: info.internalDate, check: check)
        do {
            try FileSystem.adopt(staged, like: owner)
        } catch {
            _ = try? FileSystem.unlinkIfPresent(staged)
            throw error
        }
        // Not added to `committed`: that table is what the folder held before this run, for finding an item a killed
        // run wrote; an archive names each item once, so nothing this run writes is looked for again (a 200,000-
        // message import would otherwise hold every new file's path).
        noteWritten(final)
        directoriesToSync.insert("\(directory)/cur")
        try queue(
            .init(from: staged, to: final, sourceUID: info.uid, guid: info.guid, isStaged: true), entry: key.entryPath,
            folder: folder)
        return true
    }

    /// Messages moved into `cur/` and listed at once, per folder: one lock and one append to `dovecot-uidlist` for
    /// this many. A staged message is committed when its batch is; the importer's `finish` commits the rest.
    static let batchLimit = 256

    /// Adds a message to its folder's batch, committing the batch when it is full.
    private func queue(_ move: MaildirUIDListWriter.Move, entry: String, folder: Int) throws {
        folders[folder].batch.append((move, entry))
        if folders[folder].batch.count >= Self.batchLimit { try commitBatch(folder) }
    }

    /// Moves a folder's batch into `cur/` and lists it (`MaildirUIDListWriter.commit`); records where each went.
    func commitBatch(_ number: Int) throws {
        _ = try committed(in: number)  // whether the folder holds other mail decides a new list's UIDVALIDITY
        let batch = folders[number].batch
        folders[number].batch.removeAll()
        let listed: (uidValidity: UInt32, uids: [UInt32])
        do {
            listed = try folders[number].list.commit(batch.map(\.move))
        } catch {
            for (move, _) in batch {
                if move.isStaged, let from = move.from { _ = try? FileSystem.unlinkIfPresent(from) }
            }
            throw error
        }
        folders[number].touched = true
        let folderName = folders[number].path.joined(separator: "/")
        for ((move, entry), uid) in zip(batch, listed.uids) where recordsPlacements {
            // One string for the file name and, where the list gives no G field, the GUID shown (the same name).
            let baseName = move.baseName
            try placements.append(ItemPlacement(
                entry: entry, guid: move.guid, folder: folderName, uidValidity: listed.uidValidity, uid: uid,
                file: baseName, targetGUID: Self.shownGUID(move.guid, baseName: baseName)))
        }
        filesToSync.append(folders[number].list.listPath)
        directoriesToSync.insert(folders[number].directory)
    }

    /// A delta's move into another folder: committed at once, with whatever that folder's batch holds.
    func moveIntoList(from: String, to: String, info: MessageInfo, entry: String, folder: Int) throws {
        folders[folder].batch.append((.init(from: from, to: to, sourceUID: info.uid, guid: info.guid), entry))
        try commitBatch(folder)
    }

    func commitBatches() throws {
        for number in folders.indices where !folders[number].batch.isEmpty { try commitBatch(number) }
    }

    /// The GUID a Dovecot serving this Maildir shows for a message: the `G` field its line got, else its file name.
    static func shownGUID(_ guid: String?, baseName: String) -> String {
        DovecotUIDList.fieldGUID(guid, baseName: baseName) ?? baseName
    }

    /// Commits every batch and brings each list this run touched to its final state.
    private func commitLists() throws {
        for number in folders.indices where !folders[number].batch.isEmpty || folders[number].touched {
            try commitBatch(number)
            try folders[number].list.finish()
        }
    }

    /// Writes `body` to `staged`, runs `check`, sets the times; removes the file on any failure.
    static func stage(body: any ItemBody, at staged: String, size: Int64, date: InternalDate?, check: () throws -> Void)
        throws
    {
        do {
            let file = try FileSystem.createExclusive(staged)
            var written: Int64 = 0
            try body.stream { chunk in
                try ConnectorError.io { () throws(SystemError) in try file.writeAll(chunk) }
                written += Int64(chunk.count)
            }
            guard written == size else {
                throw ConnectorError(location: body.origin, message: "gave \(written) bytes; the archive says \(size)")
            }
            try check()
            try ConnectorError.io { () throws(SystemError) in
                if let date { try file.setTimes(epochSeconds: date.epochSeconds, nanoseconds: date.nanoseconds) }
                try file.close()
            }
        } catch {
            _ = try? FileSystem.unlinkIfPresent(staged)
            throw error
        }
    }

    private func maildirFlags(for info: MessageInfo, folder: Int) throws -> MaildirFlags {
        var flags = MaildirFlags(system: info.flags, passed: info.maildirPassed)
        var keywords = folders[folder].keywords
        let keywordsFile = "\(folders[folder].directory)/\(DovecotKeywords.fileName)"
        for name in info.keywords {
            flags.keywordLetters.insert(try keywords.assign(name, origin: keywordsFile))
        }
        if keywords != folders[folder].keywords {
            // Named before any message uses the letter, so a crash never leaves a letter without its name.
            try writeControlFile(keywordsFile, Array(keywords.fileText.utf8))
            folders[folder].keywords = keywords
            filesToSync.append(keywordsFile)
            directoriesToSync.insert(folders[folder].directory)
        }
        return flags
    }

    // MARK: Support for delta changes (MaildirTarget+Delta.swift)

    /// The inbox and every `.NAME` folder directory.
    func folderDirectories() throws -> [String] {
        var result = [path]
        for name in try FileSystem.listDirectory(path).names where name.hasPrefix(".") && !name.hasPrefix(".mailferry-") {
            if let info = try FileSystem.lstatIfPresent("\(path)/\(name)"), FileSystem.isDirectory(info) {
                result.append("\(path)/\(name)")
            }
        }
        return result
    }

    func locations() throws -> MaildirFileIndex {
        if let itemLocations { return itemLocations }
        var found = MaildirFileIndex()
        for directory in try folderDirectories() {
            for sub in ["cur", "new"] {
                let dir = "\(directory)/\(sub)"
                guard try FileSystem.lstatIfPresent(dir) != nil else { continue }
                for name in try FileSystem.listDirectory(dir).names {
                    if let digest = Self.digest(inFileName: name) { found.scanned(digest: digest, directory: dir, name: name) }
                }
            }
        }
        found.finishScan()
        itemLocations = found
        return found
    }

    func forgetLocations() {
        itemLocations = nil
        for i in folders.indices { folders[i].committed = nil }
    }

    func noteMoved(digest: String, from: String, to: String?) {
        itemLocations?[digest] = to
        for i in folders.indices where folders[i].committed?[digest] == from { folders[i].committed?[digest] = to }
        if let to {
            let directory = FileSystem.parentDirectory(of: FileSystem.parentDirectory(of: to))
            if let i = folders.firstIndex(where: { $0.directory == directory }) { folders[i].committed?[digest] = to }
            directoriesToSync.insert(FileSystem.parentDirectory(of: to))
        }
        directoriesToSync.insert(FileSystem.parentDirectory(of: from))
    }

    func directoryOfFolder(_ number: Int) -> String { folders[number].directory }

    func flagsForDelta(_ info: MessageInfo, folder: Int) throws -> MaildirFlags { try maildirFlags(for: info, folder: folder) }

    /// Keeps the subscriptions file in step with a folder rename (the folder and those under it).
    func renameSubscriptions(from: [String], to: [String]) throws {
        var list = try loadSubscriptions()
        var changed = false
        for i in list.indices where list[i].starts(with: from) {
            list[i] = to + list[i].dropFirst(from.count)
            changed = true
        }
        guard changed else { return }
        subscriptions = list
        subscribed = Set(list)
        subscriptionsChanged = true
        // A rename is rare and its directories are renamed now: the file follows at once.
        try writeSubscriptionsIfChanged()
    }

    // MARK: What a Maildir cannot hold

    public func addressBook(_ book: AddressBookInfo) throws -> Int { throw refusal("address book \(book.name)") }
    public func calendar(_ calendar: CalendarInfo) throws -> Int { throw refusal("calendar \(calendar.name)") }
    public func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool { throw refusal("contact \(info.resourceName)") }
    public func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody,
        check: () throws -> Void
    ) throws -> Bool { throw refusal("calendar item \(info.resourceName)") }
    public func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void)
        throws -> Bool
    { throw refusal("Sieve script \(info.name)") }

    private func refusal(_ what: String) -> ConnectorError {
        ConnectorError(location: path, message: "a Maildir holds mail only and cannot store the \(what); import into a dir: target (Sieve scripts also into sieve://)")
    }

    // MARK: Durability

    public func finish(settings: UserSettings) throws {
        try syncWritten()
    }

    public func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement]) {
        let folders = try self.folders.map { state in
            let header = try uidListHeader(in: state.directory)
            return FolderPlacement(
                source: state.path, folder: state.path.joined(separator: "/"), uidValidity: header?.uidValidity,
                guid: header?.guid)
        }
        return (placements, folders)
    }

    /// The header of a folder's `dovecot-uidlist`, read from the file's start only.
    private func uidListHeader(in directory: String) throws -> DovecotUIDList.Header? {
        let file = "\(directory)/\(DovecotUIDList.fileName)"
        guard try FileSystem.lstatIfPresent(file) != nil else { return nil }
        let start = try FileSystem.readPrefix(file, limit: 4096)
        return DovecotUIDList.parseHeader(String(decoding: start.prefix(while: { $0 != UInt8(ascii: "\n") }), as: UTF8.self))
    }

    /// Makes every file written since the last call and the directories whose entries changed durable.
    /// A few files are fsynced one by one; past `syncfsThreshold` one syncfs(2) of the target's file
    /// system does the same for all of them at once.
    func syncWritten() throws {
        try writeSubscriptionsIfChanged()
        try commitLists()
        if syncsFileSystem || filesToSync.count > Self.syncfsThreshold {
            try FileSystem.syncFileSystem(containing: path)
        } else {
            for file in filesToSync { try FileSystem.fsyncPath(file) }
            for directory in directoriesToSync.sorted() { try FileSystem.fsyncPath(directory) }
        }
        filesToSync.removeAll()
        directoriesToSync.removeAll()
        syncsFileSystem = false
    }

    /// Above this many files one file-system sync is cheaper than an fsync each.
    static let syncfsThreshold = 64

    /// Notes a message file to make durable; past `syncfsThreshold` the whole file system is synced, so the names
    /// of the rest are not kept (a large import would hold every path).
    private func noteWritten(_ file: String) {
        if filesToSync.count <= Self.syncfsThreshold { filesToSync.append(file) } else { syncsFileSystem = true }
    }
}
