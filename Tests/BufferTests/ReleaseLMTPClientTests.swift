import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import Buffer

@Suite struct ReleaseLMTPClientTests {
    @Test func repliesAreParsedWholeAndOneByteAtATime() throws {
        let wire = Array("220 mx ready\r\n250-mx\r\n250-8BITMIME\r\n250 PIPELINING\r\n550 5.1.1 <x@y>: no such user\r\n".utf8)
        for split in [wire.count, 1] {
            var parser = LMTPClientReplyParser()
            var replies: [LMTPClientReply] = []
            var i = 0
            while i < wire.count {
                parser.feed(wire[i..<min(i + split, wire.count)])
                i += split
                while let r = try parser.next() { replies.append(r) }
            }
            #expect(replies.map(\.code) == [220, 250, 550])
            #expect(replies[1].lines == ["mx", "8BITMIME", "PIPELINING"])
            #expect(replies[1].capabilities == ["8BITMIME", "PIPELINING"])
            #expect(replies[2].description == "550 5.1.1 <x@y>: no such user")
        }
        var bad = LMTPClientReplyParser()
        bad.feed(Array("hello\r\n".utf8))
        #expect(throws: LMTPClientError.self) { try bad.next() }
        var mixed = LMTPClientReplyParser()
        mixed.feed(Array("250-a\r\n251 b\r\n".utf8))
        #expect(throws: LMTPClientError.self) { try mixed.next() }
    }

    @Test func dotStuffingSurvivesEverySplit() throws {
        let message = Array(".starts with dot\r\nmiddle\r\n.\r\n..two\r\nlast".utf8)
        let expected = Array("..starts with dot\r\nmiddle\r\n..\r\n...two\r\nlast\r\n.\r\n".utf8)
        for cut in 0...message.count {
            var stuffer = LMTPClientDotStuffer()
            var out = stuffer.stuff(Array(message[..<cut]))
            out += stuffer.stuff(Array(message[cut...]))
            out += stuffer.finish()
            #expect(out == expected, "cut at \(cut)")
        }
        var ended = LMTPClientDotStuffer()
        #expect(ended.stuff(Array("a\r\n".utf8)) + ended.finish() == Array("a\r\n.\r\n".utf8))
    }
}

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
