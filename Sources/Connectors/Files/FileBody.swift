#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MailModel
import SystemLayer

/// The bytes of one file, streamed in chunks through one buffer so that a large message never sits in memory.
/// The size is taken when the body is made; a file that is not that long when streamed is an error, because
/// the archive has already written the size ahead of the bytes.
public struct FileBody: ItemBody {
    /// Large enough that a read is cheap against its system call, small enough to keep memory flat.
    public static let chunkSize = 1 << 20

    public let path: String
    public let byteCount: Int64
    public var origin: String { path }

    /// A body of `byteCount` bytes, for a caller that has already looked at the file.
    public init(path: String, byteCount: Int64) {
        self.path = path
        self.byteCount = byteCount
    }

    /// A body whose size is the file's size now.
    public init(path: String) throws {
        let file = try FileSystem.openForReading(path)
        self.init(path: path, byteCount: Int64(try ConnectorError.io { () throws(SystemError) in try file.status() }.st_size))
    }

    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = try FileSystem.openForReading(path)
        let size = Int64(try ConnectorError.io { () throws(SystemError) in try file.status() }.st_size)
        guard size == byteCount else {
            throw ConnectorError(location: path, message: "changed while being read: \(byteCount) bytes expected, now \(size)")
        }
        var buffer = [UInt8](repeating: 0, count: Int(min(Int64(Self.chunkSize), max(byteCount, 1))))
        var total: Int64 = 0
        while true {
            let count = try ConnectorError.io { () throws(SystemError) in try file.readSome(into: &buffer) }
            if count == 0 { break }
            total += Int64(count)
            guard total <= byteCount else { break }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        guard total == byteCount else {
            throw ConnectorError(
                location: path,
                message: "changed while being read: \(byteCount) bytes expected, \(total > byteCount ? "more" : "only \(total)") found")
        }
    }
}
