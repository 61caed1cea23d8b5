/// What the server said to CHECKSCRIPT or PUTSCRIPT: accepted (with any warnings, RFC 5804 `WARNINGS`), or
/// refused with its reason (a script it cannot run, a quota) and the connection still usable.
public enum ManageSieveOutcome: Equatable, Sendable {
    case accepted(warnings: String?)
    case refused(reason: String, code: String?)
}
