#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: which call, on which path, and the errno it set. Domain errors wrap it and
/// word it for their users (`ConnectorError`, `SpoolError`, `ArchiveError`).
public struct SystemError: Error, Equatable, Sendable {
    /// The call, as users see it: "open", "write", "rename to /x/y".
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, _ path: String, _ code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The system's text for `code` (`strerror`).
    public var reason: String { String(cString: strerror(code)) }
}

extension SystemError: CustomStringConvertible {
    public var description: String { "\(path): \(operation) failed: \(reason) (errno \(code))" }
}
