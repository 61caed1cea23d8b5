/// A command as bytes to send, cut where a synchronizing literal must wait for the server's "+" (RFC 9051
/// section 4.3, 7.5).
public struct IMAPEncodedCommand: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case data([UInt8])
        /// Send nothing more until a continuation request arrives.
        case awaitContinuation
        /// The bytes of message `index` of a MULTIAPPEND go here (they are the caller's, not the encoder's).
        case messageBytes(Int)
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
