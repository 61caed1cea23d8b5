import MailModel
import Synchronization

/// The decoded change lines of one user, kept so that the passes over a delta's changes after the checks when the
/// manifest's head is read (the delta import's renames and updates, the reconcile's two) decode a line once rather
/// than once per pass: `VerifiedManifest.changes(of:)` serves the user's lines from here and decodes only the rest.
/// Bounded by the bytes of the lines, not their number: a user's run is kept whole or not at all, and only when its
/// lines take at most `limit` bytes of the manifest, so memory follows the limit whatever a line holds (a line may
/// be 1 MiB long), and a user too large to keep costs nothing to try. One user at a time. Shared by the manifest's
/// iterators, which parallel imports use from several threads: behind a mutex.
final class KeptChanges: Sendable {
    /// One user's change lines, all of them, and the manifest offset just after the last.
    struct Run: Sendable {
        var user: Int
        var records: [ChangeRecord]
        var endOffset: Int64
    }

    /// Manifest bytes of one user's lines kept by default: 16 MiB, about 26,000 keep lines of messages (640 bytes
    /// each in the benchmark's mailbox), which take about 1.6 times their bytes decoded (at worst about 4 times: a
    /// line of nothing but one-letter keywords, 4 bytes each in the line and 16 in memory). Decoding them costs
    /// more than holding them: at 20,000 messages the delta import and its reconcile decoded a user's lines three
    /// times after the head's checks, 0.1 s of a 0.88 s pass over an unchanged mailbox, against 20 MB of peak RSS
    /// (50 to 71 MB). A larger mailbox is not kept and decodes its lines per pass, as before; its memory is what the
    /// limit protects.
    static let defaultLimit = 16 << 20

    let limit: Int
    private let state: Mutex<State>

    private struct State {
        var run: Run?
        /// Change lines decoded so far (by the head's checks and by every iterator): what keeping saves shows here.
        var decoded = 0
    }

    /// Whether a run of `bytes` manifest bytes may be kept.
    func admits(bytes: Int64) -> Bool { bytes <= Int64(limit) }

    init(limit: Int, decoded: Int) {
        self.limit = limit
        self.state = Mutex(State(run: nil, decoded: decoded))
    }

    /// The kept lines of `user`, if they are the ones kept.
    func run(of user: Int) -> Run? {
        state.withLock { $0.run?.user == user ? $0.run : nil }
    }

    /// Keeps `run` (a user's whole run, within the limit) in place of the one kept before.
    func keep(_ run: Run) {
        guard limit > 0, !run.records.isEmpty else { return }
        state.withLock { $0.run = run }
    }

    /// Lets go of the kept run, before another user's lines are read (so that two are never held at once).
    func forget() {
        state.withLock { $0.run = nil }
    }

    func countDecoded() {
        state.withLock { $0.decoded += 1 }
    }

    /// Change lines decoded since the manifest was loaded, the head's checks included.
    var decodedLines: Int { state.withLock { $0.decoded } }
}
