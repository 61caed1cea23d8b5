import MailModel

/// Why a receipt was refused: the reason as a value (for tests and scripts) and a sentence naming the file.
public struct ReceiptError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable {
        /// No receipt file.
        case missing
        /// The receipt has no signature file.
        case unsigned
        /// The signature does not verify with the trusted key, or names another signer.
        case badSignature
        /// Not a version-1 MailFerry receipt.
        case malformed
        case unreadable
        /// The receipt is for another user.
        case wrongUser
        /// The receipt is for another archive than the user's migration.
        case wrongArchive
        /// The target did not hold everything the archive held.
        case failingVerdict
    }

    public var reason: Reason
    public var path: String
    public var message: String

    public init(_ reason: Reason, path: String, _ message: String) {
        self.reason = reason
        self.path = path
        self.message = message
    }

    public var description: String { "receipt \(path) \(message) (\(reason.rawValue))" }
}

extension ReceiptError: ExitStatusError {
    /// Every refusal is a verification failure (exit 1), except a file that cannot be read (exit 3).
    public var exitStatus: ExitStatus { reason == .unreadable ? .ioError : .verificationFailed }
}
