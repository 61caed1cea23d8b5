#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one file descriptor; closes it on deinit. Writes and reads go through `SystemCall`.
final class SpoolFile {
    let path: String
    private var descriptor: Int32

    /// Creates a new file for writing; fails if the name exists.
    init(creatingAt path: String) throws {
        self.path = path
        descriptor = try SystemCall.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
    }

    init(readingAt path: String) throws {
        self.path = path
        descriptor = try SystemCall.open(path, O_RDONLY)
    }

    /// Opens any path for writing without creating it (tests use /dev/full).
    init(writingExisting path: String) throws {
        self.path = path
        descriptor = try SystemCall.open(path, O_WRONLY)
    }

    init(directoryAt path: String) throws {
        self.path = path
        descriptor = try SystemCall.open(path, O_RDONLY | O_DIRECTORY)
    }

    deinit { close() }

    var isOpen: Bool { descriptor >= 0 }

    /// Writes all of `bytes`, continuing after short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else { throw SpoolError.writerNotOpen }
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let fd = descriptor
            let written = try SystemCall.check("write", path) { Glibc.write(fd, base + offset, bytes.count - offset) }
            offset += written
        }
    }

    /// Reads up to `buffer.count` bytes; returns fewer only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let fd = descriptor
            let count = try SystemCall.check("read", path) { Glibc.read(fd, base + done, buffer.count - done) }
            if count == 0 { break }
            done += count
        }
        return done
    }

    func sync() throws {
        let fd = descriptor
        _ = try SystemCall.check("fsync", path) { Glibc.fsync(fd) }
    }

    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
