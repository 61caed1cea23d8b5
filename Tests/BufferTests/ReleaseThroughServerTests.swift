import MailModel
import Buffer
import BufferSpool
import FerryArchive
import Foundation
import Synchronization
import Testing

/// `buffer release` and `buffer close` while the server runs: the request goes over the control socket and
/// the release runs on the server's own spool, so mail keeps being accepted; after the release the buffer
/// lingers, passing mail still in transit straight on, until the user is closed.
@Suite struct ReleaseThroughServerTests {
    @Test func releaseLingerAndCloseWhileTheServerRuns() async throws {
        try await LiveBuffer.with { live in
            let fixture = try ReleaseFixture()
            let body = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: body))
            for _ in 0..<3 {
                let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "carol@example.org", "alice@buffer.example.com", body])
                #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            }
            let receipts = try fixture.receipt()
            let target = live.directory + "/target-maildir"
            let parameters = ReleaseJob.Parameters(
                user: "alice@example.com", target: "maildir:" + target, receiptPath: (receipts as NSString).deletingLastPathComponent,
                trustedKeyPath: fixture.publicPath, archiveID: nil, undo: false)
            let spoolDirectory = live.server.configuration.spoolDirectory

            // A forged receipt is refused by the server with the exit status a local run would give.
            let forger = try SigningKey.generate()
            let forged = try fixture.receipt(directory: "forged", signer: forger)
            var forgedParameters = parameters
            forgedParameters.receiptPath = forged
            let bad = forgedParameters
            let refused = try await Client.offThread { try BufferControlClient.send(.release(bad), spoolDirectory: spoolDirectory) }
            #expect(!refused.ok)
            #expect(refused.exitStatus == MailModel.ExitStatus.verificationFailed.rawValue, "\(String(describing: refused.error))")

            // Asked for progress, the server sends progress lines before its answer: from 0 of 3 to 3 of 3.
            var asking = parameters
            asking.reportsProgress = true
            let askingParameters = asking
            let seen = ProgressLog()
            let response = try await Client.offThread {
                try BufferControlClient.send(.release(askingParameters), spoolDirectory: spoolDirectory) { seen.append($0) }
            }
            #expect(response.ok, "\(String(describing: response.error))")
            #expect(response.release?.delivered == 3)
            let progress = seen.values
            let heldBytes = Int64(3 * BufferServerTests.message.count)
            #expect(progress.first.map { $0.done == 0 && $0.total == 3 && $0.totalBytes >= heldBytes } == true, "\(progress)")
            #expect(progress.last.map { $0.done == 3 && $0.total == 3 && $0.bytes == $0.totalBytes } == true, "\(progress)")
            #expect(response.release?.state == .released)
            let delivered = try maildirMessages(target)
            #expect(delivered.count == 3)
            #expect(delivered.allSatisfy { splitTrace($0.bytes).message == BufferServerTests.message })

            // The buffer lingers: mail still in transit for the released user is accepted and passed straight on.
            let late = try await Client.python(Scripts.send, ["\(live.smtpPort)", "dave@example.org", "alice@buffer.example.com", body])
            #expect(late.stdout == "OK \n", "\(late.stdout) \(late.stderr)")
            var passedOn = 0
            for _ in 0..<100 {
                passedOn = try maildirMessages(target).count
                if passedOn == 4 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(passedOn == 4, "the message sent after the release reaches the target")
            #expect(try live.spool.status(user: "alice@example.com")?.state == .released)

            // Close ends the user's hold: from then on mail for the user is refused.
            let closed = try await Client.offThread { try BufferControlClient.send(.close("alice@example.com"), spoolDirectory: spoolDirectory) }
            #expect(closed.ok, "\(String(describing: closed.error))")
            #expect(closed.users?.first?.state == .closed)
            let refusedAfterClose = try await Client.python(Scripts.send, ["\(live.smtpPort)", "dave@example.org", "alice@buffer.example.com", body])
            #expect(refusedAfterClose.stdout.contains("550"), "\(refusedAfterClose.stdout)")
        }
    }
}

/// The progress a release reported, in order (appended from the thread that asked).
final class ProgressLog: Sendable {
    private let log = Mutex<[ReleaseProgress]>([])
    func append(_ p: ReleaseProgress) { log.withLock { $0.append(p) } }
    var values: [ReleaseProgress] { log.withLock { $0 } }
}
