import SystemLayer

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

extension FerryError {
    /// A failed system call as the operations word it for people: the path, the call and the reason, no errno.
    public init(_ system: SystemError) {
        self.init(.ioError, "\(system.path): \(system.operation) failed: \(system.reason)")
    }

    /// Runs `body` (an `AtomicReplace.write`, say), turning a `SystemError` into a `FerryError`; other errors
    /// pass through as they are.
    public static func io<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SystemError {
            throw FerryError(error)
        }
    }
}
