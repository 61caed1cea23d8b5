import Connectors
import Foundation
import MailModel
import TestSupport
import Testing

struct DirectoryRoundTripTests {
    let alice = UserInfo(address: "alice@example.org")
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u1\r\nFN:Bob\r\nEND:VCARD\r\n"
    let event = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

    func makeStore(_ tree: TemporaryDirectory) throws {
        let home = "store/alice@example.org"
        for sub in ["cur", "new", "tmp"] { try tree.makeDirectory("\(home)/Maildir/\(sub)") }
        try tree.write(
            "\(home)/Maildir/cur/1.M1.h:2,S", "Subject: hi\r\n\r\nhello\r\n",
            mtime: InternalDate(epochSeconds: 1_710_000_000, nanoseconds: 17))
        try tree.write("\(home)/contacts/bob.vcf", card)
        try tree.write("\(home)/contacts/50%25 off.vcf", card.replacingOccurrences(of: "Bob", with: "Dan"))
        try tree.write("\(home)/contacts/Work/carol.vcf", card.replacingOccurrences(of: "Bob", with: "Carol"))
        try tree.symlink("\(home)/contacts/linked.vcf", to: "bob.vcf")
        try tree.write("\(home)/calendars/Home/lunch.ics", event)
        try tree.write("\(home)/sieve/main.sieve", "require \"fileinto\";\r\n")
        try tree.write("\(home)/sieve/old.sieve", "keep;\r\n")
        try tree.symlink("\(home)/.dovecot.sieve", to: "sieve/main.sieve")
        try tree.write("\(home)/vacation.json", #"{"enabled":true,"subject":"Away","body":"Back soon","days":7}"#)
        try tree.makeDirectory("store/not-a-user")
        try tree.write("store/file@example.org", "a file, not a user")
    }

    func read(_ path: String, _ user: UserInfo) throws -> RecordingSink {
        let sink = RecordingSink()
        try DirectorySource(path: path).read(user: user, into: sink)
        return sink
    }

    @Test func sourceReadsTheTree() throws {
        let tree = try TemporaryDirectory()
        try makeStore(tree)
        let source = DirectorySource(path: tree.file("store"))
        #expect(try source.users() == [alice])
        let sink = try read(tree.file("store"), alice)
        #expect(sink.messages.count == 1)
        #expect(sink.books.map(\.name) == ["contacts", "Work"])
        #expect(sink.contacts.map(\.info.resourceName) == ["50%25 off.vcf", "bob.vcf", "carol.vcf"])
        #expect(sink.contacts[0].info.cards.first?.uid == "u1")
        #expect(sink.calendars.map(\.name) == ["Home"])
        #expect(sink.calendarItems.first?.info.components.first?.summary == "Lunch")
        #expect(sink.scripts.map(\.info) == [
            SieveScriptInfo(name: "main", active: true), SieveScriptInfo(name: "old", active: false),
        ])
        #expect(sink.settings?.vacation == VacationReply(enabled: true, subject: "Away", body: "Back soon", days: 7))
        #expect(sink.warnings.contains { $0.location.hasSuffix("linked.vcf") && $0.message.contains("not a regular file") })
    }

    @Test func roundTripReproducesTheTree() throws {
        let tree = try TemporaryDirectory()
        try makeStore(tree)
        let original = try read(tree.file("store"), alice)
        let target = DirectoryTarget(path: tree.file("copy"))
        let feeder = TargetFeeder(target: try target.open(user: alice))
        try DirectorySource(path: tree.file("store")).read(user: alice, into: feeder)
        #expect(feeder.results.count == 7)
        #expect(feeder.results.allSatisfy { $0 })
        let copy = try read(tree.file("copy"), alice)
        #expect(copy.messageSummary == original.messageSummary)
        #expect(copy.folderSummary == original.folderSummary)
        #expect(copy.contactSummary == original.contactSummary)
        #expect(copy.calendarSummary == original.calendarSummary)
        #expect(copy.scriptSummary == original.scriptSummary)
        #expect(copy.settings == original.settings)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: tree.file("copy/alice@example.org/.dovecot.sieve"))
            == "sieve/main.sieve")
        #expect(copy.warnings.isEmpty, "\(copy.warnings)")

        // A second import of the same archive adds nothing.
        let again = TargetFeeder(target: try target.open(user: alice))
        try DirectorySource(path: tree.file("store")).read(user: alice, into: again)
        #expect(again.results.count == 7)
        #expect(again.results.allSatisfy { !$0 })
        #expect(try read(tree.file("copy"), alice).contactSummary == original.contactSummary)
    }

    @Test func failedCheckLeavesNoFile() throws {
        let tree = try TemporaryDirectory()
        let user = try DirectoryTarget(path: tree.file("copy")).open(user: alice)
        let book = try user.addressBook(AddressBookInfo(name: "contacts"))
        struct Mismatch: Error {}
        #expect(throws: Mismatch.self) {
            try user.writeContact(
                ContactInfo(resourceName: "x.vcf", cards: []), inAddressBook: book,
                key: ItemKey(archiveID: "a", entryPath: "c/1", sha256: "", size: 3), body: MemoryBody([1, 2, 3]),
                check: { throw Mismatch() })
        }
        #expect(try tree.files(in: "copy/alice@example.org/contacts").isEmpty)
    }

    @Test func untrustedNamesStayInside() throws {
        let tree = try TemporaryDirectory()
        let target = DirectoryTarget(path: tree.file("copy"))
        for bad in ["", ".", "..", "a/b", "x\0y"] {
            #expect(throws: ConnectorError.self) { try target.open(user: UserInfo(address: bad)) }
            #expect(throws: ConnectorError.self) { try read(tree.file("copy"), UserInfo(address: bad)) }
        }
        let user = try target.open(user: alice)
        let book = try user.addressBook(AddressBookInfo(name: "../evil"))
        for (number, name) in ["../../escape.vcf", ".hidden", "a/b"].enumerated() {
            #expect(try user.writeContact(
                ContactInfo(resourceName: name, cards: []), inAddressBook: book,
                key: ItemKey(archiveID: "a", entryPath: "c/\(number)", sha256: "", size: 1), body: MemoryBody([65]),
                check: {}))
        }
        try user.finish(settings: UserSettings())
        #expect(try tree.files(in: "copy/alice@example.org/contacts") == ["%2E.%2Fevil"])
        #expect(try tree.files(in: "copy/alice@example.org/contacts/%2E.%2Fevil")
            == ["%2E.%2F..%2Fescape.vcf", "%2Ehidden.vcf", "a%2Fb.vcf"])
        #expect(try tree.files(in: "copy") == ["alice@example.org"])
    }
}
