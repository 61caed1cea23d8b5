#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place system calls are made: each retries on `EINTR` and turns a failure into a `SystemError`
/// that names the call, the path and the errno.
public enum SystemCall {
    /// Runs `call` until it does not fail with `EINTR`; a negative result with any other errno becomes an error.
    @discardableResult
    public static func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T)
        throws(SystemError) -> T
    {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SystemError(operation, path, code) }
        }
    }

    /// Like `retrying`, but gives the errno back instead of throwing for the codes in `expected`.
    public static func retrying<T: BinaryInteger>(
        _ operation: String, _ path: String, allowing expected: Set<Int32>, _ call: () -> T
    ) throws(SystemError) -> Result<T, Errno> {
        while true {
            let result = call()
            if result >= 0 { return .success(result) }
            let code = errno
            if code == EINTR { continue }
            if expected.contains(code) { return .failure(Errno(code: code)) }
            throw SystemError(operation, path, code)
        }
    }

    /// An errno a caller expected and handles itself.
    public struct Errno: Error, Equatable, Sendable {
        public var code: Int32
        public init(code: Int32) { self.code = code }
    }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(SystemError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Writes all of `buffer`, continuing after short writes.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(SystemError) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            offset += try retrying("write", path) { Glibc.write(fd, base + offset, buffer.count - offset) }
        }
    }

    /// Reads until `buffer` is full or the file ends; returns fewer bytes only at end of file.
    public static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, path: String) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = try retrying("read", path) { Glibc.read(fd, base + done, buffer.count - done) }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns fewer only at end of file.
    public static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
        throws(SystemError) -> Int
    {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = try retrying("read", path) {
                Glibc.pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    public static func fsync(_ fd: Int32, path: String) throws(SystemError) {
        try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    public static func rename(_ from: String, to: String) throws(SystemError) {
        try retrying("rename to \(to)", from) { Glibc.rename(from, to) }
    }

    /// A second name for a file; fails with EEXIST when `to` exists, which makes it an exclusive create of a file
    /// already written (a lock file that appears whole, with its owner and mode).
    public static func link(_ from: String, to: String) throws(SystemError) {
        try retrying("link to \(to)", from) { Glibc.link(from, to) }
    }

    /// Removes a file; returns false when nothing was there.
    @discardableResult
    public static func unlinkIfPresent(_ path: String) throws(SystemError) -> Bool {
        switch try retrying("unlink", path, allowing: [ENOENT], { Glibc.unlink(path) }) {
        case .success: return true
        case .failure: return false
        }
    }

    /// The directory holding `path` ("." for a bare name, "/" for a name at the root).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// fsyncs a directory, so that entries created, renamed or removed in it survive a crash.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor(opening: path, O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }
}
