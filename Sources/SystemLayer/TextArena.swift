/// Many short texts (file names, identifiers) in chunks of 1 MiB: no allocation per text, and no doubling array's
/// copy of them all. A large folder's names held as a `String` each cost about twice their bytes. A text longer
/// than a tenth of a chunk (nothing real is) is kept as a string aside.
public struct TextArena: Sendable {
    public struct Text: Sendable {
        /// Chunk number << 20 | offset in it; for a text kept aside, its number there (`aside`).
        var position: UInt32
        var length: UInt32
        var aside: Bool
    }

    private static let chunkSize = 1 << 20
    private var chunks: [[UInt8]] = []
    private var asideTexts: [String] = []

    public init() {}

    public mutating func add(_ bytes: some Collection<UInt8>) -> Text {
        guard bytes.count <= Self.chunkSize / 10 else {
            asideTexts.append(String(decoding: bytes, as: UTF8.self))
            return Text(position: UInt32(asideTexts.count - 1), length: UInt32(bytes.count), aside: true)
        }
        if chunks.isEmpty || chunks[chunks.count - 1].count + bytes.count > Self.chunkSize {
            chunks.append([])
            // The first chunk grows as an array does, so that a few texts cost a few bytes.
            if chunks.count > 1 { chunks[chunks.count - 1].reserveCapacity(Self.chunkSize) }
        }
        let position = UInt32((chunks.count - 1) << 20 | chunks[chunks.count - 1].count)
        chunks[chunks.count - 1].append(contentsOf: bytes)
        return Text(position: position, length: UInt32(bytes.count), aside: false)
    }

    /// The text's first `prefix` bytes (all of them by default).
    public func bytes<R>(_ text: Text, prefix: Int = Int.max, _ body: (ArraySlice<UInt8>) -> R) -> R {
        if text.aside {
            let utf8 = Array(asideTexts[Int(text.position)].utf8)
            return body(utf8[0..<min(prefix, utf8.count)])
        }
        let start = Int(text.position) & (Self.chunkSize - 1)
        return body(chunks[Int(text.position) >> 20][start..<start + min(prefix, Int(text.length))])
    }

    public func string(_ text: Text, prefix: Int = Int.max) -> String {
        bytes(text, prefix: prefix) { String(decoding: $0, as: UTF8.self) }
    }

    public func equals(_ text: Text, _ other: String) -> Bool {
        bytes(text) { $0.elementsEqual(other.utf8) }
    }

    /// Byte order of two texts' first `prefix` bytes: negative, zero or positive.
    public func compare(_ a: Text, prefix pa: Int, _ b: Text, prefix pb: Int) -> Int {
        bytes(a, prefix: pa) { x in
            bytes(b, prefix: pb) { y in
                for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
                return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
            }
        }
    }
}
