/// A source could not be read, or a target written, at all: names where (a path, `PATH:LINE`, a server and
/// folder) and what. Unlike a `SourceProblem`, which is a warning, it ends the user's export or import (exit 3).
/// Sources, targets and the credentials file they log in with all throw it, hence the connector's name.
public struct ConnectorError: ExitStatusError, Hashable, Sendable {
    public var location: String
    public var message: String
    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { "\(location): \(message)" }
    public var exitStatus: ExitStatus { .ioError }
}
