/// resp-text-code (RFC 9051 section 7.1, RFC 4315 UIDPLUS, RFC 5530, RFC 7162, RFC 8474); codes this client
/// does not act on are kept raw.
public enum IMAPResponseCode: Sendable, Hashable {
    case alert
    /// RFC 4315: `APPENDUID uidvalidity uid-set`; `uids` holds the set as sent, `uid` its first UID.
    case appendUID(uidValidity: UInt32, uid: UInt32, uids: String)
    /// RFC 4315: `COPYUID uidvalidity source-uids destination-uids`, sets kept as sent.
    case copyUID(uidValidity: UInt32, source: String, destination: String)
    case uidValidity(UInt32)
    case uidNext(UInt32)
    case unseen(UInt32)
    case permanentFlags([String])
    case capability([String])
    case readOnly
    case readWrite
    case tryCreate
    /// RFC 5530
    case alreadyExists
    case nonExistent
    /// RFC 8474 `MAILBOXID (id)`
    case mailboxID(String)
    /// RFC 7162
    case highestModSeq(UInt64)
    case noModSeq
    /// Any other code: its atom uppercased and the rest up to `]` as sent.
    case other(String, String?)

    public var name: String {
        switch self {
        case .alert: "ALERT"
        case .appendUID: "APPENDUID"
        case .copyUID: "COPYUID"
        case .uidValidity: "UIDVALIDITY"
        case .uidNext: "UIDNEXT"
        case .unseen: "UNSEEN"
        case .permanentFlags: "PERMANENTFLAGS"
        case .capability: "CAPABILITY"
        case .readOnly: "READ-ONLY"
        case .readWrite: "READ-WRITE"
        case .tryCreate: "TRYCREATE"
        case .alreadyExists: "ALREADYEXISTS"
        case .nonExistent: "NONEXISTENT"
        case .mailboxID: "MAILBOXID"
        case .highestModSeq: "HIGHESTMODSEQ"
        case .noModSeq: "NOMODSEQ"
        case .other(let name, _): name
        }
    }
}
