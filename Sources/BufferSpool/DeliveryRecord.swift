import Foundation

/// One row of the delivery journal: a message, for one user, to one target.
public struct DeliveryRecord: Hashable, Codable, Sendable {
    public enum State: String, Codable, Sendable {
        /// An attempt started; its outcome is unknown until `markDelivered`.
        case delivering
        case delivered
    }

    public var id: MessageID
    public var user: String
    public var target: String
    public var state: State
    public var attempts: Int
    public var firstAttemptAt: Date
    public var lastAttemptAt: Date
    public var deliveredAt: Date?

    package init(id: MessageID, user: String, target: String, state: State, attempts: Int, firstAttemptAt: Date, lastAttemptAt: Date, deliveredAt: Date?) {
        self.id = id
        self.user = user
        self.target = target
        self.state = state
        self.attempts = attempts
        self.firstAttemptAt = firstAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.deliveredAt = deliveredAt
    }
}
