import Foundation

/// A message committed to the spool: durable from the moment it is returned.
public struct HeldMessage: Hashable, Codable, Sendable {
    /// Sequence number: the order of arrival.
    public var id: MessageID
    public var envelope: Envelope
    /// End of DATA as seen by the server (wall clock; `id` is the authoritative order).
    public var receivedAt: Date
    /// Length of the stored bytes.
    public var size: Int64
    /// SHA-256 of the stored bytes, 64 lowercase hex digits.
    public var sha256: String

    package init(id: MessageID, envelope: Envelope, receivedAt: Date, size: Int64, sha256: String) {
        self.id = id
        self.envelope = envelope
        self.receivedAt = receivedAt
        self.size = size
        self.sha256 = sha256
    }
}
