#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel
import SystemLayer

extension ConnectorError {
    /// A failed system call, worded as the connectors word it: "<call> failed: <reason> (errno N)".
    init(_ system: SystemError) {
        self.init(location: system.path, message: "\(system.operation) failed: \(system.reason) (errno \(system.code))")
    }

    /// Runs `body`, turning a `SystemError` into a `ConnectorError`.
    @discardableResult
    static func io<T>(_ body: () throws(SystemError) -> T) throws(ConnectorError) -> T {
        do { return try body() } catch { throw ConnectorError(error) }
    }
}

/// The file operations the file-based connectors share, over the system layer, with failures worded as
/// `ConnectorError`s that name the call, the path and the system's reason.
enum FileSystem {
    /// Permissions for created directories and files; the process umask narrows them further.
    static let directoryMode: mode_t = 0o700
    static let fileMode: mode_t = 0o600
    /// Suffix of every staged file a target writes before renaming it; readers skip such leftovers.
    static let temporarySuffix = ".mailferry-tmp"

    // MARK: Metadata

    /// `lstat`: nil when nothing is at `path`.
    static func lstatIfPresent(_ path: String) throws(ConnectorError) -> stat? {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.lstatIfPresent(path) }
    }

    static func isDirectory(_ info: stat) -> Bool { SystemCall.isDirectory(info) }
    static func isRegular(_ info: stat) -> Bool { SystemCall.isRegular(info) }
    static func isSymlink(_ info: stat) -> Bool { SystemCall.isSymlink(info) }

    static func modificationDate(_ info: stat) -> InternalDate {
        InternalDate(epochSeconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int32(info.st_mtim.tv_nsec))
    }

    // MARK: Directories

    /// The names in a directory, without `.` and `..`, sorted by their bytes. Names that are not UTF-8 cannot be
    /// carried as `String` and are returned in `undecodable` (shown with replacement characters).
    static func listDirectory(_ path: String) throws(ConnectorError) -> (names: [String], undecodable: [String]) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.listDirectory(path) }
    }

    /// Each name's bytes, in the directory's order (`SystemCall.forEachName`).
    static func forEachName(in path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.forEachName(in: path, body) }
    }

    /// `mkdir -p`: creates `path` and missing parents. Returns the directories it created, outermost first,
    /// so that a caller can fsync their parents.
    @discardableResult
    static func makeDirectories(_ path: String) throws(ConnectorError) -> [String] {
        if let info = try lstatIfPresent(path) {
            if isDirectory(info) { return [] }
            throw ConnectorError(location: path, message: "exists but is not a directory")
        }
        var created: [String] = []
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty { created += try makeDirectories(parent) }
        let made = try ConnectorError.io { () throws(SystemError) in
            try SystemCall.retrying("mkdir", path, allowing: [EEXIST]) { mkdir(path, directoryMode) }
        }
        if case .success = made { created.append(path) }  // EEXIST: another process made it meanwhile
        return created
    }

    static func parentDirectory(of path: String) -> String { SystemCall.parentDirectory(of: path) }

    /// Removes a directory and everything under it, without following symbolic links.
    static func removeTree(_ path: String) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.removeTree(path) }
    }

    // MARK: Files

    static func openForReading(_ path: String) throws(ConnectorError) -> FileDescriptor {
        try ConnectorError.io { () throws(SystemError) in try FileDescriptor(opening: path, O_RDONLY | O_NOFOLLOW) }
    }

    /// Creates a file that must not exist yet.
    static func createExclusive(_ path: String) throws(ConnectorError) -> FileDescriptor {
        try ConnectorError.io { () throws(SystemError) in
            try FileDescriptor(opening: path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: fileMode)
        }
    }

    /// Opens (creating if needed) a file that every write appends to.
    static func openForAppending(_ path: String) throws(ConnectorError) -> FileDescriptor {
        try ConnectorError.io { () throws(SystemError) in
            try FileDescriptor(opening: path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, mode: fileMode)
        }
    }

    /// Reads a whole small file; throws when it is longer than `limit`.
    static func readFile(_ path: String, limit: Int) throws(ConnectorError) -> [UInt8] {
        let file = try openForReading(path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try ConnectorError.io { () throws(SystemError) in try file.readSome(into: &chunk) }
            if count == 0 { break }
            bytes += chunk[..<count]
            if bytes.count > limit {
                throw ConnectorError(location: path, message: "longer than the \(limit) bytes allowed for this file")
            }
        }
        return bytes
    }

    /// Reads at most `limit` bytes from the start of a file.
    static func readPrefix(_ path: String, limit: Int) throws(ConnectorError) -> [UInt8] {
        guard let prefix = try readPrefixIfPresent(path, limit: limit) else {
            throw ConnectorError(SystemError("open", path, ENOENT))
        }
        return prefix
    }

    /// `readPrefix`, nil when there is no file at `path` (another process may remove it at any moment).
    static func readPrefixIfPresent(_ path: String, limit: Int) throws(ConnectorError) -> [UInt8]? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor(opening: path, O_RDONLY | O_NOFOLLOW)
        } catch where error.code == ENOENT {
            return nil
        } catch {
            throw ConnectorError(error)
        }
        var bytes = [UInt8](repeating: 0, count: limit)
        let filled = try ConnectorError.io { () throws(SystemError) in
            try bytes.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try file.readFully(into: raw) } }.get()
        }
        return Array(bytes[..<filled])
    }

    /// Writes a small file atomically: a temporary name in the same directory, then rename over `path`.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(ConnectorError) {
        let temporary = "\(parentDirectory(of: path))/.\(lastComponent(of: path)).\(getpid())\(temporarySuffix)"
        _ = try? unlinkIfPresent(temporary)
        do {
            let file = try createExclusive(temporary)
            try ConnectorError.io { () throws(SystemError) in
                try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try file.writeAll(raw) } }.get()
                try file.close()
            }
            try rename(temporary, to: path)
        } catch {
            _ = try? unlinkIfPresent(temporary)
            throw error
        }
    }

    static func lastComponent(of path: String) -> String { SystemCall.lastComponent(of: path) }

    static func rename(_ from: String, to: String) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.rename(from, to: to) }
    }

    /// Returns false when nothing was there.
    @discardableResult
    static func unlinkIfPresent(_ path: String) throws(ConnectorError) -> Bool {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.unlinkIfPresent(path) }
    }

    static func symlink(target: String, at path: String) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.symlink(target: target, at: path) }
    }

    /// The target of a symbolic link.
    static func readLink(_ path: String) throws(ConnectorError) -> String {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.readLink(path) }
    }

    /// Gives what this process created at `path` the owner, group and permission bits of `model`, a directory of the
    /// tree it writes into (files get its mode without execute bits), when `model` is another user's: a mail
    /// server running as the mail user must read and change what an import run as root wrote into its Maildir.
    static func adopt(_ path: String, like model: stat?) throws(ConnectorError) {
        guard let model, model.st_uid != geteuid() || model.st_gid != getegid() else { return }
        try ConnectorError.io { () throws(SystemError) in
            let file = try FileDescriptor(opening: path, O_RDONLY | O_NOFOLLOW)
            var like = model
            if !SystemCall.isDirectory(try file.status()) { like.st_mode &= 0o666 }
            try file.takeOwnershipAndMode(of: like)
            try file.close()
        }
    }

    /// Flushes a file or directory to stable storage (a read-only descriptor is enough on Linux).
    static func fsyncPath(_ path: String) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.fsyncPath(path) }
    }

    /// Makes everything written to the file system holding `path` durable, data and metadata, in one
    /// call: far cheaper than an fsync per file when an import has written thousands of messages.
    static func syncFileSystem(containing path: String) throws(ConnectorError) {
        try ConnectorError.io { () throws(SystemError) in try SystemCall.syncFileSystem(containing: path) }
    }
}
