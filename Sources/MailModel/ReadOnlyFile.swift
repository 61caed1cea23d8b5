#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemLayer

/// An open file descriptor for reading, closed when the object goes away. Reads are positional
/// (`pread`), so one file can serve several readers without a shared seek position. Its system calls go through
/// the system layer; its failures are `ConnectorError`s worded for the mbox reader.
public final class ReadOnlyFile: Sendable {
    public let path: String
    let descriptor: Int32

    /// Opens `path` for reading; throws `ConnectorError` with the path and the system's reason.
    public init(path: String) throws {
        self.path = path
        do {
            descriptor = try SystemCall.open(path, O_RDONLY)
        } catch {
            throw Self.error(path, "cannot open", error)
        }
    }

    deinit { close(descriptor) }

    /// The file's current size and modification time.
    public func status() throws -> (size: Int64, modified: InternalDate) {
        var info = stat()
        let descriptor = self.descriptor
        do {
            try SystemCall.retrying("fstat", path) { fstat(descriptor, &info) }
        } catch {
            throw Self.error(path, "cannot stat", error)
        }
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
        let descriptor = self.descriptor
        let path = self.path
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let got: Int
                do {
                    got = try SystemCall.retrying("pread", path) {
                        pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                    }
                } catch let error as SystemError {
                    throw Self.error(path, "cannot read at offset \(offset + Int64(filled))", error)
                }
                if got == 0 { break }
                filled += got
            }
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    static func error(_ path: String, _ what: String, _ system: SystemError) -> ConnectorError {
        ConnectorError(location: path, message: "\(what): \(system.reason) (errno \(system.code))")
    }
}
