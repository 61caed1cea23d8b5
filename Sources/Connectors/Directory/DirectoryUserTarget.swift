#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailModel
import SystemLayer

/// One user's side of a `DirectoryTarget`. Mail goes to a `MaildirTarget` in `Maildir/`; contacts, calendar
/// items and Sieve scripts are files written under a staged name in their own folder, checked, and renamed.
///
/// Idempotency: after each rename a line `DIGEST SIZE RELATIVE-PATH` is appended to `.mailferry-import` in the
/// user's folder (`ItemKeyDigest` of the key). An item whose line is there and whose file still has that size
/// is not written again; one whose file is gone or has another size (a power loss before `finish`) is.
/// Without a line the item is written, replacing a file of the same name. Resource names are made safe by
/// `DirectoryLayout.safeName`.
final class DirectoryUserTarget: UserMailboxTarget {
    let home: String
    private var mail: MaildirTarget?
    var recordsPlacements = true
    /// Where the mail went: the Maildir's placements (folder, UIDVALIDITY, UID from its `dovecot-uidlist`).
    public var placements: PlacementLog { mail?.placements ?? PlacementLog() }
    public func readPlacements() throws -> (items: PlacementLog, folders: [FolderPlacement]) {
        try mail?.readPlacements() ?? (PlacementLog(), [])
    }
    private var addressBooks: [String] = []
    private var calendars: [String] = []
    private var journal: [String: (size: Int64, path: String)] = [:]
    private let journalFile: FileDescriptor
    private var filesToSync: [String] = []
    private var directoriesToSync: Set<String> = []
    private var stagedCount = 0

    /// The journal is a list of short lines; this allows millions of items.
    static let journalLimit = 256 << 20

    init(home: String) throws {
        self.home = home
        for made in try FileSystem.makeDirectories(home) {
            directoriesToSync.insert(FileSystem.parentDirectory(of: made))
        }
        let journalPath = "\(home)/\(DirectoryLayout.journal)"
        if let info = try FileSystem.lstatIfPresent(journalPath), FileSystem.isRegular(info) {
            let text = String(decoding: try FileSystem.readFile(journalPath, limit: Self.journalLimit), as: UTF8.self)
            for line in text.split(separator: "\n") {
                // A line cut short by a crash has fewer than three fields and is ignored.
                let fields = line.split(separator: " ", maxSplits: 2)
                guard fields.count == 3, let size = Int64(fields[1]) else { continue }
                journal[String(fields[0])] = (size, String(fields[2]))
            }
        }
        journalFile = try FileSystem.openForAppending(journalPath)
        directoriesToSync.insert(home)
    }

    // MARK: Mail

    /// The file the journal says an earlier item was written to, if it is still there.
    func journalledFile(for key: ItemKey) throws -> String? {
        guard let entry = journal[ItemKeyDigest.hex(of: key)] else { return nil }
        let file = "\(home)/\(entry.path)"
        guard let info = try FileSystem.lstatIfPresent(file), FileSystem.isRegular(info) else { return nil }
        return file
    }

    func maildir() throws -> MaildirTarget {
        if let mail { return mail }
        let made = try MaildirTarget(path: "\(home)/\(DirectoryLayout.maildir)")
        made.recordsPlacements = recordsPlacements
        mail = made
        return made
    }

    func folder(_ folder: FolderInfo) throws -> Int { try maildir().folder(folder) }

    func writeMessage(
        _ info: MessageInfo, inFolder folder: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        try maildir().writeMessage(info, inFolder: folder, key: key, body: body, check: check)
    }

