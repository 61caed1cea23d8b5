import BufferSpool
import Foundation
import Testing
import TestSupport

@testable import Buffer

#if canImport(Glibc)
import Glibc
#endif

struct DovecotFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite(.serialized, .blocking) struct ReleaseDovecotTests {
    /// What Dovecot stores: CRLF turned into LF, and its own trace fields (Return-Path, Delivered-To, Received)
    /// added at the top. The held message must be what follows them.
    static func delivered(_ stored: [UInt8], equals original: [UInt8]) -> Bool {
        var normal = String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        if !normal.hasSuffix("\n") { normal += "\n" }  // the client ends the last line for DATA
        return String(decoding: stored, as: UTF8.self).hasSuffix("\n" + normal)
            && String(decoding: stored, as: UTF8.self).hasPrefix("Return-Path: <")
    }

    @Test func releaseToARealDovecotOverTCPAndUnixSocket() throws {
        let fx = try ReleaseFixture()
        try fx.hold(4)
        try fx.hold(2, user: "bob@example.com", sender: "")
        try fx.receipt()
        try fx.receipt(user: "bob@example.com")
        // LMTP delivers to the server's users only, as at a real site.
        let users = [ReleaseFixture.user, "bob@example.com"].map { DovecotIMAPServer.User($0, "unused") }
        let dovecot = try DovecotIMAPServer(users: users, tls: false, lmtp: true)
        defer { dovecot.stop() }
        let alice = fx.held.prefix(4)
        // A crash window: message 1's attempt was journalled but its outcome is unknown.
        let address = "lmtp://127.0.0.1:\(dovecot.lmtpPort)"
        do {
            let spool = try BufferSpool(directory: fx.spoolDirectory)
            defer { try? spool.close() }
            try spool.beginRelease(user: ReleaseFixture.user, to: ReleaseTarget(direction: .target, address: address))
            try spool.markDelivering(alice.first!.message.id, user: ReleaseFixture.user, target: address)
        }
        let report = try ReleaseJob(
            spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, target: address, receiptPath: fx.file("receipts"),
            trustedKeyPath: fx.publicPath
        ).run()
        #expect(report.delivered == 4 && report.failures.isEmpty && report.state == .released, "\(report) \(dovecot.log)")
        #expect(report.possiblyDuplicated == [alice.first!.message.id.rawValue])

        let stored = try maildirMessages(dovecot.maildir(ReleaseFixture.user))
        #expect(stored.count == 4, "\(dovecot.log)")
        for (_, bytes) in alice {
            #expect(stored.filter { Self.delivered($0.bytes, equals: bytes) }.count == 1)
        }
        // Order of arrival: Dovecot's uid list numbers messages in delivery order.
        let uidlist = try String(contentsOfFile: dovecot.maildir(ReleaseFixture.user) + "/dovecot-uidlist", encoding: .utf8)
        let names = uidlist.split(separator: "\n").dropFirst().compactMap { line -> String? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[line.index(after: colon)...]).components(separatedBy: ":2,")[0]
        }
        let byName = Dictionary(uniqueKeysWithValues: stored.map { ($0.name.components(separatedBy: ":2,")[0], $0.bytes) })
        let orderedBytes = names.compactMap { byName[$0] }
        #expect(orderedBytes.count == 4)
        for (i, (_, bytes)) in alice.enumerated() where i < orderedBytes.count {
            #expect(Self.delivered(orderedBytes[i], equals: bytes), "message \(i + 1) is not in arrival position")
        }

        // Bob through Dovecot's LMTP unix socket; his mail had the null sender.
        let bob = try ReleaseJob(
            spoolDirectory: fx.spoolDirectory, user: "bob@example.com", target: "lmtp:" + dovecot.lmtpSocket,
            receiptPath: fx.file("receipts"), trustedKeyPath: fx.publicPath
        ).run()
        #expect(bob.delivered == 2 && bob.state == .released, "\(dovecot.log)")
        let bobStored = try maildirMessages(dovecot.maildir("bob@example.com"))
        #expect(bobStored.count == 2)
        for (_, bytes) in fx.held.suffix(2) {
            #expect(bobStored.filter { Self.delivered($0.bytes, equals: bytes) }.count == 1)
        }
        #expect(bobStored.allSatisfy { String(decoding: $0.bytes.prefix(16), as: UTF8.self).hasPrefix("Return-Path: <>") })
    }
}
