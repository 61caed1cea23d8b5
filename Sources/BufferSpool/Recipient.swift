/// One RCPT TO of a message and the migrating user it maps to.
public struct Recipient: Hashable, Codable, Sendable {
    /// The forward-path as received (without angle brackets).
    public var address: String
    /// The migrating user the server mapped this address to; must be in the migration set.
    public var user: String

    public init(address: String, user: String) {
        self.address = address
        self.user = user
    }
}
