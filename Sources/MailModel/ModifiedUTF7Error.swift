/// A mailbox name that is not valid modified UTF-7 (RFC 3501 section 5.1.3).
public struct ModifiedUTF7Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// The whole name as it was given, so a person can find the folder.
    public var name: String
    /// Offset in bytes of the problem inside `name`.
    public var offset: Int
    public var reason: String

    public init(name: String, offset: Int, reason: String) {
        self.name = name
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "mailbox name \"\(name)\" is not modified UTF-7 at byte \(offset): \(reason)" }
}
