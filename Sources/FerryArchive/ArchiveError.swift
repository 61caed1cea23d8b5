import MailModel

/// Everything that can go wrong reading, writing or checking an archive, with where it went wrong.
///
/// `kind` decides the exit status the command line gives: a `verification` failure means the archive
/// is not what its signer made (exit 1); `io` means a file or system call failed (exit 3); `format`
/// means the bytes are not a MailFerry archive this version can read (exit 1: it cannot be trusted).
public struct ArchiveError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case verification
        case format
        case io
        case key
    }

    public var kind: Kind
    /// A file, an entry path, a frame number: where to look.
    public var location: String
    public var message: String

    public init(_ kind: Kind, _ location: String, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
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
