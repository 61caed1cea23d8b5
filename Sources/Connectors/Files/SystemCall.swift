#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims
import MailModel

/// The one place file system calls are made: each retries on `EINTR` and turns a failure into a
/// `SourceError` that names the call, the path and the system's reason.
enum SystemCall {
    /// Permissions for created directories and files; the process umask narrows them further.
    static let directoryMode: mode_t = 0o700
    static let fileMode: mode_t = 0o600
    /// Suffix of every staged file a target writes before renaming it; readers skip such leftovers.
    static let temporarySuffix = ".mailferry-tmp"

    static func error(_ operation: String, _ path: String, _ code: Int32) -> SourceError {
        SourceError(location: path, message: "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))")
    }

    /// Runs `call` until it does not fail with `EINTR`; -1 with any other errno becomes an error.
    @discardableResult
    static func retrying<T: FixedWidthInteger>(_ operation: String, _ path: String, _ call: () -> T)
        throws -> T
    {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code != EINTR { throw error(operation, path, code) }
        }
    }

    /// Like `retrying`, but gives the errno back instead of throwing for the codes in `expected`.
    static func retrying<T: FixedWidthInteger>(
        _ operation: String, _ path: String, allowing expected: Set<Int32>, _ call: () -> T
    ) throws -> Result<T, Errno> {
        while true {
            let result = call()
            if result != -1 { return .success(result) }
            let code = errno
            if code == EINTR { continue }
            if expected.contains(code) { return .failure(Errno(code: code)) }
            throw error(operation, path, code)
        }
    }

    struct Errno: Error, Equatable {
        var code: Int32
    }

    // MARK: Metadata

    /// `lstat`: nil when nothing is at `path`.
    static func lstatIfPresent(_ path: String) throws -> stat? {
        var info = stat()
        switch try retrying("lstat", path, allowing: [ENOENT, ENOTDIR], { lstat(path, &info) }) {
        case .success: return info
        case .failure: return nil
        }
    }

    static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
    static func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }
    static func isSymlink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }

    static func modificationDate(_ info: stat) -> InternalDate {
        InternalDate(epochSeconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int32(info.st_mtim.tv_nsec))
    }

    // MARK: Directories

    /// The names in a directory, without `.` and `..`, sorted by their bytes. Names that are not UTF-8 cannot be
    /// carried as `String` and are returned in `undecodable` (shown with replacement characters).
    static func listDirectory(_ path: String) throws -> (names: [String], undecodable: [String]) {
        guard let stream = opendir(path) else { throw error("opendir", path, errno) }
        defer { closedir(stream) }
        var names: [String] = []
        var undecodable: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno == 0 { break }
                if errno == EINTR { continue }
                throw error("readdir", path, errno)
            }
            let name: String? = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                let bytes = raw.prefix(while: { $0 != 0 })
                return String(validating: bytes, as: UTF8.self)
            }
            guard let name else {
                undecodable.append(withUnsafeBytes(of: &entry.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                })
                continue
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return (names, undecodable)
    }

    /// `mkdir -p`: creates `path` and missing parents. Returns the directories it created, outermost first,
    /// so that a caller can fsync their parents.
    @discardableResult
    static func makeDirectories(_ path: String) throws -> [String] {
        if let info = try lstatIfPresent(path) {
            if isDirectory(info) { return [] }
            throw SourceError(location: path, message: "exists but is not a directory")
        }
        var created: [String] = []
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty { created += try makeDirectories(parent) }
        switch try retrying("mkdir", path, allowing: [EEXIST], { mkdir(path, directoryMode) }) {
        case .success: created.append(path)
        case .failure: break  // another process made it meanwhile
        }
        return created
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    // MARK: Files

    static func openForReading(_ path: String) throws -> FileDescriptor {
        FileDescriptor(try retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }, path: path)
    }

    /// Creates a file that must not exist yet.
    static func createExclusive(_ path: String) throws -> FileDescriptor {
        FileDescriptor(
            try retrying("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, fileMode) },
            path: path)
    }

    /// Opens (creating if needed) a file that every write appends to.
    static func openForAppending(_ path: String) throws -> FileDescriptor {
        FileDescriptor(
            try retrying("open", path) { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, fileMode) },
            path: path)
    }

    /// Reads a whole small file; throws when it is longer than `limit`.
    static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let file = try openForReading(path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try file.read(into: &chunk)
            if count == 0 { break }
            bytes += chunk[..<count]
            if bytes.count > limit {
                throw SourceError(location: path, message: "longer than the \(limit) bytes allowed for this file")
            }
        }
        return bytes
    }

    /// Reads at most `limit` bytes from the start of a file.
    static func readPrefix(_ path: String, limit: Int) throws -> [UInt8] {
        let file = try openForReading(path)
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = try bytes.withUnsafeMutableBytes { (raw) throws -> Int in
                let start = raw.baseAddress! + filled
                return try retrying("read", path) { Glibc.read(file.raw, start, limit - filled) }
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[..<filled])
    }

    /// Writes a small file atomically: a temporary name in the same directory, then rename over `path`.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = "\(parentDirectory(of: path))/.\(lastComponent(of: path)).\(getpid())\(temporarySuffix)"
        _ = try? unlinkIfPresent(temporary)
        do {
            let file = try createExclusive(temporary)
            try bytes.withUnsafeBytes { (raw) throws in try file.writeAll(raw) }
            try file.close()
            try rename(temporary, to: path)
        } catch {
            _ = try? unlinkIfPresent(temporary)
            throw error
        }
    }

    static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func rename(_ from: String, to: String) throws {
        try retrying("rename to \(to)", from) { Glibc.rename(from, to) }
    }

    /// Returns false when nothing was there.
    @discardableResult
    static func unlinkIfPresent(_ path: String) throws -> Bool {
        switch try retrying("unlink", path, allowing: [ENOENT], { unlink(path) }) {
        case .success: return true
        case .failure: return false
        }
    }

    static func symlink(target: String, at path: String) throws {
        try retrying("symlink", path) { Glibc.symlink(target, path) }
    }

    /// The target of a symbolic link.
    static func readLink(_ path: String) throws -> String {
        /// Linux `PATH_MAX`: no link target is longer.
        let pathMax = 4096
        var buffer = [UInt8](repeating: 0, count: pathMax)
        let count = try buffer.withUnsafeMutableBytes { (raw) throws -> Int in
            try retrying("readlink", path) {
                Glibc.readlink(path, raw.baseAddress!.assumingMemoryBound(to: CChar.self), pathMax)
            }
        }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Flushes a file or directory to stable storage (a read-only descriptor is enough on Linux).
    static func fsyncPath(_ path: String) throws {
        let file = FileDescriptor(
            try retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }, path: path)
        try file.sync()
    }

    /// Makes everything written to the file system holding `path` durable, data and metadata, in one
    /// call: far cheaper than an fsync per file when an import has written thousands of messages.
    static func syncFileSystem(containing path: String) throws {
        let file = FileDescriptor(
            try retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }, path: path)
        _ = try retrying("syncfs", path) { mailferry_syncfs(file.raw) }
    }
}
