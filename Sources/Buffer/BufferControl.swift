import BufferSpool
import Foundation

/// The control protocol of a running buffer, spoken on the unix socket `control.sock` in the spool directory.
///
/// Why it exists: `BufferSpool` takes an exclusive lock for as long as it is open (recovery deletes files of
/// unfinished messages, so two processes must never open one spool), and the server keeps it open. So
/// `buffer status` and `buffer hold` ask the running server, which performs them on its spool: the spool stays
/// the single source of truth and a hold takes effect at once for the next RCPT. When no server runs (nobody
/// listens on the socket), the commands open the spool themselves.
///
/// One request per connection, one line: `status`, `hold USER` or `unhold USER`. One JSON `Response` back,
/// then the server closes. Access is that of the socket file (mode 0600, in the spool directory).
public enum BufferControl {
    public enum Request: Hashable, Sendable {
        case status
        case hold(String)
        case unhold(String)

        public var line: String {
            switch self {
            case .status: return "status"
            case .hold(let user): return "hold " + user
            case .unhold(let user): return "unhold " + user
            }
        }

        public init?(line: String) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count) {
            case ("status", 1): self = .status
            case ("hold", 2): self = .hold(parts[1])
            case ("unhold", 2): self = .unhold(parts[1])
            default: return nil
            }
        }
    }

    public struct Response: Codable, Sendable, Equatable {
        public var ok: Bool
        public var error: String?
        public var users: [UserStatus]?

        public init(ok: Bool, error: String? = nil, users: [UserStatus]? = nil) {
            self.ok = ok
            self.error = error
            self.users = users
        }
    }

    /// Longest request line accepted.
    static let maximumRequestLength = 4096

    public static func socketPath(spoolDirectory: String) -> String {
        (spoolDirectory as NSString).appendingPathComponent(BufferDefaults.controlSocketName)
    }

    /// Runs a request on an open spool: what the server does for a client, and what the commands do themselves
    /// when no server runs.
    public static func perform(_ request: Request, on spool: BufferSpool) -> Response {
        do {
            switch request {
            case .status:
                return Response(ok: true, users: try spool.status())
            case .hold(let user):
                try spool.hold(user: user)
                return Response(ok: true, users: try spool.status(user: user).map { [$0] })
            case .unhold(let user):
                try spool.unhold(user: user)
                return Response(ok: true, users: try spool.status(user: user).map { [$0] })
            }
        } catch {
            return Response(ok: false, error: String(describing: error))
        }
    }

    static func encode(_ response: Response) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(response)) ?? Data(#"{"ok":false,"error":"cannot encode the response"}"#.utf8)
        return Array(data) + [10]
    }

    static func decode(_ bytes: [UInt8]) throws -> Response {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(Response.self, from: Data(bytes))
    }
}
