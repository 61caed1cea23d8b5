import BufferSpool

/// Where `buffer release` delivers a user's held mail. One instance per release run and user.
protocol DeliveryTarget: AnyObject {
    /// The address recorded in the spool's release target and delivery journal.
    var address: String { get }
    /// Whether the target can recognise a message delivered before (then a crash costs no duplicate).
    var recognisesDeliveries: Bool { get }
    /// Delivers one held message, reading its bytes from the spool (which re-hashes them and throws before the
    /// message is complete if they are damaged). Returns false if the target already held it (recognised by
    /// its key), true if it was delivered now. When this returns, the message is durable at the target.
    func deliver(_ message: HeldMessage, user: String, from spool: any SpoolStore) throws -> Bool
    /// Ends the run (closes connections).
    func close()
}
