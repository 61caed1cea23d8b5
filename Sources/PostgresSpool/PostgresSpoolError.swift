import BufferSpool
import MailModel

/// What opening a shared spool can refuse. Failures of the database once open are `SpoolError.database` (451 to
/// SMTP clients), named with the URL (never a password).
public enum PostgresSpoolError: Error, Equatable, Sendable, CustomStringConvertible, ExitStatusError {
    case invalidURL(reason: String)
    case passwordFile(path: String, reason: String)
    /// The database has a schema newer than this program knows.
    case newerSchema(found: Int, known: Int)
    /// No connection could be made (the server is down, starting, or not reachable), as opposed to one the
    /// database refused (a password, an unknown database): worth trying again.
    case unreachable(url: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): return "[buffer] spool: the PostgreSQL URL \(reason)"
        case .passwordFile(let path, let reason): return "spool password file \(path): \(reason)"
        case .newerSchema(let found, let known):
            return "the spool database has schema version \(found); this mailferry knows up to \(known): upgrade mailferry"
        case .unreachable(let url, let reason): return "the spool database \(url) cannot be reached: \(reason)"
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .invalidURL: return .usage
        default: return .ioError
        }
    }
}
