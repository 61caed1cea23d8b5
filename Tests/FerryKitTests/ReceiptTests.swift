import Connectors
import FerryArchive
import FerryKit
import Foundation
import Receipts
import Reporting
import Testing
import TestSupport

/// Receipts: station B's signed statement, per user, that the target holds what the archive held.
@Suite(.blocking) struct ReceiptTests {
    let scratch: Scratch
    /// Station A signs archives; station B signs receipts.
    let stationA: (privatePath: String, publicPath: String, keyID: String)
    let stationB: (privatePath: String, publicPath: String, keyID: String)

    init() throws {
        scratch = try Scratch()
        stationA = try KeyGenerator.generate(prefix: scratch.file("a"))
        stationB = try KeyGenerator.generate(prefix: scratch.file("b"))
    }

    /// Exports the sample store, imports it into dst and writes receipts into `receipts/`.
    func importWithReceipts() throws -> (report: ReconcileReport, paths: [String]) {
        try scratch.makeDirectoryStore("src")
        let archive = scratch.file("a.mfa")
        _ = try Exporter(source: ConnectorSet(ConnectorURL(parsing: "dir:" + scratch.file("src"))), users: [], signingKeyPath: stationA.privatePath, outputPath: archive, quiet: true).run { _ in }
        let report = try Importer(archivePath: archive, trustedKeyPath: stationA.publicPath, target: ConnectorSet(ConnectorURL(parsing: "dir:" + scratch.file("dst"))), users: [], quiet: true).run()
        let paths = try ReceiptWriter(directory: scratch.file("receipts"), signingKeyPath: stationB.privatePath).write(report)
        return (report, paths)
    }

    func refusal(_ body: () throws -> Void) -> ReceiptError? {
        do {
            try body()
            return nil
        } catch let e as ReceiptError {
            return e
        } catch {
            Issue.record("expected a ReceiptError, got \(error)")
            return nil
        }
    }

    @Test func receiptsRoundTrip() throws {
        let (report, paths) = try importWithReceipts()
        #expect(paths.map { ($0 as NSString).lastPathComponent } == ["alice@example.com.receipt.json", "bob@example.com.receipt.json"])
        let trust = try PublicKey(pemFile: stationB.publicPath)
        for (path, user) in zip(paths, report.users) {
            let r = try Receipt.load(path, trust: trust)
            #expect(r.format == "mailferry-receipt" && r.version == 1)
            #expect(r.archiveID == report.archiveID)
            #expect(r.manifestSHA256 == report.manifestSHA256)
            #expect(r.archiveSignerKeyID == stationA.keyID)
            #expect(r.signerKeyID == stationB.keyID)
            #expect(r.user == user.address)
            #expect(r.target == report.target)
            #expect(r.verdict == .pass)
            #expect(r.counts.archive == user.archive && r.counts.target == user.target)
            #expect(r.counts.missing == 0 && r.counts.mismatched == 0 && r.counts.matched > 0)
            #expect(r.problems == user.problems)  // warnings the reconcile reported, if any
            // Encoding again gives the same bytes: the file is a function of the content.
            #expect(try r.encoded() == Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            try r.authorizesRelease(user: user.address.uppercased(), archiveID: report.archiveID, path: path)
        }
    }

