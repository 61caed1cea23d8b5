/// A command as bytes to send, cut where a synchronizing literal must wait for the server's "+" (RFC 9051
/// section 4.3, 7.5).
public struct IMAPEncodedCommand: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case data([UInt8])
        /// Send nothing more until a continuation request arrives.
        case awaitContinuation
    }
    public var tag: String
    /// The command's name, for errors and logs; never its arguments.
    public var name: String
    public var parts: [Part]

    public init(tag: String, name: String, parts: [Part]) {
        self.tag = tag
        self.name = name
        self.parts = parts
    }

    /// All data parts joined (for tests and logs of commands without secrets).
    public var bytes: [UInt8] {
        parts.flatMap { part -> [UInt8] in
            if case .data(let bytes) = part { return bytes }
            return []
        }
    }

    /// How many continuation requests the command waits for.
    public var continuationsNeeded: Int {
        parts.filter { $0 == .awaitContinuation }.count
    }
}

/// Tags `A0001`, `A0002`, ...: distinct within a connection, which is all RFC 9051 section 2.2.1 asks.
public struct IMAPTagGenerator: Sendable {
    public let prefix: String
    var counter = 0
    public init(prefix: String = "A") { self.prefix = prefix }
    public mutating func next() -> String {
        counter += 1
        let digits = String(counter)
        return prefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

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
