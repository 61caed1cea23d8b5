/// Receives one user's mailbox as a source reads it, in order: the user, then folders and items,
/// then `endUser`. Folders, address books and calendars are announced before their items and
/// referred to by the number the sink returns. The archive writer and the importer are sinks.
public protocol MailboxSink: AnyObject {
    func beginUser(_ user: UserInfo) throws
    /// Returns the number items of this folder refer to.
    func folder(_ folder: FolderInfo) throws -> Int
    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws
    func addressBook(_ book: AddressBookInfo) throws -> Int
    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws
    func calendar(_ calendar: CalendarInfo) throws -> Int
    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws
    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws
    func endUser(settings: UserSettings) throws
    /// Something odd in the source that did not stop the read (the item was still carried, byte for byte).
    func warning(_ problem: SourceProblem)
    /// Asked before a message's bytes (or its header) are read, with its metadata and `sourceKey`: true when the
    /// sink has the message already (a delta export that recognises it) and does not want its bytes; the source
    /// then does not call `message` for it.
    func skipsMessage(_ info: MessageInfo, inFolder folder: Int, size: Int64) throws -> Bool
    /// For a source that can name what changed in a folder since a point (IMAP CONDSTORE, RFC 7162): the folder's
    /// HIGHESTMODSEQ the sink already knows the folder at (same folder, same UIDVALIDITY), or nil.
    func knownModSeq(of folder: FolderInfo) -> UInt64?
    /// The source vouches that its message `uid` in `folder` has not changed since `knownModSeq`: true when the
    /// sink took it from what it has (no metadata or bytes are read), false to have it read as usual.
    func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool
    /// For a source that tags its objects (a DAV server's ETags): asked before an address book's or calendar's object
    /// is read, with its resource name and tag. True when the sink took it from what it has (a delta export whose
    /// previous archive holds that object with the same tag); the source then does not read it.
    func takesUnchangedObject(_ kind: ItemKind, resourceName: String, inContainer container: Int, etag: String) throws -> Bool
    /// For a source that can name what changed in a collection since a token (DAV sync-collection, RFC 6578): the
    /// `syncToken` the sink already knows the address book (`kind` `.contact`) or calendar (`.calendarItem`) named
    /// `collection` at (the same collection in a delta export's previous archive), or nil. Asked before the collection
    /// is announced, since its new token comes with the changes.
    func syncToken(of kind: ItemKind, collection: String) -> String?
    /// The source vouches that every object of `container` it does not name in `reported` (changed, new or removed
    /// since `syncToken`) is unchanged: the sink takes those from what it has, without their bytes. Returns how many
    /// it took.
    func takesUnreportedObjects(_ kind: ItemKind, inContainer container: Int, reported: Set<String>) throws -> Int
    /// For a source that can say which folder properties its system keeps (an IMAP server, by its capabilities):
    /// called once per user, before the folders. The reconcile takes it as what the target can hold.
    func folderPropertiesHeld(_ support: FolderPropertySupport)
}

extension MailboxSink {
    public func skipsMessage(_ info: MessageInfo, inFolder folder: Int, size: Int64) throws -> Bool { false }
    public func knownModSeq(of folder: FolderInfo) -> UInt64? { nil }
    public func takesUnchangedMessage(uid: UInt32, inFolder folder: Int) throws -> Bool { false }
    public func takesUnchangedObject(_ kind: ItemKind, resourceName: String, inContainer container: Int, etag: String) throws -> Bool {
        false
    }
    public func syncToken(of kind: ItemKind, collection: String) -> String? { nil }
    public func takesUnreportedObjects(_ kind: ItemKind, inContainer container: Int, reported: Set<String>) throws -> Int { 0 }
    public func folderPropertiesHeld(_ support: FolderPropertySupport) {}
}

/// Reads users' mailboxes from one system (a directory store, a Maildir, an mbox, an IMAP server).
public protocol MailboxSource {
    /// The users this source holds, in a stable order.
    func users() throws -> [UserInfo]
    /// Feeds one user's whole mailbox to `sink`, streaming item bytes.
    func read(user: UserInfo, into sink: any MailboxSink) throws
    /// How finely this source keeps internal dates; reconcile compares archived dates at this resolution.
    var internalDateResolution: InternalDateResolution { get }
}

extension MailboxSource {
    public var internalDateResolution: InternalDateResolution { .nanoseconds }
}

/// How finely a system keeps a message's internal date: file times to the nanosecond, IMAP's date-time
/// (RFC 9051 section 9, `date-time`) to the second.
public enum InternalDateResolution: Sendable {
    case nanoseconds, seconds
}

/// A problem found in source data, naming where it is so that a person can look.
public struct SourceProblem: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A file path, or `PATH:LINE`, or a server and folder.
    public var location: String
    public var message: String
    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { "\(location): \(message)" }
}
