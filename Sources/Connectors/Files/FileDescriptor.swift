#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel

/// Owns one open file descriptor and closes it when released, so no path can leak it.
final class FileDescriptor {
    private(set) var raw: Int32
    let path: String

    init(_ raw: Int32, path: String) {
        self.raw = raw
        self.path = path
    }

    deinit {
        // Errors from a close nobody waited for cannot be reported; `close()` is for callers that care.
        if raw >= 0 { _ = Glibc.close(raw) }
    }

    /// Closes now and reports the error (a write-back failure on some file systems shows only here).
    /// The descriptor is gone afterwards even when close fails: retrying close on Linux is never right.
    func close() throws {
        let descriptor = raw
        raw = -1
        if Glibc.close(descriptor) == -1, errno != EINTR {
            throw SystemCall.error("close", path, errno)
        }
    }

    func status() throws -> stat {
        var info = stat()
        try SystemCall.retrying("fstat", path) { fstat(raw, &info) }
        return info
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    func read(into buffer: inout [UInt8]) throws -> Int {
        let descriptor = raw
        return try buffer.withUnsafeMutableBytes { (bytes) throws -> Int in
            try SystemCall.retrying("read", path) { Glibc.read(descriptor, bytes.baseAddress!, bytes.count) }
        }
    }

    /// Writes all of `bytes`, continuing after short writes.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let descriptor = raw
            let written = try SystemCall.retrying("write", path) {
                Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            offset += written
        }
    }

    /// Sets access and modification times, to the nanosecond.
    func setTimes(_ date: InternalDate) throws {
        let time = timespec(tv_sec: time_t(date.epochSeconds), tv_nsec: Int(date.nanoseconds))
        var times = (time, time)
        let descriptor = raw
        let path = self.path
        try withUnsafePointer(to: &times) { pair in
            try pair.withMemoryRebound(to: timespec.self, capacity: 2) { first in
                _ = try SystemCall.retrying("futimens", path) { futimens(descriptor, first) }
            }
        }
    }

    func sync() throws {
        let descriptor = raw
        try SystemCall.retrying("fsync", path) { fsync(descriptor) }
    }
}
