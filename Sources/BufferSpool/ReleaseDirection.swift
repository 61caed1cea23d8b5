/// Which way held mail goes when released.
public enum ReleaseDirection: String, Codable, Sendable {
    /// To the migration target (after the import was verified).
    case target
    /// Back to the source (undo); finishing it leaves the user `reverted`.
    case source
}
