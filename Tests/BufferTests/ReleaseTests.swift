import BufferSpool
import Connectors
import FerryArchive
import Foundation
import MailModel
import Receipts
import Testing

@testable import Buffer

@Suite struct ReleaseTests {
    let fx: ReleaseFixture
    init() throws { fx = try ReleaseFixture() }

    func job(to target: String, receipt: String? = "receipts", trust: Bool = true, archiveID: String? = nil, undo: Bool = false) -> ReleaseJob {
        ReleaseJob(
            spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, target: target, receiptPath: receipt.map(fx.file),
            trustedKeyPath: trust ? fx.publicPath : nil, archiveID: archiveID, undo: undo)
    }

    /// Runs the job and returns the reason it was refused ("" if it was not).
    func refusal(_ job: ReleaseJob) -> String {
        do {
            _ = try job.run()
            return ""
        } catch let e as ReceiptError {
            return "receipt:\(e.reason.rawValue) \(e)"
        } catch let e as ReleaseError {
            return "release:\(e.reason.rawValue) \(e)"
        } catch {
            return "other: \(error)"
        }
    }

    @Test func releaseToMaildirDeliversEveryMessageOnceInArrivalOrder() throws {
        try fx.hold(5)
        try fx.receipt()
        let target = fx.file("target")
        let report = try job(to: "maildir:" + target).run()
        #expect(report.delivered == 5 && report.alreadyPresent == 0 && report.failures.isEmpty)
        #expect(report.state == .released)
        let files = try maildirMessages(target)
        #expect(files.count == 5)
        // Each held message is there once, byte for byte, with no flags and its arrival time as internal date.
        var lastDate = Date.distantPast
        var lastDelivered = Date.distantPast
        let spool = try BufferSpool(directory: fx.spoolDirectory)
        defer { try? spool.close() }
        for (message, bytes) in fx.held {
            let matches = files.filter { $0.bytes == bytes }
            #expect(matches.count == 1)
            guard let f = matches.first else { continue }
            #expect(f.name.hasSuffix(":2,"), "\(f.name)")
            #expect(abs(f.mtime.timeIntervalSince(message.receivedAt)) < 0.01)
            #expect(f.mtime >= lastDate)
            lastDate = f.mtime
            // Journal: delivered in sequence order.
            let journal = try spool.deliveries(of: message.id)
            #expect(journal.count == 1 && journal[0].state == .delivered && journal[0].attempts == 1)
            #expect(journal[0].deliveredAt! >= lastDelivered)
            lastDelivered = journal[0].deliveredAt!
        }
        #expect(try spool.heldMessages(for: ReleaseFixture.user).isEmpty)
    }

    @Test func releaseToDirectoryTargetAndRerunAddsNothing() throws {
        try fx.hold(3)
        try fx.receipt()
        let first = try job(to: "dir:" + fx.file("tree")).run()
        #expect(first.delivered == 3 && first.state == .released)
        #expect(try maildirMessages(fx.file("tree/\(ReleaseFixture.user)/Maildir")).count == 3)
        let again = try job(to: "dir:" + fx.file("tree")).run()
        #expect(again.delivered == 0 && again.state == .released)
        #expect(try maildirMessages(fx.file("tree/\(ReleaseFixture.user)/Maildir")).count == 3)
    }

