#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place system calls are made: retries on EINTR, turns -1 into an `ArchiveError` naming
/// the call, the path and the errno text.
enum Syscall {
    static func check<T: BinaryInteger>(_ what: String, _ path: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw ArchiveError(.io, path, "\(what) failed: \(String(cString: strerror(code)))")
        }
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        try check("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Writes all of `buffer`, continuing after short writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let n = try check("write", path) { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            offset += n
        }
    }

    /// Reads up to `count` bytes at `offset`; returns fewer only at end of file.
    static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try check("read", path) {
                Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func fsync(_ fd: Int32, path: String) throws {
        _ = try check("fsync", path) { Glibc.fsync(fd) }
    }

    static func rename(_ from: String, _ to: String) throws {
        _ = try check("rename to \(to)", from) { Glibc.rename(from, to) }
    }

    /// fsyncs the directory holding `path`, so that a rename into it survives a crash.
    static func fsyncDirectory(of path: String) throws {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = try open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: dir)
    }

    static func fileSize(_ fd: Int32, path: String) throws -> Int64 {
        var info = stat()
        _ = try check("fstat", path) { fstat(fd, &info) }
        return Int64(info.st_size)
    }
}

/// An open file descriptor that closes itself.
final class OwnedFile {
    let fd: Int32
    let path: String

    init(path: String, flags: Int32, mode: mode_t = 0o644) throws {
        self.fd = try Syscall.open(path, flags, mode)
        self.path = path
    }

    deinit { close(fd) }

    var size: Int64 { get throws { try Syscall.fileSize(fd, path: path) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try Syscall.writeAll(fd, bytes, path: path) }
    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try Syscall.pread(fd, buffer, at: offset, path: path)
    }

    /// Reads exactly `count` bytes at `offset`, or throws a format error saying the file is too short.
    func read(count: Int, at offset: Int64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        if got != count {
            throw ArchiveError(.format, path, "truncated: wanted \(count) bytes at offset \(offset), file ends after \(got)")
        }
        return bytes
    }

    func sync() throws { try Syscall.fsync(fd, path: path) }
}
