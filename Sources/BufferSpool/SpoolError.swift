#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

/// Everything the spool can refuse or fail at. Each case names what failed and where; descriptions never carry
/// message content.
public enum SpoolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file system (or SQLite's database file) is full: ENOSPC, EDQUOT or SQLITE_FULL. The server answers
    /// 452 4.3.1; nothing of the message is kept.
    case insufficientStorage(path: String)
    /// A system call failed for another reason.
    case io(operation: String, path: String, errno: Int32, reason: String)
    /// The SQLite database failed (anything but "full").
    case database(path: String, reason: String)
    /// Another process holds the spool's lock file.
    case locked(path: String)
    /// The spool was closed (or is closing) and takes no more work.
    case closed
    /// A recipient maps to a user who is not in the migration set, or whose state no longer accepts mail.
    case userNotHeld(user: String)
    /// The user has never been put in the migration set.
    case unknownUser(user: String)
    /// No committed message has this id, or it has no recipient for that user.
    case unknownMessage(id: MessageID)
    /// A user state change that the state machine does not allow.
    case invalidTransition(user: String, from: UserState, to: UserState)
    /// `beginRelease` while a release to a different target is under way.
    case releaseTargetConflict(user: String, recorded: ReleaseTarget, requested: ReleaseTarget)
    /// `finishRelease` while messages for the user are not yet delivered to the release target.
    case undeliveredMessagesRemain(user: String, count: Int)
    /// The envelope is not acceptable (no recipients, too many, empty user name).
    case invalidEnvelope(reason: String)
    /// `append`/`commit` on a writer that was committed, aborted or failed already.
    case writerNotOpen
    /// The file of a committed message is gone. It must not be delivered; report it.
    case fileMissing(id: MessageID, path: String)
    /// The bytes on disk do not hash to the SHA-256 recorded at commit (or their length differs).
    /// The message must not be delivered.
    case hashMismatch(
        id: MessageID, path: String, expected: String, actual: String, expectedSize: Int64, actualSize: Int64)
    /// `markDelivering`/`markDelivered` for a message already recorded as delivered to that target.
    case alreadyDelivered(id: MessageID, user: String, target: String)
    /// A delivery was recorded for a user who is not `releasing`.
    case notReleasing(user: String, state: UserState)
    /// `markDelivered` without a preceding `markDelivering` for that message, user and target.
    case notDelivering(id: MessageID, user: String, target: String)

    public var description: String {
        switch self {
        case .insufficientStorage(let path):
            return "insufficient storage writing \(path): free space on the spool's file system, then retry"
        case .io(let operation, let path, let code, let reason):
            return "\(operation) failed on \(path): \(reason) (errno \(code))"
        case .database(let path, let reason):
            return "spool database \(path): \(reason)"
        case .locked(let path):
            return "spool is in use by another process (lock \(path) is held); stop the other buffer first"
        case .closed:
            return "the spool is closed"
        case .userNotHeld(let user):
            return "user \(user) is not held by the buffer (not in the migration set, or released)"
        case .unknownUser(let user):
            return "user \(user) is unknown to the spool (check --user and the configuration's spool); add it with hold first"
        case .unknownMessage(let id):
            return "no held message \(id) (for that user)"
        case .invalidTransition(let user, let from, let to):
            let hint: String
            switch (from, to) {
            case (.holding, .closed), (.releasing, .closed): hint = " (a user is closed after its release or undo has delivered the held mail)"
            case (.closed, _): hint = " (the user's migration is over; hold it again to start another)"
            default: hint = ""
            }
            return "user \(user) cannot go from \(from.rawValue) to \(to.rawValue)\(hint)"
        case .releaseTargetConflict(let user, let recorded, let requested):
            return "user \(user) is already releasing to \(recorded), not \(requested)"
        case .undeliveredMessagesRemain(let user, let count):
            return "user \(user) still has \(count) message(s) not delivered to the release target"
        case .invalidEnvelope(let reason):
            return "invalid envelope: \(reason)"
        case .writerNotOpen:
            return "the message writer was already committed, aborted or failed"
        case .fileMissing(let id, let path):
            return "message \(id): its spool file \(path) is missing; it cannot be delivered"
        case .hashMismatch(let id, let path, let expected, let actual, let expectedSize, let actualSize):
            return "message \(id): spool file \(path) is corrupt (SHA-256 \(actual), \(actualSize) bytes; "
                + "committed \(expected), \(expectedSize) bytes); it must not be delivered"
        case .alreadyDelivered(let id, let user, let target):
            return "message \(id) for \(user) is already recorded as delivered to \(target)"
        case .notReleasing(let user, let state):
            return "user \(user) is \(state.rawValue), not releasing; begin the release first"
        case .notDelivering(let id, let user, let target):
            return "message \(id) for \(user) has no delivery attempt recorded for \(target)"
        }
    }

    /// A change the user's state does not allow now (exit status 2, "not allowed now"), as opposed to a spool
    /// that cannot be used (3).
    public var isRefusedStateChange: Bool {
        switch self {
        case .invalidTransition, .releaseTargetConflict, .notReleasing, .userNotHeld, .unknownUser: return true
        default: return false
        }
    }

    /// The one place errno values become spool errors. ENOSPC and EDQUOT are "insufficient storage" (452).
    static func fromErrno(_ code: Int32, operation: String, path: String) -> SpoolError {
        switch code {
        case ENOSPC, EDQUOT:
            return .insufficientStorage(path: path)
        default:
            return .io(operation: operation, path: path, errno: code, reason: String(cString: strerror(code)))
        }
    }

    /// Maps whatever GRDB or the file layer threw. SQLITE_FULL is "insufficient storage" too.
    static func from(_ error: any Error, databasePath: String) -> SpoolError {
        if let spoolError = error as? SpoolError { return spoolError }
        if let databaseError = error as? DatabaseError {
            if databaseError.resultCode == .SQLITE_FULL { return .insufficientStorage(path: databasePath) }
            return .database(path: databasePath, reason: databaseError.description)
        }
        return .database(path: databasePath, reason: String(describing: error))
    }
}
