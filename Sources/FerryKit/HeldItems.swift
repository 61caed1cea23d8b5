import MailModel
import SystemLayer

/// One item a target holds, as the reconcile compares it: its hash and size, and of a message only what is compared
/// or shown (flags, keywords, internal date, UID, the identities that pair a changed message, the subject and
/// sender for listing it). About 100 bytes, where a `MessageInfo` with its strings took several hundred: a
/// reconcile holds one for every item of a user's largest container set.
struct HeldItem {
    var digest: SHA256Digest
    var size: Int64
    var internalDate: InternalDate?
    /// Hashes (`String.hashValue`, this process's) of the object id and Message-ID, 0 for none. They only pair a
    /// missing entry with an extra item of the same identity; an accidental match of two 64-bit hashes is far
    /// less likely than a real duplicate Message-ID, and would only word a report line differently.
    var guidHash: Int
    var messageIDHash: Int
    var uid: UInt32?
    /// The keyword list's number in `HeldItems.keywordLists`.
    var keywords: UInt32
    /// The subject and sender's number in `HeaderTexts`, or `UInt32.max`.
    var header: UInt32
    /// A contact's or calendar item's file name, or a script's name: its number in `HeldItems.names`, or `UInt32.max`.
    var name: UInt32
    /// The next item of the container whose digest starts with the same word, or -1 (`HeldItems`).
    fileprivate var next: Int32
    var flags: SystemFlags
    var isMessage: Bool
    var maildirPassed: Bool
    /// A message whose header was not kept: its hash is one the archive says the target holds (`TargetInventory`).
    var headerSkipped: Bool
    var sieveActive: Bool?
    fileprivate var taken: Bool

    /// An item with nothing but its hash and size; the inventory fills in the rest.
    init(digest: SHA256Digest, size: Int64) {
        self.digest = digest
        self.size = size
        internalDate = nil
        guidHash = 0
        messageIDHash = 0
        uid = nil
        keywords = 0
        header = UInt32.max
        name = UInt32.max
        next = -1
        flags = []
        isMessage = false
        maildirPassed = false
        headerSkipped = false
        sieveActive = nil
        taken = false
    }
}

/// One container's items, found by hash. An item a reconcile matches is taken out, so what stays is the extra.
///
/// Items sit in chunks of 8,192 (no doubling array's unused half at 200,000 items), found through a table
/// from the first word of their digest to the first of them, chained through `next`.
struct HeldItems {
    private static let chunkBits = 13
    private var chunks: [[HeldItem]] = []
    private var heads: [UInt64: Int32] = [:]
    private(set) var count = 0
    /// Items not taken.
    private(set) var remainingCount = 0

    subscript(index: Int32) -> HeldItem {
        let i = Int(index)
        return chunks[i >> Self.chunkBits][i & ((1 << Self.chunkBits) - 1)]
    }

    private mutating func update(_ index: Int32, _ change: (inout HeldItem) -> Void) {
        let i = Int(index)
        change(&chunks[i >> Self.chunkBits][i & ((1 << Self.chunkBits) - 1)])
    }

    mutating func append(_ item: HeldItem) {
        let index = Int32(count)
        var item = item
        item.taken = false
        // At the front of its chain (constant time however many copies of one message a folder holds).
        item.next = heads.updateValue(index, forKey: item.digest.a) ?? -1
        if chunks.isEmpty {
            chunks.append([])
        } else if chunks[chunks.count - 1].count == 1 << Self.chunkBits {
            // A full chunk's successor is reserved whole; the first grows as an array does, so that a folder of a
            // few items costs a few items.
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(1 << Self.chunkBits)
        }
        chunks[chunks.count - 1].append(item)
        count += 1
        remainingCount += 1
    }

    /// Whether an item with `digest` is left.
    func contains(_ digest: SHA256Digest) -> Bool {
        var at = heads[digest.a] ?? -1
        while at >= 0 {
            if self[at].digest == digest { return true }
            at = self[at].next
        }
        return false
    }

    /// Takes out an item with `digest`: the first that `prefer` accepts, else the first; nil when none is left.
    mutating func take(_ digest: SHA256Digest, preferring prefer: (HeldItem) -> Bool) -> HeldItem? {
        var first: Int32 = -1
        var at = heads[digest.a] ?? -1
        while at >= 0 {
            let item = self[at]
            if item.digest == digest {
                if prefer(item) {
                    take(at: at)
                    return item
                }
                if first < 0 { first = at }
            }
            at = item.next
        }
        guard first >= 0 else { return nil }
        take(at: first)
        return self[first]
    }

    /// Takes out the item at `index` (which must not be taken): unlinked from its chain, so that lookups pass
    /// over matched items only once.
    mutating func take(at index: Int32) {
        let item = self[index]
        precondition(!item.taken, "an item is taken once")
        if heads[item.digest.a] == index {
            heads[item.digest.a] = item.next >= 0 ? item.next : nil
        } else {
            var at = heads[item.digest.a]!
            while self[at].next != index { at = self[at].next }
            update(at) { $0.next = item.next }
        }
        update(index) {
            $0.taken = true
            $0.next = -1
        }
        remainingCount -= 1
    }

    /// The items not taken, as indices in the order read.
    var remainingIndices: [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(remainingCount)
        for i in 0..<count where !self[Int32(i)].taken { out.append(Int32(i)) }
        return out
    }
}

/// Subjects and senders of the messages read, in one byte buffer: a `String` each would cost an allocation per
/// message. Each is cut at `limit` bytes (at a character's start) with an ellipsis: they are shown, never compared.
struct HeaderTexts {
    static let limit = 200
    private var bytes: [UInt8] = []
    /// Per entry: where its subject starts, then the subject's and the sender's lengths (`UInt16.max` for none).
    private var spans: [(start: UInt32, subject: UInt16, from: UInt16)] = []

    /// The number of the pair, or `UInt32.max` when neither is known or the buffer is full.
    mutating func append(subject: String?, from: String?) -> UInt32 {
        guard subject != nil || from != nil, bytes.count < Int(UInt32.max) - 2 * Self.limit - 8 else { return UInt32.max }
        let start = UInt32(bytes.count)
        let s = put(subject)
        let f = put(from)
        spans.append((start, s, f))
        return UInt32(spans.count - 1)
    }

    private mutating func put(_ text: String?) -> UInt16 {
        guard let text else { return UInt16.max }
        let utf8 = Array(text.utf8)
        guard utf8.count > Self.limit else {
            bytes += utf8
            return UInt16(utf8.count)
        }
        var end = Self.limit - 3
        // Back to the start of a character: UTF-8 continuation bytes are 10xxxxxx.
        while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }
        bytes += utf8[..<end]
        bytes += Array("…".utf8)
        return UInt16(end + 3)
    }

    subscript(number: UInt32) -> (subject: String?, from: String?) {
        guard number != UInt32.max else { return (nil, nil) }
        let span = spans[Int(number)]
        var at = Int(span.start)
        func take(_ length: UInt16) -> String? {
            guard length != UInt16.max else { return nil }
            defer { at += Int(length) }
            return String(decoding: bytes[at..<at + Int(length)], as: UTF8.self)
        }
        let subject = take(span.subject)
        let from = take(span.from)
        return (subject, from)
    }
}
