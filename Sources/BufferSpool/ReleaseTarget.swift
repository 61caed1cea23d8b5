/// Where a user's held mail is released to, as recorded when the release begins.
public struct ReleaseTarget: Hashable, Codable, Sendable, CustomStringConvertible {
    public var direction: ReleaseDirection
    /// The connector URL or host the releaser delivers to (e.g. "lmtp://mx.example:24").
    public var address: String

    public init(direction: ReleaseDirection, address: String) {
        self.direction = direction
        self.address = address
    }

    public var description: String { "\(direction.rawValue) \(address)" }
}
