import FerryArchive
import MailModel

/// An error from an operation, with the exit status it implies and a message for people.
public struct FerryError: ExitStatusError, Sendable {
    public var status: ExitStatus
    public var description: String
    public init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }

    public var exitStatus: ExitStatus { status }

    /// Any error an operation can throw, with the exit status it says it means (`ExitStatusError`), or an I/O error.
    public static func from(_ error: any Error) -> FerryError {
        if let e = error as? FerryError { return e }
        if let e = error as? any ExitStatusError { return FerryError(e.exitStatus, e.description) }
        return FerryError(.ioError, "\(error)")
    }
}

extension ArchiveError: ExitStatusError {
    public var exitStatus: ExitStatus {
        switch kind {
        case .verification, .format: .verificationFailed
        case .io: .ioError
        case .key: .usage
        }
    }
}

extension ReceiptError: ExitStatusError {
    public var exitStatus: ExitStatus { reason == .unreadable ? .ioError : .verificationFailed }
}
