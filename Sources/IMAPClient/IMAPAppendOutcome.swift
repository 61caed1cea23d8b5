import IMAPCore

/// How one pipelined APPEND ended.
public struct IMAPAppendOutcome: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        /// Stored; the UIDs come from APPENDUID (RFC 4315) when the server sends it.
        case appended(uidValidity: UInt32?, uid: UInt32?)
        /// NO or BAD, with the server's text and response code (for example TRYCREATE, OVERQUOTA).
        case refused(status: IMAPStatus, text: String, code: IMAPResponseCode?)
    }
    /// The number `beginAppend` returned.
    public var sequence: Int
    public var result: Result
    /// Every UID APPENDUID gave, in the order of the messages (one for APPEND, one per message for a
    /// MULTIAPPEND); empty when the server did not say.
    public var uids: [UInt32]
    public init(sequence: Int, result: Result, uids: [UInt32] = []) {
        self.sequence = sequence
        self.result = result
        self.uids = uids
    }
}
