import BufferSpool
import FerryArchive
import Foundation
import Receipts
import Reporting
import SystemLayer

/// A scratch directory with a spool holding mail for alice, station B's key and receipts.
final class ReleaseFixture {
    static let user = "alice@example.com"
    static let archiveID = "20240601-test-archive"

    let root: String
    var spoolDirectory: String { root + "/spool" }
    var keyPath: String { root + "/b.key.pem" }
    var publicPath: String { root + "/b.pub.pem" }
    let key: SigningKey
    /// What was stored, in arrival order.
    private(set) var held: [(message: HeldMessage, bytes: [UInt8])] = []

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("release-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        key = try SigningKey.generate()
        try AtomicReplace.write(key.privatePEM(), to: keyPath, mode: 0o600)
        try AtomicReplace.write(key.publicKey.publicPEM(), to: publicPath, mode: 0o644)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func file(_ relative: String) -> String { root + "/" + relative }

    /// Holds `user` and stores `count` messages for it (lines starting with "." and a final line without CRLF
    /// in some, to exercise dot-stuffing).
    func hold(_ count: Int, user: String = ReleaseFixture.user, sender: String = "sender@example.org") throws {
        let spool = try BufferSpool(directory: spoolDirectory)
        defer { try? spool.close() }
        try spool.hold(user: user)
        for i in 0..<count {
            let n = held.count + 1
            var text = "Received: from test by buffer.example.com; Sat, 1 Jun 2024 10:00:0\(n % 10) +0000\r\n"
                + "From: <\(sender)>\r\nTo: <\(user)>\r\nMessage-ID: <\(n)@example.org>\r\nSubject: held message \(n)\r\n\r\n"
                + "Line one of message \(n).\r\n.a line that starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n"
            text += String(repeating: "padding line \(i) for a longer body, more than one chunk maybe\r\n", count: 20 * (i + 1))
            if i % 2 == 1 { text += "no final line break" } else { text += "end\r\n" }
            let bytes = Array(text.utf8)
            let writer = try spool.openMessage(
                Envelope(sender: sender, recipients: [Recipient(address: user, user: user)], messageID: "<\(n)@example.org>"))
            try writer.append(bytes)
            held.append((try writer.commitAndWait(), bytes))
        }
    }

    /// A receipt signed by `signer` (station B's key unless given), written as `<dir>/<user>.receipt.json`.
    @discardableResult
    func receipt(
        user: String = ReleaseFixture.user, archiveID: String = ReleaseFixture.archiveID, verdict: ReconcileReport.Verdict = .pass,
        directory: String = "receipts", signer: SigningKey? = nil
    ) throws -> String {
        let signer = signer ?? key
        let r = Receipt(
            archiveID: archiveID, manifestSHA256: String(repeating: "ab", count: 32), archiveSignerKeyID: "0123456789abcdef",
            user: user, target: "dir:/srv/newmail", verdict: verdict,
            counts: ReceiptCounts(archive: Counts(), target: Counts(), matched: 0, missing: verdict == .pass ? 0 : 3, mismatched: 0, extra: 0),
            problems: verdict == .pass ? [] : ["folder INBOX: 3 missing at the target"],
            created: "2024-06-01T12:00:00Z", signerKeyID: try signer.publicKey.keyID)
        try FileManager.default.createDirectory(atPath: file(directory), withIntermediateDirectories: true)
        return try r.write(to: file(directory), key: signer)
    }

    /// The spool file of a held message (found by its bytes).
    func spoolFile(of index: Int) throws -> String {
        let dir = spoolDirectory + "/messages"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            if Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) == held[index].bytes { return dir + "/" + name }
        }
        throw CocoaError(.fileNoSuchFile)
    }

    func state(_ user: String = ReleaseFixture.user) throws -> UserStatus? {
        let spool = try BufferSpool(directory: spoolDirectory)
        defer { try? spool.close() }
        return try spool.status(user: user)
    }
}

/// Every regular file under `directory`'s cur/ and new/, with its bytes and modification time.
func maildirMessages(_ directory: String) throws -> [(name: String, bytes: [UInt8], mtime: Date)] {
    var out: [(String, [UInt8], Date)] = []
    for sub in ["cur", "new"] {
        let dir = directory + "/" + sub
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
        for name in names.sorted() {
            let path = dir + "/" + name
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            out.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: path))), attributes[.modificationDate] as! Date))
        }
    }
    return out
}
