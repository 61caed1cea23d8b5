import BufferSpool
import Connectors
import MailModel

/// Delivers held mail into a `dir:` or `maildir:` target through the connectors: each message becomes a new INBOX
/// message (no flags, internal date = arrival time) under an `ItemKey` made of the spool's identity and the
/// message's sequence number. The Maildir writer names the file after the key, so writing the same key again adds
/// nothing: delivery is exactly once even across a crash.
final class DeliveryMailbox: DeliveryTarget {
    let address: String
    let spoolID: String
    private let target: any UserMailboxTarget
    private let inbox: Int
    var recognisesDeliveries: Bool { true }

    init(url: ConnectorURL, user: String, spoolID: String, options: ConnectorOptions) throws {
        address = url.description
        self.spoolID = spoolID
        let info = UserInfo(address: user)
        switch url {
        case .directory(let path): target = try DirectoryTarget(path: path).open(user: info)
        case .maildir(let path): target = try MaildirTarget(path: path)
        case .mbox: throw FerryError(.usage, "mbox: is a source only")
        case .sieve: throw FerryError(.usage, "sieve:// holds Sieve scripts, not mail; deliver into imap(s)://, maildir: or dir:")
        case .dav: throw FerryError(.usage, "davs:// holds contacts and calendars, not mail; deliver into imap(s)://, maildir: or dir:")
        case .imap:
            // The IMAP target's journal (in the spool) recognises each key again, and looks up on the server a
            // message whose APPEND outcome a crash left unknown: exactly once, as for the directory targets.
            target = try url.target(users: [user], options: options).open(user: info)
        }
        inbox = try target.folder(FolderInfo(path: ["INBOX"], specialUse: "\\Inbox", subscribed: true))
    }

    /// The key a held message is delivered under: unique per spool and message.
    static func itemKey(spoolID: String, message: HeldMessage) -> ItemKey {
        ItemKey(archiveID: "buffer-\(spoolID)", entryPath: "msg/\(message.id.rawValue)", sha256: message.sha256, size: message.size)
    }

    func deliver(_ message: HeldMessage, user: String, from spool: any SpoolStore) throws -> Bool {
        let date = message.receivedAt.timeIntervalSince1970
        let seconds = date.rounded(.down)
        let info = MessageInfo(
            flags: [], internalDate: InternalDate(epochSeconds: Int64(seconds), nanoseconds: Int32((date - seconds) * 1e9)),
            messageID: message.envelope.messageID)
        let body = SpoolBody(spool: spool, message: message)
        // The spool checks the hash while streaming; the check closure has nothing more to do, because
        // readMessage throws (and the writer discards the staged file) before a damaged message is complete.
        let wrote = try target.writeMessage(info, inFolder: inbox, key: Self.itemKey(spoolID: spoolID, message: message), body: body, check: {})
        try target.finish(settings: UserSettings())  // fsync: durable before the journal says delivered
        return wrote
    }

    func close() {}
}

/// A held message's bytes as a connector item body, read (and re-hashed) from the spool.
struct SpoolBody: ItemBody {
    let spool: any SpoolStore
    let message: HeldMessage
    var byteCount: Int64 { message.size }
    var origin: String { "buffer spool message \(message.id)" }
    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try spool.readMessage(message.id, consume)
    }
}
