import MailModel

/// A sink that writes what a source gives it into a `UserMailboxTarget`, the way an importer would, with item
/// keys numbered in reading order under one archive id. `results` holds each write's return value.
final class TargetFeeder: MailboxSink {
    let target: any UserMailboxTarget
    let archiveID: String
    /// Runs after the bytes of each item are written; throw to make the write fail.
    var check: () throws -> Void = {}
    private(set) var results: [Bool] = []
    private var counter = 0
    private var folderNumbers: [Int] = []
    private var bookNumbers: [Int] = []
    private var calendarNumbers: [Int] = []

    init(target: any UserMailboxTarget, archiveID: String = "archive-1") {
        self.target = target
        self.archiveID = archiveID
    }

    private func key(_ kind: String, _ body: any ItemBody) -> ItemKey {
        counter += 1
        return ItemKey(archiveID: archiveID, entryPath: "\(kind)/\(counter)", sha256: "", size: body.byteCount)
    }

    func beginUser(_ user: UserInfo) throws {}
    func folder(_ folder: FolderInfo) throws -> Int {
        folderNumbers.append(try target.folder(folder))
        return folderNumbers.count - 1
    }
    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        results.append(try target.writeMessage(
            info, inFolder: folderNumbers[folder], key: key("message", body), body: body, check: check))
    }
    func addressBook(_ book: AddressBookInfo) throws -> Int {
        bookNumbers.append(try target.addressBook(book))
        return bookNumbers.count - 1
    }
    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        results.append(try target.writeContact(
            info, inAddressBook: bookNumbers[book], key: key("contact", body), body: body, check: check))
    }
    func calendar(_ calendar: CalendarInfo) throws -> Int {
        calendarNumbers.append(try target.calendar(calendar))
        return calendarNumbers.count - 1
    }
    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        results.append(try target.writeCalendarItem(
            info, inCalendar: calendarNumbers[calendar], key: key("calendar", body), body: body, check: check))
    }
    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        results.append(try target.writeSieveScript(info, key: key("sieve", body), body: body, check: check))
    }
    func endUser(settings: UserSettings) throws { try target.finish(settings: settings) }
    func warning(_ problem: SourceProblem) {}
}
