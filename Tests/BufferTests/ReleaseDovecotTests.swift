import BufferSpool
import Foundation
import Testing
import TestSupport

@testable import Buffer

#if canImport(Glibc)
import Glibc
#endif

/// A real Dovecot LMTP server, started by the test with its own configuration in a temporary directory and stopped
/// at the end. If Dovecot cannot start, the test fails with Dovecot's log.
final class DovecotLMTP {
    let root: String
    let port: Int
    let process = Process()
    var config: String { root + "/dovecot.conf" }
    var socketPath: String { root + "/run/lmtp" }
    var log: String {
        ((try? String(contentsOfFile: root + "/dovecot.log", encoding: .utf8)) ?? "(no dovecot.log)") + "\n"
            + ((try? String(contentsOfFile: root + "/stderr.log", encoding: .utf8)) ?? "")
    }

    func maildir(_ user: String) -> String { root + "/mail/\(user)/Maildir" }

    init() throws {
        root = "/tmp/mf-dovecot-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/mail", withIntermediateDirectories: true)
        chmod(root, 0o755)
        chmod(root + "/mail", 0o777)  // Dovecot writes as `nobody`
        port = try FreePort.make()
        try """
            base_dir = \(root)/run
            state_dir = \(root)/state
            log_path = \(root)/dovecot.log
            protocols = lmtp
            listen = 127.0.0.1
            ssl = no
            auth_mechanisms = plain
            default_internal_user = nobody
            default_internal_group = nogroup
            default_login_user = nobody
            mail_uid = nobody
            mail_gid = nogroup
            mail_location = maildir:\(root)/mail/%u/Maildir
            lmtp_save_to_detail_mailbox = no
            passdb {
              driver = static
              args = nopassword=y
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(root)/mail/%u
            }
            service lmtp {
              inet_listener lmtp {
                address = 127.0.0.1
                port = \(port)
              }
              unix_listener lmtp {
                mode = 0666
              }
            }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/dovecot")
        process.arguments = ["-F", "-c", config]
        _ = FileManager.default.createFile(atPath: root + "/stderr.log", contents: nil)
        let err = FileHandle(forWritingAtPath: root + "/stderr.log")
        process.standardOutput = err
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw DovecotFailure(message: "cannot run /usr/sbin/dovecot (install dovecot-core and dovecot-lmtpd): \(error)")
        }
        // Wait until the listener answers (at most 15 s).
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if process.isRunning, (try? LMTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutSeconds: 5))?.quit() != nil {
                return
            }
            if !process.isRunning { break }
            usleep(100_000)
        }
        stop()
        throw DovecotFailure(message: "Dovecot did not start listening on 127.0.0.1:\(port). Log:\n\(log)")
    }

    /// SIGTERM, then SIGKILL if the master has not gone after 5 s (its children exit when the master is gone).
    /// Polls instead of waitUntilExit, which can block for as long as Dovecot lingers.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        for signal in [SIGTERM, SIGKILL] {
            kill(pid, signal)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if !process.isRunning { return }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

struct DovecotFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite(.serialized) struct ReleaseDovecotTests {
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
        let dovecot: DovecotLMTP
        do {
            dovecot = try DovecotLMTP()
        } catch {
            Issue.record("Dovecot could not be started: \(error)")
            return
        }
        defer { dovecot.stop() }
        let alice = fx.held.prefix(4)
        // A crash window: message 1's attempt was journalled but its outcome is unknown.
        let address = "lmtp://127.0.0.1:\(dovecot.port)"
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
            spoolDirectory: fx.spoolDirectory, user: "bob@example.com", target: "lmtp:" + dovecot.socketPath,
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
