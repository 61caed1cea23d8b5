#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one open file descriptor and closes it when released, so no path can leak it.
public final class FileDescriptor {
    public private(set) var raw: Int32
    public let path: String

    /// Takes ownership of an open descriptor.
    public init(_ raw: Int32, path: String) {
        self.raw = raw
        self.path = path
    }

    /// Opens `path` (always with `O_CLOEXEC`).
    public convenience init(opening path: String, _ flags: Int32, mode: mode_t = 0o600) throws(SystemError) {
        self.init(try SystemCall.open(path, flags, mode: mode), path: path)
    }

    deinit {
        // Errors from a close nobody waited for cannot be reported; `close()` is for callers that care.
        if raw >= 0 { _ = Glibc.close(raw) }
    }

    public var isOpen: Bool { raw >= 0 }

    /// Closes now and reports the error (a write-back failure on some file systems shows only here).
    /// The descriptor is gone afterwards even when close fails: retrying close on Linux is never right.
    public func close() throws(SystemError) {
        let descriptor = raw
        guard descriptor >= 0 else { return }
        raw = -1
        if Glibc.close(descriptor) == -1, errno != EINTR {
            throw SystemError("close", path, errno)
        }
    }

    /// Closes now, ignoring any error.
    public func closeQuietly() {
        if raw >= 0 {
            _ = Glibc.close(raw)
            raw = -1
        }
    }

    public func status() throws(SystemError) -> stat {
        var info = stat()
        let descriptor = raw
        try SystemCall.retrying("fstat", path) { fstat(descriptor, &info) }
        return info
    }

    public var size: Int64 { get throws(SystemError) { Int64(try status().st_size) } }

    /// Reads up to `buffer.count` bytes with one read; 0 means end of file.
    public func readSome(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        let descriptor = raw
        return try SystemCall.retrying("read", path) { Glibc.read(descriptor, base, buffer.count) }
    }

    /// Reads until `buffer` is full; returns fewer bytes only at end of file.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try SystemCall.readFully(raw, buffer, path: path)
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns fewer only at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try SystemCall.pread(raw, buffer, at: offset, path: path)
    }

    /// Writes all of `bytes`, continuing after short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        try SystemCall.writeAll(raw, bytes, path: path)
    }

    public func sync() throws(SystemError) {
        try SystemCall.fsync(raw, path: path)
    }

    /// Gives this file the owner, group and permission bits of `model` (a file it replaces), so that another
    /// program reading that file (a server running as another user) can read this one. A change of owner that the
    /// process may not make is left out: then the file stays the process's, with the mode.
    public func takeOwnershipAndMode(of model: stat) throws(SystemError) {
        let descriptor = raw
        if fchown(descriptor, model.st_uid, model.st_gid) != 0, errno != EPERM {
            throw SystemError("fchown", path, errno)
        }
        try SystemCall.retrying("fchmod", path) { fchmod(descriptor, model.st_mode & 0o7777) }
    }
}
