import IMAPClient
import IMAPCore

extension IMAPError {
    /// A failure of the connection rather than of the command: a new connection may well succeed (a dropped link,
    /// a server restarting, a server saying `[UNAVAILABLE]` while it comes up, RFC 5530).
    var isCuredByReconnecting: Bool {
        switch kind {
        case .connect, .timeout, .closed, .unusable: return true
        case .commandFailed: return responseCode?.name.uppercased() == "UNAVAILABLE"
        case .tls, .protocolViolation, .limitExceeded, .plaintextRefused, .invalidArgument: return false
        }
    }
}
