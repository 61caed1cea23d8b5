import IMAPClient
import SystemLayer

/// One mailbox's messages as a delta import needs them to find earlier items: its UIDVALIDITY when read, and each
/// UID's size and flags, read with a few UID FETCH commands instead of one per item. Flag lists are stored once
/// each (most messages share a few), so an entry costs about 40 bytes.
///
/// Flags the import is about to store (`IMAPPendingUpdates`) stand for the UID's until they are sent; then the
/// import forgets the UID, as it forgets one it moved or expunged, and a UID it does not know is fetched alone.
struct IMAPMailboxSummaries {
    /// UIDs per UID FETCH when the mailbox is read, which bounds the memory a reply takes.
    static let fetchChunk = 5000

    let uidValidity: UInt32?
    private var flagLists = InternedValues<[String]>()
    private var messages: [UInt32: (size: Int64, flags: UInt32)] = [:]

    init(uidValidity: UInt32?) {
        self.uidValidity = uidValidity
    }

    mutating func add(_ summary: IMAPMessageSummary) {
        messages[summary.uid] = (summary.size, flagLists.number(for: summary.flags))
    }

    /// The size and flags of `uid`, nil when it was not there or has been forgotten since.
    func message(_ uid: UInt32) -> (size: Int64, flags: [String])? {
        messages[uid].map { ($0.size, flagLists[$0.flags]) }
    }

    /// The flags `uid` is to have: a STORE waiting to be sent.
    mutating func setFlags(_ uid: UInt32, _ flags: [String]) {
        guard let known = messages[uid] else { return }
        messages[uid] = (known.size, flagLists.number(for: flags))
    }

    mutating func forget(_ uid: UInt32) {
        messages[uid] = nil
    }
}
