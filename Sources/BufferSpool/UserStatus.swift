import Foundation

/// One line of `mailferry buffer status`.
public struct UserStatus: Hashable, Codable, Sendable {
    public var user: String
    public var state: UserState
    /// In the migration set: the server accepts mail for this user (while the state allows it).
    public var inMigrationSet: Bool
    /// Messages with a recipient mapped to this user and not yet delivered for this user.
    public var heldCount: Int
    public var heldBytes: Int64
    public var oldestArrival: Date?
    public var newestArrival: Date?
    public var releaseTarget: ReleaseTarget?
    /// When the user was first put in the migration set.
    public var createdAt: Date
    public var stateChangedAt: Date

    package init(user: String, state: UserState, inMigrationSet: Bool, heldCount: Int, heldBytes: Int64, oldestArrival: Date?, newestArrival: Date?, releaseTarget: ReleaseTarget?, createdAt: Date, stateChangedAt: Date) {
        self.user = user
        self.state = state
        self.inMigrationSet = inMigrationSet
        self.heldCount = heldCount
        self.heldBytes = heldBytes
        self.oldestArrival = oldestArrival
        self.newestArrival = newestArrival
        self.releaseTarget = releaseTarget
        self.createdAt = createdAt
        self.stateChangedAt = stateChangedAt
    }
}
