/// Where a migrating user stands. See format-spec/buffer-spool.md for the allowed transitions.
public enum UserState: String, Codable, Sendable, CaseIterable {
    /// Mail for the user is accepted and held.
    case holding
    /// Held mail is being delivered to the release target; new mail is still accepted and held.
    case releasing
    /// Every held message was delivered to the migration target. Mail still in transit is accepted and passed
    /// on to the same target (the buffer lingers) until the user is closed.
    case released
    /// Every held message was delivered back to the source (undo); lingers like `released`.
    case reverted
    /// Done; mail for the user is no longer accepted.
    case closed

    /// States in which the server may accept mail for the user (if it is also in the migration set).
    public var acceptsMail: Bool { self != .closed }

    /// Released or reverted: mail accepted now is passed straight on to where the user was released.
    public var lingers: Bool { self == .released || self == .reverted }
}
