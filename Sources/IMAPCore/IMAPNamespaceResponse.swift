/// namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace (RFC 2342, RFC 9051)
public struct IMAPNamespaceResponse: Sendable, Hashable {
    public struct Description: Sendable, Hashable {
        public var prefix: String
        public var separator: Character?
        public init(prefix: String, separator: Character?) {
            self.prefix = prefix
            self.separator = separator
        }
    }
    public var personal: [Description]
    public var otherUsers: [Description]
    public var shared: [Description]
    public init(personal: [Description], otherUsers: [Description], shared: [Description]) {
        self.personal = personal
        self.otherUsers = otherUsers
        self.shared = shared
    }
}
