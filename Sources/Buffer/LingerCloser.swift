import BufferSpool
import Foundation
import Synchronization

/// The configured linger time (`[buffer] linger`): a user released or reverted longer ago than that is closed
/// by the server itself, with the same effect as `mailferry buffer close --user`. Checked once when the server
/// starts and then every `interval`; the time of the release is the user's `state_changed_at` in the spool.
final class LingerCloser: Sendable {
    private let spool: any SpoolStore
    private let linger: Duration
    private let interval: Duration
    private let now: @Sendable () -> Date
    private let log: @Sendable (String) -> Void
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(
        spool: any SpoolStore, linger: Duration, interval: Duration, now: @escaping @Sendable () -> Date = { Date() },
        log: @escaping @Sendable (String) -> Void
    ) {
        self.spool = spool
        self.linger = linger
        self.interval = interval
        self.now = now
        self.log = log
    }

    /// Closes every user whose linger time is over; returns the users closed. Errors are logged, not thrown:
    /// the next check tries again.
    @discardableResult
    func closeExpired() -> [String] {
        // On a shared spool one host at a time checks; the others find the lock taken and skip this round.
        do {
            return try spool.exclusively("linger-close") { closeExpiredNow() } ?? []
        } catch {
            log("linger: cannot take the linger lock: \(error) (checked again in \(interval))")
            return []
        }
    }

    private func closeExpiredNow() -> [String] {
        let users: [UserStatus]
        do {
            users = try spool.status()
        } catch {
            log("linger: cannot read the users' states: \(error) (checked again in \(interval))")
            return []
        }
        let cutoff = now().addingTimeInterval(-Self.seconds(linger))
        var closed: [String] = []
        for user in users where user.state.lingers && user.stateChangedAt <= cutoff {
            do {
                try spool.close(user: user.user)
                closed.append(user.user)
                log("linger: \(user.user): \(user.state.rawValue) since \(user.stateChangedAt), longer than the linger time \(linger); closed")
            } catch SpoolError.invalidTransition {
                // Held again or closed by hand since the states were read: nothing to do.
            } catch {
                log("linger: \(user.user): cannot close: \(error) (tried again in \(interval))")
            }
        }
        return closed
    }

    /// Checks now, then every `interval` until `stop()`. Runs on the spool executor (SQLite writes fsync).
    func start() {
        let interval = self.interval
        let checker = Task(executorPreference: SpoolExecutor.shared) { [self] in
            while !Task.isCancelled {
                closeExpired()
                try? await Task.sleep(for: interval)
            }
        }
        task.withLock { $0 = checker }
    }

    /// Ends the periodic check; returns once a check under way has finished (before the spool closes).
    func stop() async {
        guard let checker = task.withLock({ $0 }) else { return }
        checker.cancel()
        await checker.value
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
