import FerryArchive
import Foundation
import MailModel
import Reporting
import Synchronization

/// `import --jobs N`: N threads, each taking the next user and reading only that user's run of the archive (from
/// the frame where it starts), so that users go into a slow target (an IMAP server) side by side. Every item is
/// checked against the signed manifest as in a single-threaded import; the first failure stops every job.
struct ParallelImport {
    let archive: VerifiedArchive
    let manifest: VerifiedManifest
    let users: Set<Int>
    let jobs: Int
    let target: any MailboxTarget
    let mapping: UserMapping
    let progress: ProgressReporter

    private struct Shared: Sendable {
        var queue: [VerifiedManifest.UserEntries]
        var counts = ImportCounts()
        var items = 0
        var bytes: Int64 = 0
        var failure: (any Error)?
    }

    func run(into counts: inout ImportCounts) throws {
        let runs = try manifest.userEntries()
        let queue = manifest.users.map(\.user).filter { users.contains($0) }.compactMap { runs[$0] }
        let shared = SharedState(Shared(queue: queue))
        let group = DispatchGroup()
        // The manifest and the target are read from several threads: the manifest only through `pread`-based
        // iterators of its own per job, the target through `open(user:)`, which gives each job its own object.
        let context = UncheckedBox(self)
        for _ in 0..<min(jobs, queue.count) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                context.value.work(shared)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let result = shared.state.withLock { $0 }
        if let failure = result.failure { throw failure }
        try counts.add(result.counts)
    }

    private final class SharedState: Sendable {
        let state: Mutex<Shared>
        init(_ value: Shared) { state = Mutex(value) }
        func withLock<R>(_ body: (inout Shared) throws -> R) rethrows -> R { try state.withLock { try body(&$0) } }
    }

    private func work(_ shared: SharedState) {
        do {
            let reader = try archive.openReader()
            while let run = shared.withLock({ s -> VerifiedManifest.UserEntries? in
                s.failure == nil && !s.queue.isEmpty ? s.queue.removeFirst() : nil
            }) {
                try importUser(run, reader: reader, shared: shared)
            }
        } catch {
            shared.withLock { if $0.failure == nil { $0.failure = error } }
        }
    }

    private func importUser(_ run: VerifiedManifest.UserEntries, reader: ArchiveReader, shared: SharedState) throws {
        let unit = try UserImport(manifest.users[run.user - 1], in: target, manifest: manifest, mapping: mapping)
        let items = try reader.items(manifest, of: run)
        while let (entry, body) = try items.next() {
            if shared.withLock({ $0.failure != nil }) { return }
            try unit.write(entry, body: body)
            shared.withLock { s in
                s.items += 1
                s.bytes += entry.size
                progress.update(items: s.items, bytes: s.bytes)
            }
        }
        let counts = try unit.finish()
        try shared.withLock { try $0.counts.add(counts) }
    }
}

/// Hands a value that is not `Sendable` to threads that use it as documented where it is made.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
