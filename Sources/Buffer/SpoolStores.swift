import BufferSpool
import Foundation
import PostgresSpool

/// Opens the store a `[buffer] spool` value names: a PostgreSQL URL (`postgres://…`) opens the shared spool, any
/// other value is a directory and opens the file spool (taking its lock).
public enum SpoolStores {
    /// `serving`: a server, which keeps a shared spool's accepting cache fresh.
    public static func open(_ spool: String, passwordFile: String?, serving: Bool = false) throws -> any SpoolStore {
        try open(spool, passwordFile: passwordFile, serving: serving, incomingFiles: .spoolDirectory)
    }

    /// `incomingFiles` other than `.spoolDirectory` is for fault tests only (see `IncomingFiles`).
    package static func open(
        _ spool: String, passwordFile: String?, serving: Bool, incomingFiles: IncomingFiles
    ) throws -> any SpoolStore {
        if PostgresSpoolURL.isURL(spool) {
            return try PostgresSpool(spool: spool, passwordFile: passwordFile, serving: serving)
        }
        return try BufferSpool(directory: spool, incomingFiles: incomingFiles)
    }

    /// `open` for a server: a shared spool whose database cannot be reached is tried again (after 1 s, doubling
    /// up to 30 s, each wait logged) until it can, rather than given up. An MX host's buffer may come up before
    /// its database, and a service manager that restarts a failed start gives up after a few quick failures.
    /// Nothing listens meanwhile, so senders try again later or try another MX. A refused password, an unknown
    /// database or a bad URL still fail at once. Ends with `CancellationError` when the task is cancelled.
    static func openWaitingForTheDatabase(
        _ spool: String, passwordFile: String?, incomingFiles: IncomingFiles, log: (String) -> Void
    ) async throws -> any SpoolStore {
        var delay = Duration.seconds(1)
        while true {
            do {
                return try open(spool, passwordFile: passwordFile, serving: true, incomingFiles: incomingFiles)
            } catch let error as PostgresSpoolError {
                guard case .unreachable = error else { throw error }
                log("\(error); trying again in \(delay.components.seconds) s")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    public static func open(_ configuration: BufferConfiguration, serving: Bool = false) throws -> any SpoolStore {
        try open(configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile, serving: serving)
    }
}
