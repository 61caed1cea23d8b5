#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor for reading, closed when the object goes away. Reads are positional
/// (`pread`), so one file can serve several readers without a shared seek position.
public final class ReadOnlyFile: Sendable {
    public let path: String
    let descriptor: Int32

    /// Opens `path` for reading; throws `SourceError` with the path and the system's reason.
    public init(path: String) throws {
        self.path = path
        var opened: Int32
        repeat { opened = open(path, O_RDONLY | O_CLOEXEC) } while opened < 0 && errno == EINTR
        guard opened >= 0 else { throw Self.error(path, "cannot open") }
        descriptor = opened
    }

    deinit { close(descriptor) }

    /// The file's current size and modification time.
    public func status() throws -> (size: Int64, modified: InternalDate) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.error(path, "cannot stat") }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return (Int64(info.st_size), InternalDate(epochSeconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec)))
    }

    /// Up to `count` bytes from `offset`; fewer only at the end of the file.
    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let got = pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw Self.error(path, "cannot read at offset \(offset + Int64(filled))")
                }
                if got == 0 { break }
                filled += got
            }
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    static func error(_ path: String, _ what: String) -> SourceError {
        let code = errno
        return SourceError(location: path, message: "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }
}
