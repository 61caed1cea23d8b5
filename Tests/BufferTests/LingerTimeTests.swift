@testable import Buffer
import BufferSpool
import Foundation
import Synchronization
import Testing

/// `[buffer] linger`: a user released or reverted longer ago than the linger time is closed by the server, at
/// start and by the periodic check, as `buffer close` would.
@Suite struct LingerTimeTests {
    /// Releases `user` (nothing held) so that it lingers; returns when it is released.
    func release(_ user: String, on spool: BufferSpool, direction: ReleaseDirection = .target) throws {
        try spool.beginRelease(user: user, to: ReleaseTarget(direction: direction, address: "dir:/nowhere"))
        try spool.finishRelease(user: user)
    }

    @Test func theCheckClosesOnlyUsersWhoseLingerTimeIsOver() throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try BufferSpool(directory: directory + "/spool")
        defer { try? spool.close() }
        for user in ["alice@example.com", "bob@example.com", "carol@example.com"] { try spool.hold(user: user) }
        try release("alice@example.com", on: spool)
        try release("bob@example.com", on: spool, direction: .source)
        let released = try #require(try spool.status(user: "alice@example.com")?.stateChangedAt)
        let lines = LogLines()
        // An injected clock: a day of lingering passes without waiting.
        let almost = LingerCloser(
            spool: spool, linger: .seconds(86400), interval: .seconds(60), now: { released.addingTimeInterval(86399) },
            log: { lines.append($0) })
        #expect(almost.closeExpired() == [])
        let over = LingerCloser(
            spool: spool, linger: .seconds(86400), interval: .seconds(60), now: { released.addingTimeInterval(86401) },
            log: { lines.append($0) })
        #expect(over.closeExpired() == ["alice@example.com", "bob@example.com"])
        #expect(try spool.status(user: "alice@example.com")?.state == .closed)
        #expect(try spool.status(user: "bob@example.com")?.state == .closed)
        #expect(try spool.status(user: "carol@example.com")?.state == .holding)
        #expect(!spool.acceptsMail(for: "alice@example.com"))
        #expect(lines.all.count == 2)
        #expect(lines.all.first?.hasPrefix("linger: alice@example.com: released since ") == true, "\(lines.all)")
        #expect(over.closeExpired() == [])
    }

    @Test func theRunningServerClosesALingeringUserAfterTheLingerTime() async throws {
        try await LiveBuffer.with(lingerCheckInterval: .milliseconds(100), edit: { $0.linger = .seconds(1) }) { live in
            try release("alice@example.com", on: live.spool)
            let path = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: path))
            var state = try live.spool.status(user: "alice@example.com")?.state
            let deadline = ContinuousClock.now + .seconds(20)
            while state != .closed && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                state = try live.spool.status(user: "alice@example.com")?.state
            }
            #expect(state == .closed)
            #expect(try live.spool.status(user: "bob@example.com")?.state == .holding)
            let refused = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", path])
            #expect(refused.stdout.hasPrefix("REFUSED alice@buffer.example.com:550"), "\(refused.stdout)")
        }
    }

    @Test func aLingerTimeThatRanOutWhileTheServerWasDownClosesAtStart() async throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spoolDirectory = directory + "/spool"
        do {
            let spool = try BufferSpool(directory: spoolDirectory)
            defer { try? spool.close() }
            try spool.hold(user: "alice@example.com")
            try release("alice@example.com", on: spool)
        }
        try await Task.sleep(for: .milliseconds(1100))
        var configuration = LiveBuffer.configuration(spool: spoolDirectory)
        configuration.linger = .seconds(1)
        // A check interval far beyond the test: only the check at start can close the user.
        let server = try await LiveBuffer.startAfterClose(configuration, lingerCheckInterval: .seconds(3600))
        let state = try? server.spool.status(user: "alice@example.com")?.state
        await server.shutdown()
        #expect(state == .closed)
    }
}

final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
