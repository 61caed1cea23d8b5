/// OK, NO, BAD in tagged and untagged responses; PREAUTH and BYE only untagged.
public enum IMAPStatus: String, Sendable, Hashable {
    case ok = "OK", no = "NO", bad = "BAD", preauth = "PREAUTH", bye = "BYE"
}