    @Test func crashDuringReleaseThenRerunDeliversEachMessageExactlyOnce() throws {
        try fx.hold(6)
        try fx.receipt()
        let target = fx.file("target")
        let address = "maildir:" + target
        // A first run that died: messages 1-2 delivered and journalled; message 3 written to the target but the
        // process was killed before markDelivered; message 4 journalled as delivering, killed before writing.
        let spoolID = try ReleaseStateFile.update(spoolDirectory: fx.spoolDirectory) { $0.spoolID }
        do {
            let spool = try BufferSpool(directory: fx.spoolDirectory)
            defer { try? spool.close() }
            try spool.beginRelease(user: ReleaseFixture.user, to: ReleaseTarget(direction: .target, address: address))
            let delivery = try DeliveryMailbox(url: .maildir(target), user: ReleaseFixture.user, spoolID: spoolID, options: ConnectorOptions())
            for (i, (message, _)) in fx.held.prefix(4).enumerated() {
                try spool.markDelivering(message.id, user: ReleaseFixture.user, target: address)
                if i < 3 { #expect(try delivery.deliver(message, user: ReleaseFixture.user, from: spool)) }
                if i < 2 { try spool.markDelivered(message.id, user: ReleaseFixture.user, target: address) }
            }
            #expect(try spool.unknownOutcomes(for: ReleaseFixture.user).count == 2)
        }
        #expect(try maildirMessages(target).count == 3)

        let report = try job(to: address).run()
        #expect(report.alreadyPresent == 1, "message 3 was found at the target, not written again")
        #expect(report.delivered == 3)
        #expect(report.possiblyDuplicated.isEmpty)
        #expect(report.state == .released)
        let files = try maildirMessages(target)
        #expect(files.count == 6)
        for (_, bytes) in fx.held { #expect(files.filter { $0.bytes == bytes }.count == 1) }
    }

    @Test func corruptedSpoolFileIsReportedAndNotDelivered() throws {
        try fx.hold(4)
        try fx.receipt()
        let damaged = try fx.spoolFile(of: 1)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: damaged)))
        bytes[bytes.count - 10] ^= 0x20  // same size, different hash
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let target = fx.file("target")
        let report = try job(to: "maildir:" + target).run()
        #expect(report.delivered == 3)
        #expect(report.failures.count == 1)
        #expect(report.failures.first?.message == fx.held[1].message.id.rawValue)
        #expect(report.failures.first?.reason.contains("corrupt") == true)
        #expect(report.state == .releasing, "the user is not released while a message is undelivered")
        let files = try maildirMessages(target)
        #expect(files.count == 3)
        #expect(!files.contains { $0.bytes == bytes || $0.bytes == fx.held[1].bytes })
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + "/tmp").isEmpty, "no staged leftovers")
        #expect(try fx.state()?.heldCount == 1)
    }

    @Test func refusalsNameTheReasonAndTouchNothing() throws {
        try fx.hold(2)
        let target = "maildir:" + fx.file("target")
        #expect(refusal(job(to: target)).hasPrefix("receipt:missing"))
        try fx.receipt()
        #expect(refusal(job(to: target, trust: false)).contains("--trust"))
        #expect(refusal(job(to: target, receipt: nil)).hasPrefix("receipt:missing"))
        // Signed by another key.
        try fx.receipt(directory: "forged", signer: try SigningKey.generate())
        #expect(refusal(job(to: target, receipt: "forged")).hasPrefix("receipt:badSignature"))
        // Unsigned.
        let unsigned = try fx.receipt(directory: "unsigned")
        try FileManager.default.removeItem(atPath: unsigned + ".sig")
        #expect(refusal(job(to: target, receipt: "unsigned")).hasPrefix("receipt:unsigned"))
        // Failing verdict, another user, another archive.
        try fx.receipt(verdict: .fail, directory: "failing")
        let failing = refusal(job(to: target, receipt: "failing"))
        #expect(failing.hasPrefix("receipt:failingVerdict") && failing.contains("3 missing"), "\(failing)")
        let bob = try fx.receipt(user: "bob@example.com", directory: "bob")
        #expect(refusal(job(to: target, receipt: "bob/" + (bob as NSString).lastPathComponent)).hasPrefix("receipt:wrongUser"))
        #expect(refusal(job(to: target, archiveID: "some-other-archive")).hasPrefix("receipt:wrongArchive"))
        // Nothing was journalled or delivered.
        #expect(try fx.state()?.state == .holding)
        #expect(try fx.state()?.heldCount == 2)
        #expect(!FileManager.default.fileExists(atPath: fx.file("target")))
    }

    @Test func laterRunsMustUseTheArchiveTheReleaseStartedWith() throws {
        try fx.hold(2)
        try fx.receipt()
        let damaged = try fx.spoolFile(of: 1)
        try Data("broken".utf8).write(to: URL(fileURLWithPath: damaged))
        let target = "maildir:" + fx.file("target")
        #expect(try job(to: target).run().state == .releasing)
        try fx.receipt(archiveID: "a-newer-archive", directory: "newer")
        #expect(refusal(job(to: target, receipt: "newer")).hasPrefix("receipt:wrongArchive"))
    }

    @Test func undoIsRefusedWhileForwardingIsOnAndWorksOnceItIsOff() throws {
        try fx.hold(3)
        let source = "maildir:" + fx.file("source")
        let notRecorded = refusal(job(to: source, receipt: nil, trust: false, undo: true))
        #expect(notRecorded.hasPrefix("release:forwardingOn") && notRecorded.contains("buffer forwarding"), "\(notRecorded)")
        try ReleaseJob.recordForwarding(spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, on: true)
        let on = refusal(job(to: source, receipt: nil, trust: false, undo: true))
        #expect(on.hasPrefix("release:forwardingOn") && on.contains("--off"), "\(on)")
        #expect(try fx.state()?.state == .holding)
        try ReleaseJob.recordForwarding(spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, on: false)
        let report = try job(to: source, receipt: nil, trust: false, undo: true).run()
        #expect(report.delivered == 3 && report.state == .reverted && report.direction == .source)
        #expect(try maildirMessages(fx.file("source")).count == 3)
        try ReleaseJob.close(spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user)
        #expect(try fx.state()?.state == .closed)
    }

    /// A user the spool knew from an earlier migration (released to the target and closed, then held again): the
    /// messages of the first migration went to the old target, not to the source, and must not keep the undo
    /// `releasing` for ever (issue 16).
    @Test func undoOfAUserKnownFromAnEarlierMigrationEndsReverted() throws {
        try fx.hold(2)
        try fx.receipt()
        #expect(try job(to: "maildir:" + fx.file("first-target")).run().state == .released)
        try ReleaseJob.close(spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user)
        try fx.hold(1)
        try ReleaseJob.recordForwarding(spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, on: false)
        let report = try job(to: "maildir:" + fx.file("source"), receipt: nil, trust: false, undo: true).run()
        #expect(report.delivered == 1 && report.failures.isEmpty)
        #expect(report.state == .reverted)
        #expect(try fx.state()?.state == .reverted && fx.state()?.heldCount == 0)
        #expect(try maildirMessages(fx.file("source")).count == 1, "only the mail held this time goes back")
    }

    /// A process holds the spool but serves no control socket (a running server is asked over it instead,
    /// see ReleaseThroughServerTests): the release cannot run, and says why.
    @Test func aSpoolLockedByAProcessThatDoesNotAnswerIsReportedAsBusy() throws {
        try fx.hold(1)
        try fx.receipt()
        let server = try BufferSpool(directory: fx.spoolDirectory)
        defer { try? server.close() }
        let busy = refusal(job(to: "maildir:" + fx.file("target")))
        #expect(busy.hasPrefix("release:spoolBusy") && busy.contains("does not answer on its control socket"), "\(busy)")
    }

    @Test func targetURLs() throws {
        #expect(try DeliveryTargetURL(parsing: "lmtp://127.0.0.1:2424") == .lmtp(.tcp(host: "127.0.0.1", port: 2424)))
        #expect(try DeliveryTargetURL(parsing: "lmtp://mx.example") == .lmtp(.tcp(host: "mx.example", port: 24)))
        #expect(try DeliveryTargetURL(parsing: "lmtp://[::1]:24") == .lmtp(.tcp(host: "::1", port: 24)))
        #expect(try DeliveryTargetURL(parsing: "lmtp:/run/dovecot/lmtp") == .lmtp(.unix(path: "/run/dovecot/lmtp")))
        #expect(try DeliveryTargetURL(parsing: "maildir:/x") == .mailbox(.maildir("/x")))
        #expect(throws: FerryError.self) { try DeliveryTargetURL(parsing: "mbox:/x") }
        #expect(throws: FerryError.self) { try DeliveryTargetURL(parsing: "lmtp://host:0") }
    }
}
