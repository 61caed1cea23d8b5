/// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data) (RFC 4731)
public struct IMAPESearchResponse: Sendable, Hashable {
    public var tag: String?
    public var uid: Bool
    /// `ALL` as a sequence set, expanded.
    public var all: [UInt32]
    public var min: UInt32?
    public var max: UInt32?
    public var count: UInt32?
    public init(
        tag: String?, uid: Bool, all: [UInt32] = [], min: UInt32? = nil, max: UInt32? = nil, count: UInt32? = nil
    ) {
        self.tag = tag
        self.uid = uid
        self.all = all
        self.min = min
        self.max = max
        self.count = count
    }
}
