import MailModel

/// A mailbox name as the server sent it and as people read it. RFC 9051 section 5.1.3: names on the wire are in
/// modified UTF-7 (unless UTF8=ACCEPT is enabled); a name that does not decode is kept as sent.
public struct IMAPMailboxName: Sendable, Hashable, CustomStringConvertible {
    /// The bytes of the name as the server sent them, read as UTF-8.
    public var wire: String
    /// The decoded name.
    public var name: String

    public init(wire: String) {
        self.wire = wire
        self.name = (try? ModifiedUTF7.decode(wire)) ?? wire
    }

    public init(decoded name: String) {
        self.name = name
        self.wire = ModifiedUTF7.encode(name)
    }

    public var isInbox: Bool { wire.uppercased() == "INBOX" }
    public var description: String { name }
}
