import MailModel

/// Passes a body through, keeping a copy of its first `limit` bytes.
final class HeaderWatchingBody: ItemBody {
    let inner: any ItemBody
    let limit: Int
    private(set) var prefix: [UInt8] = []

    init(_ inner: any ItemBody, limit: Int) {
        self.inner = inner
        self.limit = limit
    }

    var byteCount: Int64 { inner.byteCount }
    var origin: String { inner.origin }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.stream { chunk in
            if prefix.count < limit { prefix += chunk.prefix(limit - prefix.count) }
            try consume(chunk)
        }
    }
}
