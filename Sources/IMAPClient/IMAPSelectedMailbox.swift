/// What SELECT or EXAMINE reported.
public struct IMAPSelectedMailbox: Sendable, Hashable {
    public var name: String
    public var uidValidity: UInt32?
    public var uidNext: UInt32?
    public var exists: UInt32
    /// RFC 8474
    public var mailboxID: String?
    /// RFC 7162
    public var highestModSeq: UInt64?
    public var permanentFlags: [String]
    public var readOnly: Bool
    public init(
        name: String, uidValidity: UInt32?, uidNext: UInt32?, exists: UInt32, mailboxID: String?,
        highestModSeq: UInt64?, permanentFlags: [String], readOnly: Bool
    ) {
        self.name = name
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.exists = exists
        self.mailboxID = mailboxID
        self.highestModSeq = highestModSeq
        self.permanentFlags = permanentFlags
        self.readOnly = readOnly
    }
}
