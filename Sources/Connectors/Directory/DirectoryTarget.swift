import MailModel

/// Writes a directory store in the layout `DirectorySource` reads (see `DirectoryLayout`), so that a store
/// moved through an archive into a new directory comes out as the same tree.
public struct DirectoryTarget: MailboxTarget {
    public let path: String
    /// See `ConnectorOptions.recordsPlacements`.
    public var recordsPlacements = true

    public init(path: String) {
        self.path = path
    }

    /// Creates `PATH/<address>/` (and `PATH`) if missing.
    public func open(user: UserInfo) throws -> any UserMailboxTarget {
        try DirectoryLayout.checkAddress(user.address, root: path)
        let target = try DirectoryUserTarget(home: "\(path)/\(user.address)")
        target.recordsPlacements = recordsPlacements
        return target
    }
}
