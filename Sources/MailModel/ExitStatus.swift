/// How a command ends: the exit codes the command line documents (README, "Commands").
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// The archive failed verification, or the target does not hold what the archive holds.
    case verificationFailed = 1
    /// The command line, the configuration or the state of things does not allow this now.
    case usage = 2
    /// A file, system call or server failed.
    case ioError = 3
}

/// An error that says which exit status it means, the way Hummingbird's `HTTPResponseError` says its HTTP status:
/// each error type decides its own, so a new one cannot fall through a central switch. Errors that do not conform
/// end a command with `ioError`.
public protocol ExitStatusError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}
