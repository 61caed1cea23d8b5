/// One script as LISTSCRIPTS names it (RFC 5804 section 2.7).
public struct ManageSieveScriptListing: Equatable, Sendable {
    public var name: String
    public var active: Bool
    public init(name: String, active: Bool) {
        self.name = name
        self.active = active
    }
}
