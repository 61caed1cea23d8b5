import Foundation
import MailModel
import TestSupport
import Testing
@testable import Connectors

/// Records what a source gives, reading every body in full.
final class MboxRecordingSink: MailboxSink {
    var events: [String] = []
    var folders: [FolderInfo] = []
    var messages: [(info: MessageInfo, folder: Int, bytes: [UInt8])] = []
    var warnings: [SourceProblem] = []

    func beginUser(_ user: UserInfo) throws { events.append("begin \(user.address)") }
    func folder(_ folder: FolderInfo) throws -> Int {
        folders.append(folder)
        events.append("folder \(folder.displayName)")
        return folders.count - 1
    }
    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        var bytes: [UInt8] = []
        try body.stream { bytes.append(contentsOf: $0) }
        #expect(Int64(bytes.count) == body.byteCount)
        messages.append((info, folder, bytes))
        events.append("message \(folder)")
    }
    func addressBook(_ book: AddressBookInfo) throws -> Int { Issue.record("no address books in mbox"); return 0 }
    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws {}
    func calendar(_ calendar: CalendarInfo) throws -> Int { Issue.record("no calendars in mbox"); return 0 }
    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws {}
    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws {}
    func endUser(settings: UserSettings) throws { events.append("end") }
    func warning(_ problem: SourceProblem) { warnings.append(problem) }
}

@Suite struct MboxSourceTests {
    static let user = UserInfo(address: "alice@example.com")
    static let march7 = InternalDate(epochSeconds: 1_709_805_600)

    let scratch: TemporaryDirectory
    var root: String { scratch.path }

    init() throws {
        scratch = try TemporaryDirectory()
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws -> String { try scratch.write(relative, bytes) }

    func entry(_ text: String, date: InternalDate = march7) -> [UInt8] {
        MboxWriter.entry(message: Array(text.utf8), sender: "bob@example.org", date: date)
    }

    @Test func folderTreeWithFlagsDatesAndSubjects() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nFrom: Bob <bob@example.org>\nMessage-ID: <1@x>\nStatus: RO\nX-Status: F\nX-Keywords: Work\n\nFrom the top\n"
        _ = try write("inbox.mbox", entry(first) + entry("Subject: second\n\nhi\n"))
        _ = try write("Archive", entry("Subject: archived\n\n>From quoted\n"))
        _ = try write("Archive.sbd/2024.mbx", entry("Subject: nested\n\n"))
        _ = try write("Projects/Ferry/Notes", entry("Subject: deep\n\n"))
        _ = try write("Archive.msf", Array("// Thunderbird summary, not mail".utf8))
        _ = try write(".hidden", Array("not mail".utf8))

        let sink = MboxRecordingSink()
        let source = MboxSource(path: root, user: Self.user, chunkSize: 7)
        #expect(try source.users() == [Self.user])
        try source.read(user: Self.user, into: sink)

        #expect(sink.folders.map(\.displayName) == ["INBOX", "Archive", "Archive/2024", "Projects", "Projects/Ferry", "Projects/Ferry/Notes"])
        #expect(sink.folders[0].specialUse == "\\Inbox")
        #expect(sink.folders.allSatisfy { $0.separator == "/" })
        #expect(sink.events.first == "begin alice@example.com")
        #expect(sink.events.last == "end")
        #expect(sink.messages.map(\.folder) == [0, 0, 1, 2, 5])
        #expect(sink.messages.map(\.info.subject) == ["Grüße", "second", "archived", "nested", "deep"])

        let one = sink.messages[0]
        #expect(one.bytes == Array(first.utf8))
        #expect(one.info.flags == [.seen, .flagged])
        #expect(one.info.keywords == ["Work"])
        #expect(one.info.from == "Bob <bob@example.org>")
        #expect(one.info.messageID == "<1@x>")
        #expect(one.info.internalDate == Self.march7)
        #expect(sink.messages[2].bytes == Array("Subject: archived\n\n>From quoted\n".utf8))
        #expect(sink.warnings.isEmpty)
    }

    @Test func singleFileIsInboxAndBadDatesFallBack() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let text = "From bob@example.org not a date\nSubject: dated\nDate: Thu, 7 Mar 2024 11:00:00 +0100\n\nx\n\n"
            + "From bob@example.org also not a date\nSubject: undated\n\ny\n"
        let path = try write("some.mbox", Array(text.utf8))
        let modified = InternalDate(epochSeconds: 1_600_000_000)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)], ofItemAtPath: path)

        let sink = MboxRecordingSink()
        try MboxSource(path: path, user: Self.user).read(user: Self.user, into: sink)
        #expect(sink.folders.map(\.path) == [["INBOX"]])
        #expect(sink.messages.map(\.info.internalDate.epochSeconds) == [1_709_805_600, modified.epochSeconds])
        #expect(sink.messages[0].info.internalDate.utcOffsetMinutes == 60)
        #expect(sink.warnings.map(\.location) == ["\(path):1", "\(path):7"])
        #expect(sink.warnings[0].message.contains("Date: header"))
        #expect(sink.warnings[1].message.contains("modification time"))
        #expect(sink.messages.map { String(decoding: $0.bytes, as: UTF8.self) } == [
            "Subject: dated\nDate: Thu, 7 Mar 2024 11:00:00 +0100\n\nx\n", "Subject: undated\n\ny\n",
        ])
    }

    @Test func notAnMboxFileNamesFileAndLine() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try write("INBOX", entry("Subject: fine\n\n"))
        let bad = try write("Notes.txt", Array("Just some notes\n".utf8))
        let error = #expect(throws: ConnectorError.self) {
            try MboxSource(path: root, user: Self.user).read(user: Self.user, into: MboxRecordingSink())
        }
        #expect(error?.location == bad + ":1")
        #expect(error?.message == "not an mbox file: first line does not start with 'From '")
    }

    @Test func missingPathAndUnknownUser() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = root + "/nothing-here"
        let error = #expect(throws: ConnectorError.self) {
            try MboxSource(path: missing, user: Self.user).read(user: Self.user, into: MboxRecordingSink())
        }
        #expect(error?.location == missing)
        #expect(throws: ConnectorError.self) {
            try MboxSource(path: root, user: Self.user).read(user: UserInfo(address: "eve@x"), into: MboxRecordingSink())
        }
    }

    @Test func bodyNoticesAChangedFile() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = try write("INBOX", entry("Subject: a\n\nbody\n"))
        let file = try ReadOnlyFile(path: path)
        let size = try file.status().size
        var locations: [MboxMessageLocation] = []
        try MboxReader(file: file).scan { locations.append($0) }
        let body = MboxMessageBody(path: path, location: locations[0], fileSize: size)
        _ = try write("INBOX", entry("Subject: a\n\nbody\n") + entry("Subject: b\n\n"))
        let error = #expect(throws: ConnectorError.self) { try body.stream { _ in } }
        #expect(error?.message.contains("changed since it was scanned") == true)
    }
}
