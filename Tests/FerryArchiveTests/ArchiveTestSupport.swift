import Foundation
import MailModel
import TestSupport
@testable import FerryArchive

/// Runs a command found in PATH and returns its exit status and output (stdout, then stderr).
@discardableResult
func run(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String) {
    let result = try ProcessRunner.run(tool: arguments[0], Array(arguments.dropFirst()), input: input)
    return (result.status, result.stdout + result.stderr)
}

/// A small mailbox written straight into an archive: two users, folders, items of every kind.
struct SampleArchive {
    static func message(_ n: Int, size: Int = 0) -> [UInt8] {
        var text = "From: a\(n)@example.com\r\nSubject: message \(n)\r\nMessage-ID: <\(n)@example.com>\r\n\r\nBody \(n)\r\n"
        if size > text.utf8.count { text += String(repeating: "x", count: size - text.utf8.count) }
        return Array(text.utf8)
    }

    /// Writes the archive and returns the item bytes by entry path.
    @discardableResult
    static func write(to path: String, key: SigningKey, bigMessage: Int = 0) throws -> [String: [UInt8]] {
        let writer = try ArchiveWriter(path: path, signingKey: key, options: ArchiveOptions(station: "test", tool: "tests"))
        var items: [String: [UInt8]] = [:]
        try writer.beginUser(UserInfo(address: "alice@example.com"))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"], separator: "/", specialUse: "\\Inbox", subscribed: true))
        let nested = try writer.folder(FolderInfo(path: ["Archive", "Résumé", "a/b.c"], separator: "/"))
        for n in 1...5 {
            let bytes = message(n, size: n == 3 ? bigMessage : 0)
            try writer.message(MessageInfo(flags: n % 2 == 0 ? [.seen] : [.flagged], keywords: ["Work"], internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(n), nanoseconds: 5), subject: "message \(n)"), inFolder: n < 4 ? inbox : nested, body: MemoryBody(bytes))
            items[EntryPath.message(user: 1, folder: n < 4 ? inbox : nested, sequence: n < 4 ? n : n - 3)] = bytes
        }
        let book = try writer.addressBook(AddressBookInfo(name: "contacts"))
        let card = Array("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:1\r\nFN:Bob\r\nEND:VCARD\r\n".utf8)
        try writer.contact(ContactInfo(resourceName: "bob.vcf", cards: [CardSummary(version: "4.0", uid: "1", formattedName: "Bob")]), inAddressBook: book, body: MemoryBody(card))
        items["u/1/c/1/1.vcf"] = card
        try writer.endUser(settings: UserSettings())
        try writer.beginUser(UserInfo(address: "bob@example.com"))
        let bobInbox = try writer.folder(FolderInfo(path: ["INBOX"]))
        let b = message(99)
        try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: bobInbox, body: MemoryBody(b))
        items["u/2/m/1/1.eml"] = b
        let script = Array("require \"fileinto\";\r\n".utf8)
        try writer.sieveScript(SieveScriptInfo(name: "filters", active: true), body: MemoryBody(script))
        items["u/2/s/1.sieve"] = script
        try writer.endUser(settings: UserSettings())
        _ = try writer.finish()
        return items
    }
}
