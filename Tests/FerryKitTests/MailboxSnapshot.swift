import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// Everything a source says about its users, as sorted lines that name bytes by SHA-256, so two
/// stores can be compared exactly (and a difference read in the test output).
final class MailboxSnapshot: MailboxSink {
    private(set) var lines: [String] = []
    private var folders: [[String]] = []
    private var books: [String] = []
    private var calendars: [String] = []
    private var user = ""
    /// Compare special use only where both sides keep it.
    let includeSpecialUse: Bool

    init(includeSpecialUse: Bool = false) { self.includeSpecialUse = includeSpecialUse }

    static func of(_ source: any MailboxSource, includeSpecialUse: Bool = false) throws -> [String] {
        let snapshot = MailboxSnapshot(includeSpecialUse: includeSpecialUse)
        for u in try source.users() { try source.read(user: u, into: snapshot) }
        return snapshot.lines.sorted()
    }

    private func hash(_ body: any ItemBody) throws -> String {
        let h = SHA256()
        var n: Int64 = 0
        try body.stream {
            h.update($0)
            n += Int64($0.count)
        }
        return "\(n):\(h.finalizeHex().prefix(16))"
    }

    func beginUser(_ user: UserInfo) throws {
        self.user = user.address
        folders = []
        books = []
        calendars = []
    }

    func folder(_ folder: FolderInfo) throws -> Int {
        folders.append(folder.path)
        let use = includeSpecialUse ? " use=\(folder.specialUse ?? "-")" : ""
        lines.append("\(user) folder \(folder.path) subscribed=\(folder.subscribed)\(use)")
        return folders.count - 1
    }

    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        let d = info.internalDate
        lines.append("\(user) message \(folders[folder]) \(try hash(body)) flags=\(info.flags.names) keywords=\(info.keywords.sorted()) date=\(d.epochSeconds).\(d.nanoseconds)")
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int {
        books.append(book.name)
        lines.append("\(user) addressbook \(book.name)")
        return books.count - 1
    }

    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {
        lines.append("\(user) contact \(books[book])/\(info.resourceName) \(try hash(body)) cards=\(info.cards.map { $0.uid ?? "-" })")
    }

    func calendar(_ calendar: CalendarInfo) throws -> Int {
        calendars.append(calendar.name)
        lines.append("\(user) calendar \(calendar.name)")
        return calendars.count - 1
    }

    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {
        lines.append("\(user) calendar-item \(calendars[calendar])/\(info.resourceName) \(try hash(body)) \(info.components.map { "\($0.kind):\($0.uid ?? "-")" })")
    }

    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {
        lines.append("\(user) sieve \(info.name) active=\(info.active) \(try hash(body))")
    }

    func endUser(settings: UserSettings) throws {
        if let v = settings.vacation { lines.append("\(user) vacation \(v)") }
    }

    func warning(_ problem: SourceProblem) {}
}
