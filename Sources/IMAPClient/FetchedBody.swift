import MailModel

/// A message body streaming from the connection during `fetchBodies`' callback.
final class FetchedBody: ItemBody {
    let connection: IMAPConnection
    let uid: UInt32
    let byteCount: Int64
    var valid = true
    var started = false
    var finished = false

    init(connection: IMAPConnection, uid: UInt32, byteCount: Int64) {
        self.connection = connection
        self.uid = uid
        self.byteCount = byteCount
    }

    var origin: String { "imap://\(connection.server)/UID \(uid)" }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard valid, !started else {
            throw ConnectorError(location: origin, message: "a fetched body can be read once, during the fetch callback")
        }
        started = true
        var count: Int64 = 0
        while let chunk = try connection.nextBodyChunk() {
            count += Int64(chunk.count)
            do {
                try chunk.withUnsafeBytes { try consume($0) }
            } catch {
                // Keep the connection in step: the rest of this literal is skipped before rethrowing.
                try connection.skipBody()
                finished = true
                throw error
            }
        }
        finished = true
        guard count == byteCount else {
            throw ConnectorError(location: origin, message: "got \(count) bytes, \(byteCount) announced")
        }
    }
}
