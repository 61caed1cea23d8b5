import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting
import Synchronization

/// `export --jobs N`: N threads, each taking the next user in the order given and reading it from its own source
/// (for IMAP its own connection) into that user's `ArchiveUserRun`, while this thread takes the runs into the
/// archive one after another.
///
/// How the runs come together, and why so: the run the archive is taking writes straight into the archive's frame
/// pipeline, as a single-threaded export does. A run read ahead of it formats its entries as tar (header, data,
/// padding) into a read-ahead file next to the archive, with its manifest records in a second one; when its turn
/// comes, the archive copies the bytes read ahead into its frame pipeline (hashing every item's data again against
/// the hash taken as it was read), and the run goes on writing straight into the archive. The frame pipeline thus
/// sees the same tar stream, cut at the same entry boundaries, as with `--jobs 1`: the archive's tar stream, its
/// frames and its manifest (offsets and frame numbers included) do not depend on N, and the format's frame cut
/// rules (format-spec section 2), which depend on where the previous user's last frame ended, hold without a
/// change to the format. The other way (every job compressing its own frames, the writer concatenating them)
/// would save the copy, but every user would then start a new frame, a layout that changes with N and that the
/// format does not allow.
///
/// The read-ahead files are unlinked as soon as they are open, so a failure or a kill leaves nothing but
/// `OUT.partial` (which the next run replaces). They hold at most `readAheadLimit` bytes together (plus one item per job): a run
/// ahead that finds them full waits before its next item until its turn comes; and a job starts a user only
/// when the archive is taking one at most `windowPerJob * N` users before it. The first error of any job (or of
/// the copy) stops every job and the export, naming the user.
struct ParallelExport {
    let source: ConnectorSet
    let sourceUsers: [String]
    let options: ConnectorOptions
    let users: [UserInfo]
    let jobs: Int
    let readAheadLimit: Int64
    let writer: ArchiveWriter
    let progress: ProgressReporter
    let onWarning: (SourceProblem) -> Void

    /// How many users per job may be started ahead of the one the archive is taking.
    static let windowPerJob = 4

    private struct Shared {
        var next = 0
        var items = 0
        var bytes: Int64 = 0
        var failure: FerryError?
    }

    private final class SharedState: Sendable {
        let state = Mutex(Shared())
        func withLock<R>(_ body: (inout Shared) throws -> R) rethrows -> R { try state.withLock { try body(&$0) } }
    }

    func run() throws {
        let runs = writer.runs(for: users, readAheadLimit: readAheadLimit, window: jobs * Self.windowPerJob)
        let shared = SharedState()
        for run in runs {
            run.onWarning = { problem in shared.withLock { _ in onWarning(problem) } }
            run.onItem = { size in
                shared.withLock { s in
                    s.items += 1
                    s.bytes += size
                    progress.update(items: s.items, bytes: s.bytes)
                }
            }
        }
        let group = DispatchGroup()
        // Each run is fed by one thread at a time and handed to the archive under its coordinator's lock; the
        // source is opened anew on each thread.
        let context = UncheckedBox((export: self, runs: runs))
        for _ in 0..<min(jobs, runs.count) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                context.value.export.work(context.value.runs, shared)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        var stopped: FerryError?
        for run in runs {
            do {
                try writer.append(run)
            } catch {
                stopped = shared.withLock { s in
                    if s.failure == nil { s.failure = Self.naming(error, run.address) }
                    return s.failure
                }
                run.stopAll(stopped!)
                break
            }
        }
        group.wait()
        if let stopped { throw stopped }
    }

    private func work(_ runs: [ArchiveUserRun], _ shared: SharedState) {
        var reader: (any MailboxSource)?
        while let i = shared.withLock({ s -> Int? in
            guard s.failure == nil, s.next < runs.count else { return nil }
            s.next += 1
            return s.next - 1
        }) {
            let run = runs[i]
            do {
                try run.waitForTurn()
                if reader == nil { reader = try source.source(users: sourceUsers, options: options) }
                try reader!.read(user: users[i], into: run)
                run.end(nil)
            } catch {
                let failure = shared.withLock { s in
                    if s.failure == nil { s.failure = Self.naming(error, run.address) }
                    return s.failure!
                }
                run.end(failure)
                run.stopAll(failure)
                return
            }
        }
    }

    /// The error with the user it happened to, and the exit status it implies.
    static func naming(_ error: any Error, _ address: String) -> FerryError {
        let e = FerryError.from(error)
        return FerryError(e.status, "export of \(address) failed: \(e.description)")
    }
}
