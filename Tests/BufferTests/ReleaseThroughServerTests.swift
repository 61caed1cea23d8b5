import Buffer
import BufferSpool
import FerryArchive
import FerryKit
import Foundation
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
            #expect(refused.exitStatus == ExitStatus.verificationFailed.rawValue, "\(String(describing: refused.error))")

            let response = try await Client.offThread { try BufferControlClient.send(.release(parameters), spoolDirectory: spoolDirectory) }
            #expect(response.ok, "\(String(describing: response.error))")
            #expect(response.release?.delivered == 3)
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