    // MARK: Collections

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        var directory = "\(home)/\(DirectoryLayout.contacts)"
        if book.name != DirectoryLayout.topAddressBook {
            directory += "/" + (try DirectoryLayout.safeName(book.name, location: directory))
        }
        try makeDirectory(directory)
        addressBooks.append(directory)
        return addressBooks.count - 1
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        let top = "\(home)/\(DirectoryLayout.calendars)"
        let directory = "\(top)/\(try DirectoryLayout.safeName(calendar.name, location: top))"
        try makeDirectory(directory)
        calendars.append(directory)
        return calendars.count - 1
    }

    private func makeDirectory(_ directory: String) throws {
        for made in try FileSystem.makeDirectories(directory) {
            directoriesToSync.insert(FileSystem.parentDirectory(of: made))
        }
    }

    // MARK: Items

    func writeContact(
        _ info: ContactInfo, inAddressBook book: Int, key: ItemKey, body: any ItemBody, check: () throws -> Void
    ) throws -> Bool {
        let directory = try opened(addressBooks, book, "contact \(key.entryPath) names address book")
        let name = try DirectoryLayout.safeName(
            info.resourceName, requiredExtension: DirectoryLayout.contactExtension, location: directory)
        return try writeItem(at: "\(directory)/\(name)", key: key, body: body, check: check)
    }

    func writeCalendarItem(
        _ info: CalendarItemInfo, inCalendar calendar: Int, key: ItemKey, body: any ItemBody,
        check: () throws -> Void
    ) throws -> Bool {
        let directory = try opened(calendars, calendar, "calendar item \(key.entryPath) names calendar")
        let name = try DirectoryLayout.safeName(
            info.resourceName, requiredExtension: DirectoryLayout.calendarExtension, location: directory)
        return try writeItem(at: "\(directory)/\(name)", key: key, body: body, check: check)
    }

    /// The folder of an address book or calendar that was opened for this user; an item naming another is refused.
    private func opened(_ directories: [String], _ number: Int, _ naming: String) throws -> String {
        guard directories.indices.contains(number) else {
            throw ConnectorError(location: home, message: "\(naming) \(number), which was not opened")
        }
        return directories[number]
    }

    func writeSieveScript(_ info: SieveScriptInfo, key: ItemKey, body: any ItemBody, check: () throws -> Void)
        throws -> Bool
    {
        let directory = "\(home)/\(DirectoryLayout.sieve)"
        try makeDirectory(directory)
        let name = try DirectoryLayout.safeName(info.name, location: directory) + DirectoryLayout.sieveExtension
        let written = try writeItem(at: "\(directory)/\(name)", key: key, body: body, check: check)
        if info.active { try activate(scriptFileName: name) }
        return written
    }

    /// Points `.dovecot.sieve` at the script, replacing any earlier link in one rename.
    private func activate(scriptFileName: String) throws {
        let link = "\(home)/\(DirectoryLayout.activeSieveLink)"
        let target = "\(DirectoryLayout.sieve)/\(scriptFileName)"
        if let info = try FileSystem.lstatIfPresent(link), FileSystem.isSymlink(info),
            try FileSystem.readLink(link) == target
        {
            return
        }
        let staged = "\(link).\(ProcessInfo.processInfo.processIdentifier)\(FileSystem.temporarySuffix)"
        try FileSystem.unlinkIfPresent(staged)
        try FileSystem.symlink(target: target, at: staged)
        try FileSystem.rename(staged, to: link)
        directoriesToSync.insert(home)
    }

    private func writeItem(at path: String, key: ItemKey, body: any ItemBody, check: () throws -> Void) throws -> Bool {
        let digest = ItemKeyDigest.hex(of: key)
        let relative = String(path.dropFirst(home.count + 1))
        if let entry = journal[digest], entry.path == relative, entry.size == key.size,
            let info = try FileSystem.lstatIfPresent(path), FileSystem.isRegular(info), Int64(info.st_size) == key.size
        {
            return false
        }
        let directory = FileSystem.parentDirectory(of: path)
        stagedCount += 1
        let staged = "\(directory)/.\(digest).\(ProcessInfo.processInfo.processIdentifier).\(stagedCount)\(FileSystem.temporarySuffix)"
        try MaildirTarget.stage(body: body, at: staged, size: key.size, date: nil, check: check)
        do {
            try FileSystem.rename(staged, to: path)
        } catch {
            _ = try? FileSystem.unlinkIfPresent(staged)
            throw error
        }
        let line = "\(digest) \(key.size) \(relative)\n"
        try Array(line.utf8).withUnsafeBytes { bytes in try ConnectorError.io { () throws(SystemError) in try journalFile.writeAll(bytes) } }
        journal[digest] = (key.size, relative)
        filesToSync.append(path)
        directoriesToSync.insert(directory)
        return true
    }

    // MARK: Settings and durability

    func finish(settings: UserSettings) throws {
        if let vacation = settings.vacation {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let file = "\(home)/\(DirectoryLayout.vacation)"
            try FileSystem.writeFileAtomically(file, Array(try encoder.encode(vacation)))
            filesToSync.append(file)
            directoriesToSync.insert(home)
        }
        try mail?.syncWritten()
        for file in filesToSync { try FileSystem.fsyncPath(file) }
        for directory in directoriesToSync.sorted() { try FileSystem.fsyncPath(directory) }
        // Last: the journal only claims items whose bytes are now durable.
        try journalFile.sync()
        filesToSync.removeAll()
        directoriesToSync.removeAll()
    }
}
