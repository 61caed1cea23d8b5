import Foundation

/// What the buffer service needs of its spool, whichever store keeps it: `BufferSpool` (files and SQLite on one
/// host, one process at a time) or `PostgresSpool` (one PostgreSQL database that several `buffer serve` processes
/// on several hosts share). The Buffer module talks only to this protocol; `SpoolStores.open` (Buffer) chooses the
/// store from the configuration's `[buffer] spool` value.
///
/// The promises are the same for both (format-spec/buffer-spool.md): `commit()` returns only once the message, its
/// envelope and its SHA-256 are durable; the user state machine; the delivery journal.
public protocol SpoolStore: AnyObject, Sendable {
    /// Where the spool is, for messages: the directory, or the PostgreSQL URL (never with a password).
    var location: String { get }
    /// The spool's directory on this host (a file spool); nil for a shared spool, which has none. The control
    /// socket, the release state file and the free-space gauge exist only with a directory.
    var localDirectory: String? { get }
    /// Whether the store can take mail now. Always true for a file spool; false while a shared spool's database
    /// does not answer, so the server answers 421 at once instead of taking DATA it cannot commit.
    var isAvailable: Bool { get }
    /// Counters of the group committer.
    var commitStatistics: CommitStatistics { get }

    /// Commits what is staged and releases the store. Later calls throw `SpoolError.closed`.
    func close() throws

    // Accepting mail
    /// Starts a message; throws `userNotHeld` when a recipient's user does not accept mail.
    func openWriter(_ envelope: Envelope) throws -> any SpoolMessageWriter
    /// RCPT TO check from a cache; no I/O.
    func acceptsMail(for user: String) -> Bool
    func hasPassedThrough(messageID: String) throws -> Bool

    // The migration set and the user state machine
    func hold(user: String) throws
    func unhold(user: String) throws
    func migrationSet() throws -> [String]
    func beginRelease(user: String, to target: ReleaseTarget) throws
    @discardableResult func finishRelease(user: String) throws -> UserState
    func close(user: String) throws
    func status() throws -> [UserStatus]
    func status(user: String) throws -> UserStatus?
    func state(of user: String) throws -> UserState?

    // Release
    func heldMessages(for user: String, after: MessageID?, limit: Int) throws -> [HeldMessage]
    func message(_ id: MessageID) throws -> HeldMessage
    func readMessage(_ id: MessageID, chunkSize: Int, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws
    func verifyMessage(_ id: MessageID) throws
    func markDelivering(_ id: MessageID, user: String, target: String) throws
    func markDelivered(_ id: MessageID, user: String, target: String) throws
    func unknownOutcomes(for user: String) throws -> [DeliveryRecord]
    func deliveries(of id: MessageID) throws -> [DeliveryRecord]

    /// Runs `body` unless the same `name` runs elsewhere now; returns nil then. A file spool is used by one
    /// process only, so it runs `body` at once; a shared spool takes a PostgreSQL advisory lock for the duration
    /// (held by the database session, so a process that dies releases it). Names: "release USER", "linger USER",
    /// "linger-close".
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T?

    /// A small document kept in the store itself, changed under a lock (the release state of a shared spool,
    /// `ReleaseStateFile`): `change` gets the stored bytes (nil when none) and returns the bytes to store (nil:
    /// unchanged) with its result. Only for stores without a `localDirectory`.
    func updateDocument<T>(_ name: String, _ change: (Data?) throws -> (Data?, T)) throws -> T
}

extension SpoolStore {
    public func heldMessages(for user: String, after: MessageID? = nil) throws -> [HeldMessage] {
        try heldMessages(for: user, after: after, limit: 500)
    }

    public func readMessage(_ id: MessageID, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try readMessage(id, chunkSize: 64 * 1024, consume)
    }
}

/// One message being received: `append` chunks as DATA arrives, then `commit()` (answer 250 when it returns) or
/// `abort()`. Owned by one SMTP session; not thread-safe.
public protocol SpoolMessageWriter: AnyObject {
    var envelope: Envelope { get }
    var size: Int64 { get }
    func append(_ chunk: [UInt8]) throws
    func setMessageID(_ messageID: String?)
    func abort()
    nonisolated(nonsending) func commit() async throws -> HeldMessage
    func commitAndWait() throws -> HeldMessage
}
