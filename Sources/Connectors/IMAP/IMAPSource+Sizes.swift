import IMAPClient
import MailModel

/// What an export estimate asks an IMAP server, without fetching a mailbox: per folder the messages and their
/// RFC822.SIZE (one `UID FETCH 1:*` of metadata, what the export fetches first anyway), and the bodies of a few
/// chosen messages to measure the server's speed and the mail's compression.
extension IMAPSource {
    /// One folder: its name on the server, its path, and every message's UID and size.
    public struct FolderSizes: Sendable {
        public var mailbox: String
        public var path: [String]
        public var messages: [(uid: UInt32, size: Int64)]
    }

    /// Every selectable folder of `user` with its messages' sizes.
    public func folderSizes(user: String) throws -> [FolderSizes] {
        let session = IMAPSession(access: access, user: user)
        session.onRetry = onNotice
        defer { session.close() }
        let (naming, listings) = try session.run("LIST") { c in (try Self.naming(c), try c.listMailboxes()) }
        var result: [FolderSizes] = []
        for listing in listings where !listing.attributes.contains("\\noselect") && !listing.attributes.contains("\\nonexistent") {
            let name = listing.name
            let summaries = try session.run("FETCH sizes in \(name)") { c -> [IMAPMessageSummary] in
                let selected = try session.select(name, readOnly: true, on: c)
                return selected.exists == 0 ? [] : try c.fetchSummaries(uids: 1...UInt32.max)
            }
            result.append(FolderSizes(mailbox: name, path: naming.path(ofMailbox: name), messages: summaries.map { ($0.uid, $0.size) }))
        }
        return result.sorted { $0.path.lexicographicallyPrecedes($1.path) }
    }

    /// Fetches the bodies of `uids` in `mailbox` (BODY.PEEK[], so nothing is marked seen) and hands each over whole.
    public func fetchSample(user: String, mailbox: String, uids: [UInt32], _ each: ([UInt8]) throws -> Void) throws {
        guard !uids.isEmpty else { return }
        let session = IMAPSession(access: access, user: user)
        session.onRetry = onNotice
        defer { session.close() }
        try session.run("FETCH sample in \(mailbox)") { c in
            _ = try session.select(mailbox, readOnly: true, on: c)
            try c.fetchBodies(uids: uids) { _, body in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(Int(body.byteCount))
                try body.stream { bytes.append(contentsOf: $0) }
                try each(bytes)
            }
        }
    }
}
