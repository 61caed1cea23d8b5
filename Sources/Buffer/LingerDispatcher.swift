import BufferSpool
import Connectors
import Foundation
import Synchronization

/// After a user's release the buffer lingers: mail still in transit for a released (or reverted) user is
/// accepted, made durable like any other, and then passed straight on to where the user was released, by the
/// same journalled delivery as the release (`ReleaseJob.passOn`). One pass per user runs at a time; a message
/// committed during a pass asks for one more pass, so nothing committed is left waiting.
final class LingerDispatcher: Sendable {
    private let spool: any SpoolStore
    private let log: @Sendable (String) -> Void
    /// Per user with a pass running: whether another pass was asked for meanwhile; and the running tasks.
    private let state = Mutex<(again: [String: Bool], tasks: [String: Task<Void, Never>])>(([:], [:]))

    /// The delivery options as the configuration file's `[imap]` section is now (read for each pass).
    private let delivery: @Sendable () throws -> ConnectorOptions

    init(spool: any SpoolStore, delivery: @escaping @Sendable () throws -> ConnectorOptions, log: @escaping @Sendable (String) -> Void) {
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
                        // One pass of a user at a time across the hosts of a shared spool (and never beside a
                        // release of the user): a pass running elsewhere may have read its page before this
                        // message committed, so wait for it and pass on after it.
                        var outcome: ReleaseReport??
                        for attempt in 0..<Self.lockAttempts {
                            outcome = try spool.exclusively("release " + user) {
                                try ReleaseJob.passOn(user: user, spool: spool, options: try delivery())
                            }
                            if outcome != nil { break }
                            if attempt + 1 < Self.lockAttempts { try? await Task.sleep(for: .seconds(1)) }
                        }
                        if outcome == nil {
                            log("linger: \(user): a release or pass of the user runs elsewhere; held for the next pass")
                        }
                        if let report = outcome ?? nil, report.delivered > 0 || !report.failures.isEmpty {
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

    /// How many times (a second apart) a pass waits for the user's lock held elsewhere.
    static let lockAttempts = 30

    /// Waits for the passes under way (before the spool closes at shutdown).
    func drain() async {
        while let task = state.withLock({ $0.tasks.values.first }) {
            await task.value
        }
    }
}
