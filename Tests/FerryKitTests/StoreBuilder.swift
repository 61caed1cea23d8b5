import Foundation
import MailModel
import TestSupport

/// Writes small mail stores into a temporary directory: Maildir++ trees, groupware files, mbox.
final class Scratch {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    init() throws { directory = try TemporaryDirectory() }

    func file(_ relative: String) -> String { directory.file(relative) }

    func write(_ relative: String, _ text: String, mtime: Int64? = nil) throws {
        try write(relative, Array(text.utf8), mtime: mtime)
    }

    /// `mtime` in whole seconds; the file gets a quarter second more, so a reader that rounds would show.
    func write(_ relative: String, _ bytes: [UInt8], mtime: Int64? = nil) throws {
        try directory.write(relative, bytes, mtime: mtime.map { InternalDate(epochSeconds: $0, nanoseconds: 250_000_000) })
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true)
    }

    /// A Maildir++ tree with INBOX, nested Unicode folders, a folder whose name holds a dot,
    /// flags, keywords, CRLF and LF messages, a message with no final newline, and an attachment.
    func makeMaildir(_ root: String, seed: Int = 0) throws {
        for folder in ["", ".Sent", ".Archive", ".Archive.2024", ".R&AOk-sum&AOk-", ".&ZeVnLIqe-.Notes", ".v1\\2e2"] {
            for sub in ["cur", "new", "tmp"] { try mkdir("\(root)/\(folder)/\(sub)") }
        }
        try write("\(root)/dovecot-keywords", "0 Work\n1 $Label1\n")
        try write("\(root)/subscriptions", "INBOX\nSent\nArchive.2024\n")
        var n = 0
        func msg(_ folder: String, _ info: String, _ body: String, crlf: Bool = false, newDir: Bool = false) throws {
            n += 1
            var text = "From: Person \(n) <p\(n)@example.com>\nTo: me@example.com\nSubject: Message \(n) seed \(seed)\nMessage-ID: <\(n).\(seed)@example.com>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n\(body)"
            if crlf { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
            let dir = newDir ? "new" : "cur"
            let name = "\(1_600_000_000 + n).M\(n)P\(seed).host\(newDir ? "" : ":2," + info)"
            try write("\(root)/\(folder)/\(dir)/\(name)", text, mtime: 1_500_000_000 + Int64(n) * 86_400)
        }
        try msg("", "S", "plain\n")
        try msg("", "FS", "flagged and seen\n", crlf: true)
        try msg("", "RSab", "answered with keywords\n")
        try msg("", "", "unread", newDir: false)
        try msg("", "", "brand new\n", newDir: true)
        try msg(".Sent", "PS", "forwarded\n")
        try msg(".Sent", "DS", "draft\n")
        try msg(".Archive.2024", "ST", "deleted flag\n")
        try msg(".R&AOk-sum&AOk-", "S", "unicode folder\n")
        try msg(".&ZeVnLIqe-.Notes", "Fa", "nested unicode\n")
        try msg(".v1\\2e2", "S", "dotted folder\n")
        let attachment = (0..<3000).map { _ in "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" }.joined(separator: "\n")
        try msg("", "S", "This is a multipart\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n\(attachment)\n--b--\n")
    }

    /// A directory store with two users, groupware and Sieve.
    func makeDirectoryStore(_ root: String) throws {
        try makeMaildir("\(root)/alice@example.com/Maildir", seed: 1)
        try makeMaildir("\(root)/bob@example.com/Maildir", seed: 2)
        try write("\(root)/alice@example.com/contacts/bob.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob-1\r\nFN:Bob Example\r\nEND:VCARD\r\n")
        try write("\(root)/alice@example.com/contacts/two.vcf", "BEGIN:VCARD\nVERSION:4.0\nUID:c1\nFN:Carol\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nUID:d1\nFN:Dan\nEND:VCARD\n")
        try write("\(root)/alice@example.com/contacts/broken.vcf", "BEGIN:VCARD\nVERSION:4.0\nFN:No End\n")
        try write("\(root)/alice@example.com/calendars/work/lunch.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Lunch\r\nDTSTART:20240101T120000Z\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Book table\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
        try write("\(root)/alice@example.com/calendars/home/empty-day.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e2\r\nSUMMARY:Rest\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        try write("\(root)/alice@example.com/sieve/filters.sieve", "require \"fileinto\";\nif header :contains \"subject\" \"report\" { fileinto \"Archive\"; }\n")
        try write("\(root)/alice@example.com/sieve/old.sieve", "keep;\n")
        try FileManager.default.createSymbolicLink(atPath: file("\(root)/alice@example.com/.dovecot.sieve"), withDestinationPath: "sieve/filters.sieve")
        try write("\(root)/alice@example.com/vacation.json", "{\"enabled\":true,\"subject\":\"Away\",\"body\":\"Back Monday\",\"days\":7}")
    }
}
