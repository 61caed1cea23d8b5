/// Which of a folder's own properties (besides its items) a mail system keeps: access rights, subscription and
/// special use. The reconcile compares only what the target can keep; a property it cannot keep is reported as
/// not held, with `reason`, instead of failing the user.
///
/// Each system says its own: `ConnectorURL.folderPropertySupport` for what a kind of target keeps at all, and a
/// source reading a server says what that server offers (`MailboxSink.folderPropertiesHeld`), since an IMAP server
/// without the ACL extension keeps no ACL.
public struct FolderPropertySupport: Sendable, Equatable {
    /// Whether one property is kept; `notHeld` says why not, in words for the report.
    public enum Holding: Sendable, Equatable {
        case held
        case notHeld(reason: String)

        public var isHeld: Bool { self == .held }
    }

    /// RFC 4314 access control lists.
    public var acl: Holding
    /// Subscriptions (IMAP SUBSCRIBE, Dovecot's `subscriptions` file).
    public var subscriptions: Holding
    /// RFC 6154 special use (`\Sent`, `\Drafts`...). Held means the system marks folders with it; which uses it has
    /// depends on its folders (a server marks its own, a client cannot mark one).
    public var specialUse: Holding

    public init(acl: Holding, subscriptions: Holding, specialUse: Holding) {
        self.acl = acl
        self.subscriptions = subscriptions
        self.specialUse = specialUse
    }

    /// Every property kept.
    public static let all = FolderPropertySupport(acl: .held, subscriptions: .held, specialUse: .held)
}
