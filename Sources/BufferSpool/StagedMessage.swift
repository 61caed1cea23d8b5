import Foundation

/// A message whose file is written, fsynced and renamed into `messages/`, waiting for the group committer to make
/// it durable (directory fsync) and committed (its row).
struct StagedMessage: Sendable {
    let token: String
    let path: String
    let envelope: Envelope
    let receivedAt: Date
    let size: Int64
    let sha256: String
}
