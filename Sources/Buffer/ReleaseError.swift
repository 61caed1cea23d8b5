import BufferSpool
import MailModel

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
        /// Another release (or linger pass) of the same user runs now, on this host or another sharing the spool.
        case running
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
            case .running: return .usage
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
}

extension ReleaseError: ExitStatusError {
    public var exitStatus: ExitStatus { status }
}

extension SpoolError: ExitStatusError {
    /// A change the user's state does not allow now is 2, a spool that cannot be used 3.
    public var exitStatus: ExitStatus { isRefusedStateChange ? .usage : .ioError }
}

extension LMTPClientError: ExitStatusError {
    public var exitStatus: ExitStatus { .ioError }
}

extension ConfigurationError: ExitStatusError {
    public var exitStatus: ExitStatus { .usage }
}