    @Test func opensslVerifiesAReceipt() throws {
        let (_, paths) = try importWithReceipts()
        func openssl(_ path: String) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = ["pkeyutl", "-verify", "-pubin", "-inkey", stationB.publicPath, "-rawin", "-in", path, "-sigfile", path + ".sig"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let (status, text) = try openssl(paths[0])
        #expect(status == 0, "\(text)")
        #expect(text.contains("Signature Verified Successfully"))
        // One byte changed: openssl refuses too.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: paths[0])))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: paths[0]))
        #expect(try openssl(paths[0]).0 != 0)
    }

    @Test func forgedReceiptsAreRefused() throws {
        let (_, paths) = try importWithReceipts()
        let trust = try PublicKey(pemFile: stationB.publicPath)
        // An edited verdict or count keeps the JSON valid but breaks the signature.
        let text = try String(contentsOfFile: paths[0], encoding: .utf8)
        try text.replacingOccurrences(of: "\"matched\" : ", with: "\"matched\" : 1").write(toFile: paths[0], atomically: true, encoding: .utf8)
        #expect(refusal { _ = try Receipt.load(paths[0], trust: trust) }?.reason == .badSignature)
        // Signed by station A's key (valid signature, wrong signer).
        let other = try SigningKey(pemFile: stationA.privatePath)
        let bob = try Receipt.load(paths[1], trust: nil)
        try bob.write(to: scratch.file("forged"), key: other)
        let forged = scratch.file("forged/bob@example.com.receipt.json")
        let e = refusal { _ = try Receipt.load(forged, trust: trust) }
        #expect(e?.reason == .badSignature)
        #expect(e?.description.contains(stationB.keyID) == true)
        // A truncated signature.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: paths[1] + ".sig"))
        #expect(refusal { _ = try Receipt.load(paths[1], trust: trust) }?.reason == .badSignature)
    }

    @Test func unsignedAndMissingReceiptsAreRefused() throws {
        let (_, paths) = try importWithReceipts()
        let trust = try PublicKey(pemFile: stationB.publicPath)
        try FileManager.default.removeItem(atPath: paths[0] + ".sig")
        let e = refusal { _ = try Receipt.load(paths[0], trust: trust) }
        #expect(e?.reason == .unsigned)
        #expect(e?.description.contains("unsigned") == true)
        #expect(refusal { _ = try Receipt.load(scratch.file("nothing.receipt.json"), trust: trust) }?.reason == .missing)
        // Not a receipt at all (signed, so only the format check can refuse it).
        let key = try SigningKey(pemFile: stationB.privatePath)
        let bogus = Array("{\"format\":\"something-else\"}\n".utf8)
        try Data(bogus).write(to: URL(fileURLWithPath: scratch.file("bogus.json")))
        try Data(try key.sign(bogus)).write(to: URL(fileURLWithPath: scratch.file("bogus.json.sig")))
        #expect(refusal { _ = try Receipt.load(scratch.file("bogus.json"), trust: trust) }?.reason == .malformed)
    }

    @Test func wrongUserAndWrongArchiveAreRefused() throws {
        let (report, paths) = try importWithReceipts()
        let r = try Receipt.load(paths[0], trust: try PublicKey(pemFile: stationB.publicPath))
        let wrongUser = refusal { try r.authorizesRelease(user: "bob@example.com", archiveID: nil, path: paths[0]) }
        #expect(wrongUser?.reason == .wrongUser)
        #expect(wrongUser?.description.contains("not bob@example.com") == true)
        let wrongArchive = refusal { try r.authorizesRelease(user: "alice@example.com", archiveID: "another-archive", path: paths[0]) }
        #expect(wrongArchive?.reason == .wrongArchive)
        #expect(wrongArchive?.description.contains(report.archiveID) == true)
    }

    @Test func failingUsersGetAFailingReceiptThatRefusesRelease() throws {
        try scratch.makeDirectoryStore("src")
        let archive = scratch.file("a.mfa")
        _ = try Exporter(source: ConnectorSet(ConnectorURL(parsing: "dir:" + scratch.file("src"))), users: [], signingKeyPath: stationA.privatePath, outputPath: archive, quiet: true).run { _ in }
        // Reconcile against an empty target: nothing is there.
        try FileManager.default.createDirectory(atPath: scratch.file("empty"), withIntermediateDirectories: true)
        let report = try ReconcileCommand(archivePath: archive, trustedKeyPath: stationA.publicPath, target: ConnectorSet(ConnectorURL(parsing: "dir:" + scratch.file("empty"))), users: []).run()
        #expect(report.verdict == .fail)
        let paths = try ReceiptWriter(directory: scratch.file("receipts"), signingKeyPath: stationB.privatePath).write(report)
        #expect(paths.count == 2)
        let r = try Receipt.load(paths[0], trust: try PublicKey(pemFile: stationB.publicPath))
        #expect(r.verdict == .fail)
        #expect(r.counts.missing > 0)
        #expect(!r.problems.isEmpty)
        let e = refusal { try r.authorizesRelease(user: r.user, archiveID: r.archiveID, path: paths[0]) }
        #expect(e?.reason == .failingVerdict)
        #expect(e?.description.contains("verdict fail") == true)
    }
}
