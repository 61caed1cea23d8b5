import IMAPCore

/// Where a UID MOVE or UID COPY put the messages, from the server's COPYUID (RFC 4315 section 3): the destination
/// mailbox's UIDVALIDITY and each source UID's UID there.
public struct IMAPCopiedUIDs: Sendable, Hashable {
    public var uidValidity: UInt32
    public var destination: [UInt32: UInt32]

    public init(uidValidity: UInt32, destination: [UInt32: UInt32]) {
        self.uidValidity = uidValidity
        self.destination = destination
    }

    /// From COPYUID's two uid-sets, which name the messages in the same order; nil when they do not pair up.
    public init?(uidValidity: UInt32, source: String, destination: String) {
        guard let from = IMAPUIDSet.expand(source), let to = IMAPUIDSet.expand(destination), from.count == to.count,
            !from.isEmpty
        else { return nil }
        var pairs: [UInt32: UInt32] = [:]
        for (a, b) in zip(from, to) { pairs[a] = b }
        self.init(uidValidity: uidValidity, destination: pairs)
    }

    /// Joins the answers to the commands a large set was cut into.
    public mutating func merge(_ other: IMAPCopiedUIDs) {
        guard other.uidValidity == uidValidity else { return }
        destination.merge(other.destination) { _, new in new }
    }
}
