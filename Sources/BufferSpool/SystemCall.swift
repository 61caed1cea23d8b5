#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place the spool makes system calls: retries on EINTR and maps errno through
/// `SpoolError.fromErrno` (so ENOSPC becomes `insufficientStorage` wherever it happens).
enum SystemCall {
    static func check<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SpoolError.fromErrno(code, operation: operation, path: path)
        }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        try check("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    static func rename(_ from: String, to: String) throws {
        _ = try check("rename to \(to)", from) { Glibc.rename(from, to) }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func unlinkIfPresent(_ path: String) throws {
        while Glibc.unlink(path) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return }
            throw SpoolError.fromErrno(code, operation: "unlink", path: path)
        }
    }

    static func makeDirectory(_ path: String) throws {
        while Glibc.mkdir(path, 0o700) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EEXIST { return }
            throw SpoolError.fromErrno(code, operation: "mkdir", path: path)
        }
    }

    /// fsyncs a directory, so that entries created, renamed or removed in it survive a crash.
    static func syncDirectory(_ path: String) throws {
        let directory = try SpoolFile(directoryAt: path)
        try directory.sync()
    }

    /// Size of a regular file, nil if it does not exist.
    static func fileSize(_ path: String) throws -> Int64? {
        var info = stat()
        while Glibc.lstat(path, &info) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw SpoolError.fromErrno(code, operation: "lstat", path: path)
        }
        return Int64(info.st_size)
    }

    /// Names in a directory, without "." and "..".
    static func listDirectory(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else {
            throw SpoolError.fromErrno(errno, operation: "opendir", path: path)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
