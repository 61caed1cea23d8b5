import Connectors
import FerryKit
import Foundation
import MailModel
import PostgresSpool
import SystemLayer

/// Renews a worker's lease while its export runs, every third of the lease's length, on a thread of its own (the
/// export blocks its caller). It stops renewing once the lease is no longer the worker's.
final class PlanLeaseRenewal: Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(_ lease: PlanLease, connections: PostgresConnections) {
        let (stopped, finished) = (self.stopped, self.finished)
        let interval = max(Double(lease.milliseconds) / 3000, 0.05)
        let thread = Thread {
            while stopped.wait(timeout: .now() + interval) == .timedOut {
                // A failed renewal (the database away for a moment) is tried again at the next tick; the lease
                // itself is checked when the export is recorded.
                if (try? PostgresPlanStore.renew(lease, connections: connections)) == false { break }
            }
            finished.signal()
        }
        thread.name = "plan lease \(lease.user)"
        thread.start()
    }

    func stop() {
        stopped.signal()
        finished.wait()
    }
}

extension MigrationPlan {
    /// One user an export worker exported and recorded.
    public struct WorkerExport: Sendable, Codable {
        public var user: String
        public var archive: String
        public var archiveID: String
        /// The user's final archive (held, forwarding on); else a pass.
        public var final: Bool
        /// The worker whose expired lease this worker took over for the user.
        public var tookOverFrom: String?
    }

    public struct WorkerSummary: Sendable, Codable {
        public var worker: String
        public var exported: [WorkerExport] = []
        /// Users whose lease this worker lost while exporting them: another worker took them over, this worker's
        /// archive was not recorded and was removed.
        public var lost: [String] = []
    }

    /// The default worker name: this host and process.
    public static var defaultWorkerName: String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    /// `plan export --worker`: takes one user at a time among `selection` that needs an export (no archive yet, or
    /// held with the forwarding recorded and no final archive yet) and that no other worker holds, with a lease of
    /// `leaseMilliseconds` renewed while the export runs; exports the user into an archive of its own (named with the
    /// worker) and records it, ending the lease, in one transaction that first checks the lease is still this
    /// worker's. A worker that died leaves its users to others once its leases expire; while other workers hold the
    /// last users, this one waits for their leases to end or their exports to be recorded. Returns once no user of
    /// the selection needs an export.
    public func exportAsWorker(
        _ selection: [Int], worker: String, leaseMilliseconds: Int64, signingKey: String?, options: ConnectorOptions,
        quiet: Bool, volumeSize: Int64? = nil, onWarning: @escaping (SourceProblem) -> Void,
        onExport: (WorkerExport) -> Void = { _ in }, onWait: (Double) -> Void = { _ in }
    ) throws -> WorkerSummary {
        guard let shared = store as? PostgresPlanStore else {
            throw FerryError(
                .usage,
                "--worker takes users from a plan kept in PostgreSQL (plan init --store postgres://...); this plan's journal is a file: run plan export without --worker"
            )
        }
        guard leaseMilliseconds > 0 else { throw FerryError(.usage, "--lease must be longer than 0") }
        let names = selection.map { users[$0].user.source }
        var summary = WorkerSummary(worker: worker)
        var waiting = false
        while true {
            guard let (lease, newer) = try shared.claim(among: names, worker: worker, milliseconds: leaseMilliseconds)
            else {
                // Nothing free: done, unless other workers still hold users that need an export (one may have died).
                guard let wait = try shared.secondsUntilALeaseEnds(among: names) else { break }
                if !waiting { onWait(wait) }
                waiting = true
                Thread.sleep(forTimeInterval: min(max(wait, 0.05), max(Double(leaseMilliseconds) / 3000, 0.05)))
                continue
            }
            waiting = false
            guard let i = index(of: lease.user) else {
                try? shared.release(lease)
                throw FerryError(.ioError, "\(shared.location): the store gave \(lease.user), who is not in the plan")
            }
            apply(newer, toUserAt: i)
            let path: String
            do {
                path = try defaultArchivePath(worker: worker)
                guard try shared.noteArchive(path, of: lease) else {
                    summary.lost.append(lease.user)
                    continue
                }
            } catch {
                try? shared.release(lease)
                throw error
            }
            let renewal = PlanLeaseRenewal(lease, connections: shared.connections)
            do {
                let results = try export(
                    [i], out: path, signingKey: signingKey, options: options, quiet: quiet, volumeSize: volumeSize,
                    lease: lease,
                    onWarning: onWarning)
                renewal.stop()
                for result in results {
                    let done = WorkerExport(
                        user: lease.user, archive: result.archive.path, archiveID: result.archive.archiveID,
                        final: !result.final.isEmpty,
                        tookOverFrom: lease.tookOverFrom)
                    summary.exported.append(done)
                    onExport(done)
                }
            } catch is PlanLeaseLost {
                renewal.stop()
                // Another worker has the user now: this archive is nobody's.
                Self.removeArchive(path)
                try? shared.markRemoved(path, user: lease.user, holder: worker)
                summary.lost.append(lease.user)
            } catch {
                renewal.stop()
                try? shared.release(lease)
                throw error
            }
        }
        try loadLeases()
        return summary
    }

    /// Removes an archive that was not recorded, in whatever form the export left it (encrypted, a volume set, a
    /// partial file).
    static func removeArchive(_ path: String) {
        let stem = String(path.dropLast(4))
        var paths = [path, path + ".partial", path + ".age", path + ".age.partial", stem + ".set"]
        if let names = try? FileManager.default.contentsOfDirectory(
            atPath: (path as NSString).deletingLastPathComponent)
        {
            let prefix = SystemCall.lastComponent(of: stem) + "."
            paths += names.filter { $0.hasPrefix(prefix) && $0.contains(".mfa") }.map {
                (path as NSString).deletingLastPathComponent + "/" + $0
            }
        }
        for file in Set(paths) { try? FileManager.default.removeItem(atPath: file) }
    }
}
