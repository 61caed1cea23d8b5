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

    public static func open(_ configuration: BufferConfiguration, serving: Bool = false) throws -> any SpoolStore {
        try open(configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile, serving: serving)
    }
}
