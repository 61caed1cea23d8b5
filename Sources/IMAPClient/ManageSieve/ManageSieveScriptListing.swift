/// One script as LISTSCRIPTS names it (RFC 5804 section 2.7).
public struct ManageSieveScriptListing: Equatable, Sendable {
    public var name: String
    public var active: Bool
    public init(name: String, active: Bool) {
        self.name = name
        self.active = active
    }
}

/// What the server said to CHECKSCRIPT or PUTSCRIPT: accepted (with any warnings, RFC 5804 `WARNINGS`), or
/// refused with its reason (a script it cannot run, a quota) and the connection still usable.
public enum ManageSieveOutcome: Equatable, Sendable {
    case accepted(warnings: String?)
    case refused(reason: String, code: String?)
}
