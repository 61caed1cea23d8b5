/// A user being moved, named by mail address.
public struct UserInfo: Hashable, Sendable, Codable {
    public var address: String
    public init(address: String) { self.address = address }
}

/// A kind of item the archive carries, used for counts and entry names.
public enum ItemKind: String, Sendable, Codable, CaseIterable {
    case message
    case contact
    case calendarItem = "calendar-item"
    case sieveScript = "sieve"
}
