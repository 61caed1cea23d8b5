/// Why a server's bytes are not a ManageSieve response; `isLimit` when they went past a `ManageSieveLimits` bound.
public struct ManageSieveParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var isLimit: Bool
    init(_ message: String, limit: Bool = false) {
        self.message = message
        isLimit = limit
    }
    public var description: String { message }
}
