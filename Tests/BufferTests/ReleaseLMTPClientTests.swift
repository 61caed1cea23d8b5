import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import Buffer

/// An LMTP server on a unix socket that answers from a script, for refusals Dovecot would not give.
final class ScriptedLMTPServer {
    let path: String
    private let listener: Int32
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    /// `replies` maps a command verb (or "DATA-END") to the reply it gets; the greeting is 220.
    init(replies: [String: String]) throws {
        let socketPath = "/tmp/mf-lmtp-\(UUID().uuidString.prefix(8)).sock"
        path = socketPath
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0, listen(fd, 1) == 0 else { throw DovecotFailure(message: "cannot listen on \(socketPath)") }
        let box = ReceivedBox()
        let signal = done
        thread = Thread {
          while true {
            let c = accept(fd, nil, nil)
            if c < 0 { break }
            func say(_ s: String) { _ = s.withCString { send(c, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
            say("220 scripted ready\r\n")
            var buffer: [UInt8] = []
            var inData = false
            var chunk = [UInt8](repeating: 0, count: 4096)
            loop: while true {
                let n = recv(c, &chunk, chunk.count, 0)
                if n <= 0 { break }
                buffer += chunk[0..<n]
                while let lf = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[...lf], as: UTF8.self)
                    buffer.removeSubrange(...lf)
                    box.text.withLock { $0 += line }
                    if inData {
                        if line == ".\r\n" {
                            inData = false
                            say(replies["DATA-END"] ?? "250 2.0.0 ok\r\n")
                        }
                        continue
                    }
                    let verb = line.split(separator: " ").first.map { String($0).uppercased().trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
                    say(replies[verb] ?? (verb == "DATA" ? "354 go ahead\r\n" : "250 ok\r\n"))
                    if verb == "DATA" && (replies["DATA"] ?? "354").hasPrefix("354") { inData = true }
                    if verb == "QUIT" { break loop }
                }
            }
            close(c)
          }
          signal.signal()
        }
        self.box = box
        thread.start()
    }

    private let box: ReceivedBox
    /// What the client sent, filled by the server thread; read after `join()`.
    final class ReceivedBox: Sendable { let text = Mutex("") }

    /// Stops accepting connections and returns the transcript of all of them.
    func join() -> String {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 10)
        return box.text.withLock { $0 }
    }

    deinit {
        close(listener)
        unlink(path)
    }
}

@Suite struct ReleaseLMTPRefusalTests {
    @Test func aRefusedRecipientCarriesTheServersReplyAndTheMessageStaysHeld() throws {
        let fx = try ReleaseFixture()
        try fx.hold(2)
        try fx.receipt()
        let server = try ScriptedLMTPServer(replies: [
            "LHLO": "250-scripted\r\n250 8BITMIME\r\n",
            "RCPT": "550 5.1.1 <alice@example.com> User doesn't exist here\r\n",
        ])
        let report = try ReleaseJob(
            spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, target: "lmtp:" + server.path,
            receiptPath: fx.file("receipts"), trustedKeyPath: fx.publicPath
        ).run()
        #expect(report.delivered == 0)
        #expect(report.failures.count == 2)
        #expect(report.failures.allSatisfy { $0.reason.contains("550 5.1.1 <alice@example.com> User doesn't exist here") }, "\(report.failures)")
        #expect(report.state == .releasing)
        #expect(try fx.state()?.heldCount == 2)
        let transcript = server.join()
        #expect(transcript.contains("MAIL FROM:<sender@example.org> BODY=8BITMIME\r\n"), "\(transcript)")
        #expect(!transcript.contains("DATA"))
    }

    @Test func aDamagedMessageNeverGetsTheFinalDot() throws {
        let fx = try ReleaseFixture()
        try fx.hold(1)
        try fx.receipt()
        let file = try fx.spoolFile(of: 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[3] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let server = try ScriptedLMTPServer(replies: [:])
        let report = try ReleaseJob(
            spoolDirectory: fx.spoolDirectory, user: ReleaseFixture.user, target: "lmtp:" + server.path,
            receiptPath: fx.file("receipts"), trustedKeyPath: fx.publicPath
        ).run()
        #expect(report.failures.count == 1 && report.delivered == 0)
        let transcript = server.join()
        #expect(transcript.contains("DATA\r\n"))
        #expect(!transcript.contains("\r\n.\r\n"), "the server must never see the end of a damaged message")
    }
}
