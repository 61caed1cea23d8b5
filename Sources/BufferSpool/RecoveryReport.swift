/// What opening the spool found and did. Empty after a clean shutdown.
public struct RecoveryReport: Hashable, Sendable {
    /// Temporary files in `incoming/` (a writer was cut off before commit): deleted.
    public var discardedIncoming: [String] = []
    /// Files in `messages/` with no committed row (cut off between rename and the SQLite commit, so the
    /// client never got its 250): deleted.
    public var discardedUncommitted: [String] = []
    /// Committed messages whose file is gone: kept in the database, never delivered (reading them throws
    /// `fileMissing`). Each one is mail lost after 250 and must be reported to an operator.
    public var missingFiles: [MessageID] = []
    /// Committed messages whose file has a different length than committed: never delivered (reading
    /// throws `hashMismatch`).
    public var wrongSize: [MessageID] = []
    /// Names in `messages/` or `incoming/` that the spool never creates: left alone.
    public var unknownFiles: [String] = []

    public var isClean: Bool {
        discardedIncoming.isEmpty && discardedUncommitted.isEmpty && missingFiles.isEmpty && wrongSize.isEmpty
            && unknownFiles.isEmpty
    }
}
