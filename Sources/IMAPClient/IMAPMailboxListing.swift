/// One mailbox from LIST.
public struct IMAPMailboxListing: Sendable, Hashable {
    /// Decoded from modified UTF-7.
    public var name: String
    /// As sent by the server.
    public var wireName: String
    public var separator: String?
    /// Lowercased: `\noselect`, `\haschildren`, `\subscribed`, `\sent`, ...
    public var attributes: Set<String>
    /// RFC 6154 special use, capitalized as in the RFC: `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`,
    /// `\All`, `\Flagged`.
    public var specialUse: String?
    public var subscribed: Bool
    public init(
        name: String, wireName: String, separator: String?, attributes: Set<String>, specialUse: String?,
        subscribed: Bool
    ) {
        self.name = name
        self.wireName = wireName
        self.separator = separator
        self.attributes = attributes
        self.specialUse = specialUse
        self.subscribed = subscribed
    }
    public var isSelectable: Bool { !attributes.contains("\\noselect") && !attributes.contains("\\nonexistent") }
}
