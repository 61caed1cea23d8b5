import FerryArchive
import MailModel

/// How a command ends, mapped to the exit codes the command line documents.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// The archive failed verification, or the target does not hold what the archive holds.
    case verificationFailed = 1
    case usage = 2
    /// A file, system call or server failed.
    case ioError = 3
}

/// An error from an operation, with the exit status it implies and a message for people.
public struct FerryError: Error, CustomStringConvertible, Sendable {
    public var status: ExitStatus
    public var description: String
    public init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }

    /// Classifies any error an operation can throw.
    public static func from(_ error: any Error) -> FerryError {
        switch error {
        case let e as FerryError: return e
        case let e as ArchiveError:
            switch e.kind {
            case .verification, .format: return FerryError(.verificationFailed, e.description)
            case .io: return FerryError(.ioError, e.description)
            case .key: return FerryError(.usage, e.description)
            }
        case let e as SourceError: return FerryError(.ioError, e.description)
        default: return FerryError(.ioError, "\(error)")
        }
    }
}
