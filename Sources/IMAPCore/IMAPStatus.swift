/// OK, NO, BAD in tagged and untagged responses; PREAUTH and BYE only untagged.
public enum IMAPStatus: String, Sendable, Hashable {
    case ok = "OK"
    case no = "NO"
    case bad = "BAD"
    case preauth = "PREAUTH"
    case bye = "BYE"
}
