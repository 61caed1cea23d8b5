import BufferSpool
import Connectors
import Foundation
import MailModel

/// The control protocol of a running buffer, spoken on the unix socket `control.sock` in the spool directory.
///
/// Why it exists: `BufferSpool` takes an exclusive lock for as long as it is open (recovery deletes files of
/// unfinished messages, so two processes must never open one spool), and the server keeps it open. So
/// `buffer status` and `buffer hold` ask the running server, which performs them on its spool: the spool stays
/// the single source of truth and a hold takes effect at once for the next RCPT. When no server runs (nobody
/// listens on the socket), the commands open the spool themselves.
///
/// One request per connection, one line: `status`, `hold USER`, `unhold USER`, `close USER`, or `release JSON`
/// (a `ReleaseJob.Parameters` object). One JSON `Response` back, then the server closes. A release whose parameters
/// ask for progress (`reportsProgress`) gets `{"progress":{...}}` lines (`ReleaseProgress`) before the response. Access
/// is that of the socket file (mode 0600, in the spool directory).
public enum BufferControl {
    public enum Request: Hashable, Sendable {
        case status
        case hold(String)
        case unhold(String)
        case close(String)
        case release(ReleaseJob.Parameters)

        public var line: String {
            switch self {
            case .status: return "status"
            case .hold(let user): return "hold " + user
            case .unhold(let user): return "unhold " + user
            case .close(let user): return "close " + user
            case .release(let parameters):
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return "release " + String(decoding: (try? encoder.encode(parameters)) ?? Data(), as: UTF8.self)
            }
        }

        public init?(line: String) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count) {
            case ("status", 1): self = .status
            case ("hold", 2): self = .hold(parts[1])
            case ("unhold", 2): self = .unhold(parts[1])
            case ("close", 2): self = .close(parts[1])
            case ("release", 2):
                guard let p = try? JSONDecoder().decode(ReleaseJob.Parameters.self, from: Data(parts[1].utf8)) else { return nil }
                self = .release(p)
            default: return nil
            }
        }
    }

    public struct Response: Codable, Sendable, Equatable {
        public var ok: Bool
        public var error: String?
        /// The exit status the error implies (`ExitStatus`), so a command asking the server exits as if it ran alone.
        public var exitStatus: Int32?
        public var users: [UserStatus]?
        public var release: ReleaseReport?

        public init(ok: Bool, error: String? = nil, exitStatus: Int32? = nil, users: [UserStatus]? = nil, release: ReleaseReport? = nil) {
            self.ok = ok
            self.error = error
            self.exitStatus = exitStatus
            self.users = users
            self.release = release
        }
    }

    /// Longest request line accepted.
    static let maximumRequestLength = 4096

    public static func socketPath(spoolDirectory: String) -> String {
        (spoolDirectory as NSString).appendingPathComponent(BufferDefaults.controlSocketName)
    }

    /// Runs a request on an open spool: what the server does for a client, and what the commands do themselves
    /// when no server runs.
    public static func perform(
        _ request: Request, on spool: any SpoolStore, delivery: ConnectorOptions, progress: ((ReleaseProgress) -> Void)? = nil
    ) -> Response {
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
            case .close(let user):
                try spool.close(user: user)
                return Response(ok: true, users: try spool.status(user: user).map { [$0] })
            case .release(let parameters):
                var job = ReleaseJob(parameters: parameters, spoolDirectory: spool.location)
                job.deliveryOptions = delivery
                job.onProgress = progress
                let report = try job.run(on: spool)
                return Response(ok: true, release: report)
            }
        } catch {
            let failure = FerryError.from(error)
            return Response(ok: false, error: failure.description, exitStatus: failure.status.rawValue)
        }
    }

    static func encode(_ response: Response) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(response)) ?? Data(#"{"ok":false,"error":"cannot encode the response"}"#.utf8)
        return Array(data) + [10]
    }

    /// One progress line of a release (see the type's comment).
    static func encode(_ progress: ReleaseProgress) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(["progress": progress])) ?? Data()
        return Array(data) + [10]
    }

    /// The progress a line carries, or nil when the line is not a progress line (it is the response).
    static func decodeProgress(_ line: some Collection<UInt8>) -> ReleaseProgress? {
        guard line.starts(with: Array(#"{"progress":"#.utf8)) else { return nil }
        return (try? JSONDecoder().decode([String: ReleaseProgress].self, from: Data(line)))?["progress"]
    }

    static func decode(_ bytes: [UInt8]) throws -> Response {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(Response.self, from: Data(bytes))
    }
}
