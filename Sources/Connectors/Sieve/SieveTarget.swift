import IMAPClient
import MailModel
import Synchronization

/// Writes Sieve scripts into a ManageSieve server (RFC 5804), one `SieveUserTarget` per user. Refused scripts are
/// bad items, counted across users against `maxBadItems` as the IMAP target counts refused messages.
public final class SieveTarget: MailboxTarget {
    public let access: IMAPServerAccess
    public let maxBadItems: Int
    public var onNotice: ((String) -> Void)?
    private let badItemCount = Mutex(0)

    public init(access: IMAPServerAccess, maxBadItems: Int) {
        self.access = access
        self.maxBadItems = maxBadItems
    }

    public func open(user: UserInfo) throws -> any UserMailboxTarget {
        try SieveUserTarget(target: self, user: user.address)
    }

    /// Counts one refused item; throws once there are more than `maxBadItems`.
    func countBadItem(_ item: BadItem, user: String) throws {
        let count = badItemCount.withLock { n -> Int in
            n += 1
            return n
        }
        let server = SieveSession.name(access)
        guard count > maxBadItems else {
            onNotice?("\(server) \(user): refused, counted as bad item \(count) of at most \(maxBadItems): \(item)")
            return
        }
        throw ConnectorError(
            location: "\(server) \(user)",
            message: "the server refused \(item.entry): \(item.reason). That is bad item \(count), over the limit of \(maxBadItems) (raise it with --max-bad-items N to go on without such items)")
    }
}
