import BufferSpool

/// What one `buffer release` run did, for people and for `--json`.
public struct ReleaseReport: Codable, Sendable, Equatable {
    public var user: String
    public var target: String
    public var direction: ReleaseDirection
    /// The receipt's archive (nil for undo).
    public var archiveID: String?
    /// Messages delivered by this run.
    public var delivered = 0
    /// Messages the target already held (delivered before a crash, recognised by their key).
    public var alreadyPresent = 0
    /// Messages whose earlier attempt had an unknown outcome and that were sent again to a target that cannot be
    /// asked (LMTP): each may now be at the target twice.
    public var possiblyDuplicated: [Int64] = []
    /// Messages not delivered, with the reason; they stay held.
    public var failures: [Failure] = []
    /// The user's state when the run ended (released, reverted, or releasing if something remains).
    public var state: UserState
    /// Why the user is still `releasing` although no message failed (mail kept arriving during the run), for
    /// people; nil otherwise.
    public var unfinished: String?

    /// Why the run did not end the release, in words (nil when it did): the failed messages, or what is still
    /// held. Every caller that refuses on a report says this.
    public var problem: String? {
        if !failures.isEmpty {
            return "\(failures.count) message(s) for \(user) not delivered: "
                + failures.prefix(3).map { "#\($0.message): \($0.reason)" }.joined(separator: "; ")
                + (failures.count > 3 ? "; and \(failures.count - 3) more" : "")
        }
        if state == .releasing {
            return unfinished ?? "\(user) is still releasing; run the same command again"
        }
        return nil
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var message: Int64
        public var reason: String
    }
}
