/// The bytes of one item (a message, a contact file, a calendar file, a script), read in chunks so that
/// a 200 MB message never has to sit in memory. `byteCount` is known before the first chunk, because
/// the archive writes sizes in headers ahead of the data.
public protocol ItemBody {
    /// The exact number of bytes `stream` yields.
    var byteCount: Int64 { get }
    /// Where the bytes come from, for error messages (a path, `mbox:PATH@offset`).
    var origin: String { get }
    /// Calls `consume` with consecutive chunks until all `byteCount` bytes are given.
    /// Throws `ConnectorError` when the bytes cannot be read or their number differs from `byteCount`.
    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// Bytes already in memory (small items, test data).
public struct MemoryBody: ItemBody, Sendable {
    public let bytes: [UInt8]
    public let origin: String
    public init(_ bytes: [UInt8], origin: String = "memory") {
        self.bytes = bytes
        self.origin = origin
    }
    public var byteCount: Int64 { Int64(bytes.count) }
    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try consume($0) }
    }
}
