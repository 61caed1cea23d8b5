import SystemLayer

extension SpoolError {
    /// A failed system call in the spool: ENOSPC and EDQUOT become `insufficientStorage` (answered 452)
    /// wherever they happen, anything else `io`.
    init(_ system: SystemError) {
        self = .fromErrno(system.code, operation: system.operation, path: system.path)
    }

    /// Runs `body`, turning a `SystemError` into a `SpoolError`.
    @discardableResult
    static func io<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as SystemError { throw SpoolError(error) }
    }
}
