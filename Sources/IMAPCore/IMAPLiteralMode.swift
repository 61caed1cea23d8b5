/// How string arguments that need a literal are written, from the server's capabilities.
public enum IMAPLiteralMode: Sendable, Hashable {
    /// `{n}` CRLF, then wait for "+".
    case synchronizing
    /// RFC 7888 LITERAL+: `{n+}` for any size.
    case nonSynchronizing
    /// RFC 7888 LITERAL- (and IMAP4rev2): `{n+}` up to 4096 octets, synchronizing above.
    case nonSynchronizingUpTo4096

    public init(capabilities: Set<String>) {
        if capabilities.contains("LITERAL+") {
            self = .nonSynchronizing
        } else if capabilities.contains("LITERAL-") || capabilities.contains("IMAP4REV2") {
            self = .nonSynchronizingUpTo4096
        } else {
            self = .synchronizing
        }
    }

    public func isNonSynchronizing(size: Int64) -> Bool {
        switch self {
        case .synchronizing: false
        case .nonSynchronizing: true
        case .nonSynchronizingUpTo4096: size <= 4096
        }
    }
}
