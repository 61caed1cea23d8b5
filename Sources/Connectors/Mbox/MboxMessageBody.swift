import MailModel

/// One message of an mbox file, streamed from the file in chunks with mboxrd unquoting applied, so the
/// bytes given are the message as it was delivered. The file is opened for each `stream` call.
public struct MboxMessageBody: ItemBody {
    public let path: String
    public let contentOffset: Int64
    /// Stored (quoted) bytes to read.
    public let contentLength: Int64
    /// The file's size when it was scanned; any other size means the offsets no longer hold.
    public let fileSize: Int64
    public let byteCount: Int64
    let chunkSize: Int

    public init(path: String, location: MboxMessageLocation, fileSize: Int64, chunkSize: Int = MboxReader.defaultChunkSize) {
        self.path = path
        self.contentOffset = location.contentOffset
        self.contentLength = location.contentLength
        self.byteCount = location.unquotedLength
        self.fileSize = fileSize
        self.chunkSize = max(1, chunkSize)
    }

    public var origin: String { "mbox:\(path)@\(contentOffset)" }

    public func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = try ReadOnlyFile(path: path)
        let size = try file.status().size
        guard size == fileSize else {
            throw ConnectorError(
                location: origin, message: "the mbox file changed since it was scanned: \(fileSize) bytes then, \(size) now")
        }
        var quoting = MboxQuoting(.unquote)
        var output: [UInt8] = []
        output.reserveCapacity(chunkSize)
        var given: Int64 = 0
        var position = contentOffset
        let end = contentOffset + contentLength
        while position < end {
            let chunk = try file.read(at: position, count: Int(min(Int64(chunkSize), end - position)))
            guard !chunk.isEmpty else {
                throw ConnectorError(location: origin, message: "the mbox file ended early at offset \(position)")
            }
            position += Int64(chunk.count)
            quoting.feed(chunk, into: &output)
            given += Int64(output.count)
            try output.withUnsafeBytes { try consume($0) }
            output.removeAll(keepingCapacity: true)
        }
        quoting.finish(into: &output)
        if !output.isEmpty {
            given += Int64(output.count)
            try output.withUnsafeBytes { try consume($0) }
        }
        guard given == byteCount else {
            throw ConnectorError(
                location: origin, message: "the message gave \(given) bytes after unquoting, \(byteCount) expected")
        }
    }
}
