#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MailModel

/// Reads a directory store: one directory per user, named by address (see `DirectoryLayout`).
/// Files that are not regular (symbolic links, devices) are skipped with a warning.
public struct DirectorySource: MailboxSource {
    public let path: String

    /// Passed to the Maildir part: see `MaildirSource.summarizesHeaders`.
    public var summarizesHeaders = true

    public init(path: String, summarizesHeaders: Bool = true) {
        self.summarizesHeaders = summarizesHeaders
        self.path = path
    }

    /// Subdirectories whose name contains `@`, sorted by their bytes.
    public func users() throws -> [UserInfo] {
        var users: [UserInfo] = []
        for name in try FileSystem.listDirectory(path).names where name.contains("@") {
            guard let info = try FileSystem.lstatIfPresent("\(path)/\(name)"), FileSystem.isDirectory(info) else { continue }
            users.append(UserInfo(address: name))
        }
        return users
    }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        try DirectoryLayout.checkAddress(user.address, root: path)
        let home = "\(path)/\(user.address)"
        guard let info = try FileSystem.lstatIfPresent(home), FileSystem.isDirectory(info) else {
            throw ConnectorError(location: home, message: "no directory for user \(user.address)")
        }
        try sink.beginUser(user)
        let maildir = "\(home)/\(DirectoryLayout.maildir)"
        if let info = try FileSystem.lstatIfPresent(maildir) {
            if FileSystem.isDirectory(info) {
                try MaildirSource(path: maildir, user: user, summarizesHeaders: summarizesHeaders).readMail(into: sink)
            } else {
                sink.warning(SourceProblem(location: maildir, message: "not a directory; no mail read"))
            }
        }
        try readContacts(home: home, into: sink)
        try readCalendars(home: home, into: sink)
        try readSieve(home: home, into: sink)
        try sink.endUser(settings: UserSettings(vacation: try readVacation(home: home, sink: sink)))
    }

    // MARK: Contacts and calendars

    private func readContacts(home: String, into sink: any MailboxSink) throws {
        let top = "\(home)/\(DirectoryLayout.contacts)"
        guard let directories = try collectionDirectory(top, sink: sink) else { return }
        let book = try sink.addressBook(AddressBookInfo(name: DirectoryLayout.topAddressBook))
        try readContactFiles(in: top, book: book, into: sink)
        for name in directories {
            if name == DirectoryLayout.topAddressBook {
                sink.warning(SourceProblem(
                    location: "\(top)/\(name)",
                    message: "an address book named like the top one (\"\(name)\"); a directory target merges them"))
            }
            let number = try sink.addressBook(AddressBookInfo(name: name))
            try readContactFiles(in: "\(top)/\(name)", book: number, into: sink)
        }
    }

    private func readContactFiles(in directory: String, book: Int, into sink: any MailboxSink) throws {
        for file in try itemFiles(in: directory, extension: DirectoryLayout.contactExtension, sink: sink) {
            let (bytes, body) = try load(file.path, size: file.size, sink: sink)
            var cards: [CardSummary] = []
            if let bytes {
                let summary = VCardCodec.summarize(bytes)
                cards = summary.cards
                for problem in summary.problems { sink.warning(SourceProblem(location: file.path, message: problem)) }
            }
            try sink.contact(ContactInfo(resourceName: file.name, cards: cards), inAddressBook: book, body: body)
        }
    }

    private func readCalendars(home: String, into sink: any MailboxSink) throws {
        let top = "\(home)/\(DirectoryLayout.calendars)"
        guard let directories = try collectionDirectory(top, sink: sink) else { return }
        for file in try itemFiles(in: top, extension: nil, sink: sink) {
            sink.warning(SourceProblem(location: file.path, message: "a file outside any calendar folder; skipped"))
        }
        for name in directories {
            let number = try sink.calendar(CalendarInfo(name: name))
            let directory = "\(top)/\(name)"
            for file in try itemFiles(in: directory, extension: DirectoryLayout.calendarExtension, sink: sink) {
                let (bytes, body) = try load(file.path, size: file.size, sink: sink)
                var components: [ComponentSummary] = []
                if let bytes {
                    let summary = ICalendarCodec.summarize(bytes)
                    components = summary.components
                    for problem in summary.problems { sink.warning(SourceProblem(location: file.path, message: problem)) }
                }
                try sink.calendarItem(
                    CalendarItemInfo(resourceName: file.name, components: components), inCalendar: number, body: body)
            }
        }
    }

    /// The subdirectories of a collection folder, or nil when it is absent.
    private func collectionDirectory(_ directory: String, sink: any MailboxSink) throws -> [String]? {
        guard let info = try FileSystem.lstatIfPresent(directory) else { return nil }
        guard FileSystem.isDirectory(info) else {
            sink.warning(SourceProblem(location: directory, message: "not a directory; skipped"))
            return nil
        }
        var directories: [String] = []
        for name in try FileSystem.listDirectory(directory).names where !name.hasPrefix(".") {
            if let info = try FileSystem.lstatIfPresent("\(directory)/\(name)"), FileSystem.isDirectory(info) {
                directories.append(name)
            }
        }
        return directories
    }

    /// Regular files of a folder with the extension (any when nil); other entries are warned about, except
    /// directories (collections of their own) and a target's staged leftovers.
    private func itemFiles(in directory: String, extension wanted: String?, sink: any MailboxSink) throws
        -> [(name: String, path: String, size: Int64)]
    {
        var files: [(name: String, path: String, size: Int64)] = []
        let listing = try FileSystem.listDirectory(directory)
        for name in listing.undecodable {
            sink.warning(SourceProblem(location: "\(directory)/\(name)", message: "file name is not UTF-8; skipped"))
        }
        for name in listing.names where !name.hasSuffix(FileSystem.temporarySuffix) {
            let file = "\(directory)/\(name)"
            guard let info = try FileSystem.lstatIfPresent(file) else { continue }
            if FileSystem.isDirectory(info) { continue }
            guard FileSystem.isRegular(info) else {
                sink.warning(SourceProblem(location: file, message: "not a regular file; skipped"))
                continue
            }
            if let wanted, !name.lowercased().hasSuffix(wanted) || name.hasPrefix(".") {
                sink.warning(SourceProblem(location: file, message: "not a \(wanted) file; skipped"))
                continue
            }
            files.append((name, file, Int64(info.st_size)))
        }
        return files
    }

    /// The file's bytes (for a summary) and the body to carry. A file too large to summarise in memory is
    /// streamed unsummarised.
    private func load(_ file: String, size: Int64, sink: any MailboxSink) throws -> ([UInt8]?, any ItemBody) {
        guard size <= DirectoryLayout.summaryLimit else {
            sink.warning(SourceProblem(
                location: file, message: "larger than \(DirectoryLayout.summaryLimit) bytes; carried without a summary"))
            return (nil, FileBody(path: file, byteCount: size))
        }
        let bytes = try FileSystem.readFile(file, limit: DirectoryLayout.summaryLimit)
        return (bytes, MemoryBody(bytes, origin: file))
    }

    // MARK: Sieve and settings

    private func readSieve(home: String, into sink: any MailboxSink) throws {
        var active: String?
        let link = "\(home)/\(DirectoryLayout.activeSieveLink)"
        if let info = try FileSystem.lstatIfPresent(link) {
            if FileSystem.isSymlink(info) {
                let target = FileSystem.lastComponent(of: try FileSystem.readLink(link))
                if target.hasSuffix(DirectoryLayout.sieveExtension) {
                    active = String(target.dropLast(DirectoryLayout.sieveExtension.count))
                } else {
                    sink.warning(SourceProblem(location: link, message: "points to \"\(target)\", not a .sieve script"))
                }
            } else {
                sink.warning(SourceProblem(
                    location: link, message: "a regular file, not a link into sieve/; no script is taken as active"))
            }
        }
        let directory = "\(home)/\(DirectoryLayout.sieve)"
        guard let info = try FileSystem.lstatIfPresent(directory), FileSystem.isDirectory(info) else {
            if let active { sink.warning(SourceProblem(location: link, message: "active script \(active) has no sieve/ folder")) }
            return
        }
        var foundActive = false
        for file in try itemFiles(in: directory, extension: DirectoryLayout.sieveExtension, sink: sink) {
            let name = String(file.name.dropLast(DirectoryLayout.sieveExtension.count))
            foundActive = foundActive || name == active
            try sink.sieveScript(SieveScriptInfo(name: name, active: name == active), body: FileBody(path: file.path, byteCount: file.size))
        }
        if let active, !foundActive {
            sink.warning(SourceProblem(location: link, message: "active script \(active) is not in sieve/"))
        }
    }

    private func readVacation(home: String, sink: any MailboxSink) throws -> VacationReply? {
        let file = "\(home)/\(DirectoryLayout.vacation)"
        guard let info = try FileSystem.lstatIfPresent(file) else { return nil }
        guard FileSystem.isRegular(info) else {
            sink.warning(SourceProblem(location: file, message: "not a regular file; skipped"))
            return nil
        }
        let bytes = try FileSystem.readFile(file, limit: DirectoryLayout.settingsLimit)
        do {
            return try JSONDecoder().decode(VacationReply.self, from: Data(bytes))
        } catch {
            sink.warning(SourceProblem(location: file, message: "not a vacation reply as JSON (\(error)); not carried"))
            return nil
        }
    }
}
