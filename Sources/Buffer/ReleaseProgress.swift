/// How far a release is: messages and bytes dealt with (delivered, found at the target, or refused) out of what was
/// held when it began. Mail arriving meanwhile is delivered too, so `done` can pass `total`.
public struct ReleaseProgress: Codable, Sendable, Equatable {
    public var done: Int
    public var total: Int
    public var bytes: Int64
    public var totalBytes: Int64

    public init(done: Int, total: Int, bytes: Int64, totalBytes: Int64) {
        self.done = done
        self.total = total
        self.bytes = bytes
        self.totalBytes = totalBytes
    }
}
