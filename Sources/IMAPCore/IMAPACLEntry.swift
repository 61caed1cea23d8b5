/// One identifier's rights in an ACL response (RFC 4314 section 3.6).
public struct IMAPACLEntry: Sendable, Hashable {
    public var identifier: String
    public var rights: String
    public init(identifier: String, rights: String) {
        self.identifier = identifier
        self.rights = rights
    }
}
