/// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]
public struct IMAPListResponse: Sendable, Hashable {
    /// As sent, for example `\HasNoChildren`, `\Sent`.
    public var attributes: [String]
    public var separator: Character?
    public var mailbox: IMAPMailboxName
    /// LIST-EXTENDED items (RFC 5258), for example `CHILDINFO`: tag uppercased, value skipped.
    public var extendedItems: [String]
    public init(attributes: [String], separator: Character?, mailbox: IMAPMailboxName, extendedItems: [String] = []) {
        self.attributes = attributes
        self.separator = separator
        self.mailbox = mailbox
        self.extendedItems = extendedItems
    }
}
