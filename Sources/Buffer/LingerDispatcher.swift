import BufferSpool
import Connectors
import Foundation
import Synchronization

/// After a user's release the buffer lingers: mail still in transit for a released (or reverted) user is
/// accepted, made durable like any other, and then passed straight on to where the user was released, by the
/// same journalled delivery as the release (`ReleaseJob.passOn`). One pass per user runs at a time; a message
/// committed during a pass asks for one more pass, so nothing committed is left waiting.
final class LingerDispatcher: Sendable {
    private let spool: BufferSpool
    private let log: @Sendable (String) -> Void
    /// Per user with a pass running: whether another pass was asked for meanwhile; and the running tasks.
    private let state = Mutex<(again: [String: Bool], tasks: [String: Task<Void, Never>])>(([:], [:]))

    /// The delivery options as the configuration file's `[imap]` section is now (read for each pass).
    private let delivery: @Sendable () throws -> ConnectorOptions

    init(spool: BufferSpool, delivery: @escaping @Sendable () throws -> ConnectorOptions, log: @escaping @Sendable (String) -> Void) {
        self.delivery = delivery
        self.spool = spool
        self.log = log
    }

    /// Called after each commit: schedules a pass for every lingering user the message is for.
    func committed(_ message: HeldMessage) {
        for user in Set(message.envelope.users) {
            // A key lookup, not `status(user:)`: that one counts the user's held mail, and ran for every message
            // of a holding user, which cost the buffer three quarters of its rate.
            guard (try? spool.state(of: user))??.lingers == true else { continue }
            schedule(user)
        }
    }

    private func schedule(_ user: String) {
        state.withLock { s in
            if s.again[user] != nil {
                s.again[user] = true
                return
            }
            s.again[user] = false
            let spool = self.spool
            let delivery = self.delivery
            let log = self.log
            s.tasks[user] = Task(executorPreference: SpoolExecutor.shared) { [weak self] in
                while true {
                    do {
                        if let report = try ReleaseJob.passOn(user: user, spool: spool, options: try delivery()), report.delivered > 0 || !report.failures.isEmpty {
                            log("linger: \(user): \(report.delivered) passed on to \(report.target), \(report.failures.count) not delivered")
                        }
                    } catch {
                        log("linger: \(user): passing mail on failed: \(error) (held; the next message or `buffer release` retries)")
                    }
                    guard let self, self.state.withLock({ s -> Bool in
                        if s.again[user] == true {
                            s.again[user] = false
                            return true
                        }
                        s.again[user] = nil
                        s.tasks[user] = nil
                        return false
                    }) else { return }
                }
            }
        }
    }

    /// Waits for the passes under way (before the spool closes at shutdown).
    func drain() async {
        while let task = state.withLock({ $0.tasks.values.first }) {
            await task.value
        }
    }
}
