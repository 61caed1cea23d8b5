import BufferSpool
import FerryKit

/// Why `buffer release` refused or stopped; each names the reason and what to do.
public struct ReleaseError: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable {
        /// The receipt was refused (see `ReceiptError.Reason`).
        case receipt
        /// A receipt was not checked: --trust is missing.
        case untrusted
        /// Undo while the source still forwards to the buffer.
        case forwardingOn
        /// Messages could not be delivered (damaged, refused); the others were.
        case undelivered
        /// The spool is locked by a running server.
        case spoolBusy
        /// A release asked for what contradicts the one already started (another target address).
        case conflict

        /// The documented exit status (README, "Commands"): a check that failed is 1; a state change not
        /// allowed now (or a missing option it needs) is 2, since running it again as it stands cannot succeed
        /// until the operator changes something; a spool or server that cannot be used is 3.
        public var status: ExitStatus {
            switch self {
            case .receipt, .undelivered: return .verificationFailed
            case .untrusted, .forwardingOn, .conflict: return .usage
            case .spoolBusy: return .ioError
            }
        }
    }

    public var reason: Reason
    public var status: ExitStatus
    public var message: String

    public init(_ reason: Reason, status: ExitStatus? = nil, _ message: String) {
        self.reason = reason
        self.status = status ?? reason.status
        self.message = message
    }

    public var description: String { message }
    public var ferryError: FerryError { FerryError(status, message) }
}

extension ReleaseError {
    /// Maps whatever release, receipts, the spool, LMTP or the configuration threw to the documented exit codes:
    /// a refused receipt and undelivered mail 1; usage and state changes the user's state does not allow now
    /// (close while holding, undo while the forwarding is on, a release to another target) 2; I/O, spool and
    /// server errors 3.
    public static func ferryError(from error: any Error) -> FerryError {
        switch error {
        case let e as ReleaseError: return e.ferryError
        case let e as ReceiptError: return e.ferryError
        case SpoolError.unknownUser(let user):
            return FerryError(.usage, "\(SpoolError.unknownUser(user: user)) (check --user and the configuration's spool)")
        case let e as SpoolError where e.isRefusedStateChange:
            return FerryError(.usage, e.description)
        case let e as SpoolError: return FerryError(.ioError, e.description)
        case let e as LMTPClientError: return FerryError(.ioError, e.description)
        case let e as ConfigurationError: return FerryError(.usage, e.description)
        default: return FerryError.from(error)
        }
    }
}
