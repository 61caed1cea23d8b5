/// The personal namespace (RFC 2342): where the user's mailboxes live and how names are joined.
public struct IMAPNamespace: Sendable, Hashable {
    public var prefix: String
    public var separator: String?
    public init(prefix: String, separator: String?) {
        self.prefix = prefix
        self.separator = separator
    }
}
