import TestSupport
import BufferSpool
import Foundation
import Testing

/// `mailferry buffer serve` in a child process, killed with SIGKILL at random moments while concurrent
/// smtplib senders deliver: every message that got a 250 must be in the spool afterwards, whole.
@Suite(.blocking) struct BufferCrashDurabilityTests {
    static let binary = BuiltBinary.path

    /// argv: port prefix ready stop threads. Prints `OK <message-id>` for every 250 after DATA, creates `ready`
    /// after the first one, and sends until `stop` exists (at most 60 s), so that a slow machine's start-up time
    /// never eats the window in which the server is killed.
    static let sender = #"""
        import os, smtplib, sys, threading, time
        port, prefix, ready, stop, threads = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        lock = threading.Lock()
        end = time.time() + 60
        def going():
            return time.time() < end and not os.path.exists(stop)
        def body(mid):
            return ('Message-ID: <%s>\r\nSubject: %s\r\n\r\n' % (mid, mid) + ''.join('line %d of %s\r\n' % (i, mid) for i in range(40))).encode()
        def run(t):
            n = 0
            while going():
                try:
                    s = smtplib.SMTP('127.0.0.1', port, timeout=5, local_hostname='crash.test')
                    s.ehlo()
                    while going():
                        mid = '%s-%d-%d@crash.test' % (prefix, t, n)
                        n += 1
                        s.sendmail('c@example.org', ['alice@buffer.example.com'], body(mid))
                        with lock:
                            print('OK', mid, flush=True)
                            if not os.path.exists(ready):
                                open(ready, 'w').close()
                except Exception:
                    time.sleep(0.01)
        ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for t in ts: t.start()
        for t in ts: t.join()
        """#

    static func expectedBody(_ mid: String) -> [UInt8] {
        Array(("Message-ID: <\(mid)>\r\nSubject: \(mid)\r\n\r\n" + (0..<40).map { "line \($0) of \(mid)\r\n" }.joined()).utf8)
    }

    /// Starts the server and returns it with its SMTP port, read from its first output line. `stderr`: a file
    /// for the server's log (its standard error), which is otherwise dropped.
    static func startServer(config: String, stderr: String? = nil) async throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["buffer", "serve", "--config", config]
        let out = Pipe()
        process.standardOutput = out
        if let stderr {
            FileManager.default.createFile(atPath: stderr, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let handle = out.fileHandleForReading
        let port = try await Client.offThread { () throws -> Int in
            var text = ""
            while !text.contains("\n") {
                let data = handle.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening smtp ") }),
                let port = Int(line.split(separator: ":").last ?? "")
            else { throw CrashTestError(message: "server did not start: \(text)") }
            return port
        }
        return (process, port)
    }

    struct CrashTestError: Error {
        var message: String
    }

    @Test func everyMessageAnswered250SurvivesKillNine() async throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/buffer.toml"
        try """
            [smtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(directory)/spool"
            namespace = "buffer.example.com"
            hold = ["alice@example.com"]
            hostname = "\(LiveBuffer.hostname)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var random = SplitMix64(seed: 0x6d61_696c_6665_7272)
        var acknowledged: Set<String> = []
        for round in 0..<20 {
            let (server, port) = try await Self.startServer(config: config)
            let ready = directory + "/ready-\(round)"
            let stop = directory + "/stop-\(round)"
            let sending = Task { try await Client.python(Self.sender, ["\(port)", "r\(round)", ready, stop, "4"]) }
            // Kill at a random moment once mail is flowing.
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 500)))
            kill(server.processIdentifier, SIGKILL)
            try await Client.offThread { server.waitUntilExit() }
            FileManager.default.createFile(atPath: stop, contents: nil)
            let out = try await sending.value
            for line in out.stdout.split(separator: "\n") where line.hasPrefix("OK ") {
                acknowledged.insert(String(line.dropFirst(3)))
            }
        }
        #expect(acknowledged.count > 20, "the senders barely got through: \(acknowledged.count)")

        let spool = try BufferSpool(directory: directory + "/spool")
        defer { try? spool.close() }
        var stored: [String: [UInt8]] = [:]
        var after: MessageID?
        while true {
            let page = try spool.heldMessages(for: "alice@example.com", after: after)
            guard let last = page.last else { break }
            for message in page {
                var bytes: [UInt8] = []
                // readMessage checks the committed SHA-256 and size.
                try spool.readMessage(message.id) { bytes += $0 }
                #expect(message.sha256 == sha256(bytes))
                let mid = try #require(message.envelope.messageID)
                stored[String(mid.dropFirst().dropLast())] = bytes
            }
            after = last.id
        }
        let missing = acknowledged.subtracting(stored.keys)
        #expect(missing.isEmpty, "answered 250 but not held: \(missing.sorted().prefix(10))")
        // Nothing partial: every held message is exactly what its sender sent, behind the trace header.
        for (mid, bytes) in stored {
            #expect(splitTrace(bytes).message == Self.expectedBody(mid), "\(mid) is not whole")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/spool/incoming").isEmpty)
    }
}

