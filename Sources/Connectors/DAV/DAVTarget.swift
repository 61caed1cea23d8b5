import MailModel
import Synchronization

/// Writes address books and calendars into a CalDAV/CardDAV server, one `DAVUserTarget` per user. Refused objects
/// are bad items, counted across users against `maxBadItems` as the IMAP and ManageSieve targets count theirs.
public final class DAVTarget: MailboxTarget {
    public let server: DAVServer
    public let maxBadItems: Int
    public var onNotice: ((String) -> Void)?
    private let badItemCount = Mutex(0)

    public init(server: DAVServer, maxBadItems: Int) {
        self.server = server
        self.maxBadItems = maxBadItems
    }

    public func open(user: UserInfo) throws -> any UserMailboxTarget {
        try DAVUserTarget(target: self, user: user.address)
    }

    /// Counts one refused item; throws once there are more than `maxBadItems`.
    func countBadItem(_ item: BadItem, user: String) throws {
        let count = badItemCount.withLock { n -> Int in
            n += 1
            return n
        }
        guard count > maxBadItems else {
            onNotice?("\(server.name) \(user): refused, counted as bad item \(count) of at most \(maxBadItems): \(item)")
            return
        }
        throw ConnectorError(
            location: "\(server.name) \(user)",
            message: "the server refused \(item.entry) in \(item.folder): \(item.reason). That is bad item \(count), over the limit of \(maxBadItems) (raise it with --max-bad-items N to go on without such items)")
    }
}
