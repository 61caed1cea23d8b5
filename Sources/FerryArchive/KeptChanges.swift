import MailModel
import Synchronization

/// The decoded change lines of one user, kept so that the passes over a delta's changes (the checks when the
/// manifest's head is read, the delta import's renames and updates, the reconcile) decode a line once rather than
/// once per pass: `VerifiedManifest.changes(of:)` serves the user's lines from here and decodes only the rest.
/// Bounded: one user at a time, at most `limit` lines of it (the start of its run), so memory follows the limit,
/// not the archive; a user with more lines has the rest decoded again by each pass, as a user read before another
/// has. Shared by the manifest's iterators, which parallel imports use from several threads: behind a mutex.
final class KeptChanges: Sendable {
    /// One user's change lines from its first, and the manifest offset just after the last of them.
    struct Run: Sendable {
        var user: Int
        var records: [ChangeRecord]
        var endOffset: Int64
    }

    /// Lines kept by default: about 1 MB. Since change lines in the writer's form decode on the fast path
    /// (`CanonicalManifestLine`, about 20 times JSONDecoder's speed), decoding a large user's lines again costs
    /// less than holding them: 25,000 kept lines were 11.6 MB of a 20,000-message delta import's 43 MB heap peak
    /// over IMAP (heaptrack), for a saving of a few hundredths of a second per pass.
    static let defaultLimit = 2_000

    let limit: Int
    private let state: Mutex<State>

    private struct State {
        var run: Run?
        /// Change lines decoded so far (by the head's checks and by every iterator): what keeping saves shows here.
        var decoded = 0
    }

    init(limit: Int, first run: Run?, decoded: Int) {
        self.limit = limit
        self.state = Mutex(State(run: limit > 0 ? run : nil, decoded: decoded))
    }

    /// The kept lines of `user`, if they are the ones kept.
    func run(of user: Int) -> Run? {
        state.withLock { $0.run?.user == user ? $0.run : nil }
    }

    /// Keeps `run` in place of the one kept before (nothing when nothing may be kept).
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
