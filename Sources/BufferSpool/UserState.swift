/// Where a migrating user stands. See format-spec/buffer-spool.md for the allowed transitions.
public enum UserState: String, Codable, Sendable, CaseIterable {
    /// Mail for the user is accepted and held.
    case holding
    /// Held mail is being delivered to the release target; new mail is still accepted and held.
    case releasing
    /// Every held message was delivered to the migration target.
    case released
    /// Every held message was delivered back to the source (undo).
    case reverted
    /// Done; mail for the user is no longer accepted.
    case closed

    /// States in which the server may accept mail for the user (if it is also in the migration set).
    public var acceptsMail: Bool { self == .holding || self == .releasing }
}
