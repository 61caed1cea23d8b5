import Connectors
import Foundation
import MailModel
import SystemLayer
import Testing
import TestSupport

/// A delta's flag changes and moves go to the server as a few commands (one UID STORE per mailbox and flag set, one
/// UID MOVE per mailbox and destination), sent once the delta's lines are read. Whatever the grouping, the server
/// must end with exactly the flags and folders the delta gives each message, as Python's imaplib reads them, and the
/// same delta applied again must change nothing and say so.
@Suite(.serialized, .blocking) struct IMAPDeltaBatchedUpdatesTests {
    static let password = "batched-updates-pass-17"
    static let archiveID = String(repeating: "cd", count: 16)
    static let user = "batch@example.com"

    /// Flag sets the messages move between: system flags and keywords, several messages sharing each.
    static let flagSets: [(SystemFlags, [String])] = [
        ([], []), (.seen, []), ([.seen, .flagged], []), (.answered, ["$label1"]), ([.seen, .draft], ["$label2", "Work"]),
    ]
    static let mailboxes = ["INBOX", "Archive", "Moved"]

    /// Message `i`: at first in INBOX or Archive with flag set i % 3; the delta gives it flag set i % 5 and moves
    /// every seventh into Moved and every eleventh (not seventh) into the other of INBOX and Archive.
    static func firstFolder(_ i: Int) -> Int { i % 2 }
    static func wantedFolder(_ i: Int) -> Int { i % 7 == 0 ? 2 : i % 11 == 0 ? 1 - i % 2 : i % 2 }

    static func info(_ i: Int, flagSet: Int) -> MessageInfo {
        let (flags, keywords) = flagSets[flagSet]
        return MessageInfo(flags: flags, keywords: keywords, internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(i)))
    }

    /// Every message on the server as "folder subject flags" lines, sorted (flags sorted, \Recent left out).
    static func dump(_ server: DovecotIMAPServer) throws -> String {
        let script = #"""
import imaplib, re, ssl, sys
host, port, user, password, cafile = sys.argv[1:6]
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
m.login(user, password)
lines = []
for folder in sys.argv[6:]:
    typ, _ = m.select(folder, readonly=True)
    assert typ == "OK", folder
    typ, data = m.uid("SEARCH", None, "ALL")
    if not data[0]:
        continue
    flags, subjects = {}, {}
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    for item in data:
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        uid = re.search(r"UID (\d+)", text).group(1)
        found = re.search(r"FLAGS \(([^)]*)\)", text).group(1).split()
        flags[uid] = " ".join(sorted(f for f in found if f.lower() != "\\recent"))
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(r"UID (\d+)", item[0].decode()).group(1)
            subjects[uid] = item[1].decode().strip()
    for uid, subject in subjects.items():
        lines.append("%s %s [%s]" % (folder, subject, flags[uid]))
print("\n".join(sorted(lines)))
"""#
        let run = try ProcessRunner.run(
            tool: "python3",
            ["-c", script, "127.0.0.1", "\(server.imapPort)", user, password, server.caFile] + mailboxes)
        guard run.status == 0 else { throw DumpFailed(stderr: run.stderr) }
        return run.stdout
    }

    struct DumpFailed: Error {
        var stderr: String
    }

    static func expected(_ count: Int) -> String {
        (0..<count).map { i in
            let (flags, keywords) = flagSets[i % 5]
            return "\(mailboxes[wantedFolder(i)]) Subject: message \(i) [\((flags.names + keywords).sorted().joined(separator: " "))]"
        }.sorted().joined(separator: "\n") + "\n"
    }

    @Test func aDeltaReflaggingAndMovingManyMessagesLeavesTheSourcesFlagsAndChangesNothingTheSecondTime() throws {
        let server = try DovecotIMAPServer(users: [.init(Self.user, Self.password)])
        let journal = try TemporaryDirectory()
        let access = IMAPServerAccess(
            host: "127.0.0.1", port: server.imapPort, implicitTLS: false, caFile: server.caFile,
            credentials: try IMAPCredentials(text: "\(Self.user)\t\(Self.password)\n", origin: "test"))
        let count = 700  // more UIDs than one command names (`IMAPUIDSet.maxRangesPerCommand`) in one flag set
        do {
            var keys: [ItemKey] = []
            do {
                let target = try IMAPTarget(access: access, journalDirectory: journal.path, maxBadItems: 0).open(user: UserInfo(address: Self.user))
                let folders = try Self.mailboxes.map { try target.folder(FolderInfo(path: [$0])) }
                for i in 0..<count {
                    let bytes = Array("From: a@example.com\r\nSubject: message \(i)\r\n\r\nbody \(i)\r\n".utf8)
                    let key = ItemKey(archiveID: Self.archiveID, entryPath: "u/1/m/\(Self.firstFolder(i) + 1)/\(i + 1).eml", sha256: SHA256.hex(bytes), size: Int64(bytes.count))
                    #expect(try target.writeMessage(Self.info(i, flagSet: i % 3), inFolder: folders[Self.firstFolder(i)], key: key, body: MemoryBody(bytes), check: {}))
                    keys.append(key)
                }
                try target.finish(settings: UserSettings())
            }
            for pass in 0..<2 {
                let target = try IMAPTarget(access: access, journalDirectory: journal.path, maxBadItems: 0).open(user: UserInfo(address: Self.user))
                let delta = try #require(target as? any DeltaTarget)
                let folders = try Self.mailboxes.map { try target.folder(FolderInfo(path: [$0])) }
                var changed = 0
                for (i, key) in keys.enumerated() {
                    let update = try delta.updateMessage(key: key, info: Self.info(i, flagSet: i % 5), inFolder: folders[Self.wantedFolder(i)])
                    let differs = i % 3 != i % 5 || Self.wantedFolder(i) != Self.firstFolder(i)
                    #expect(update == (pass == 0 && differs ? .changed : .unchanged), "pass \(pass + 1), message \(i)")
                    if update == .changed { changed += 1 }
                }
                try target.finish(settings: UserSettings())
                #expect(pass == 1 || changed > count / 2, "pass \(pass + 1): \(changed) changed")
                let held = try Self.dump(server), wanted = Self.expected(count)
                let heldLines = held.split(separator: "\n"), wantedLines = wanted.split(separator: "\n")
                #expect(held == wanted,
                        "pass \(pass + 1): only on the server: \(heldLines.filter { !wantedLines.contains($0) }.prefix(10)); missing: \(wantedLines.filter { !heldLines.contains($0) }.prefix(10))")
            }
            // Dovecot answers UID MOVE with COPYUID: every move is recorded with the message's new UID.
            let file = try #require(try FileManager.default.contentsOfDirectory(atPath: journal.path + "/relocations").first)
            let record = try String(contentsOfFile: journal.path + "/relocations/" + file, encoding: .utf8)
            let moves = record.split(separator: "\n")
            let moved = (0..<count).filter { Self.wantedFolder($0) != Self.firstFolder($0) }.count
            #expect(moves.count == moved && moves.allSatisfy { $0.contains("\"uid\":") && $0.contains("\"uidValidity\":") }, "\(moves.prefix(3))")
        } catch {
            Issue.record("\(error)\n\(server.log)")
        }
    }
}
