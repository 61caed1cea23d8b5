import Buffer
import BufferSpool
import FerryArchive
import Foundation
import Synchronization
import Testing
import TestSupport
import SystemLayer
import Telemetry

/// A real buffer server on 127.0.0.1 port 0 with a temporary spool, shut down on every path.
struct LiveBuffer {
    static let namespace = "buffer.example.com"
    static let hostname = "buffer.test"

    let server: RunningServer
    let directory: String

    var smtpPort: Int { server.smtpPort! }
    var lmtpPort: Int { server.lmtpPort! }
    /// The file spool (the default store).
    var spool: BufferSpool { server.spool as! BufferSpool }
    /// The spool, whichever store it is.
    var store: any SpoolStore { server.spool }

    static func configuration(spool: String, hold: [String] = ["alice@example.com", "bob@example.com"],
                              edit: (inout BufferConfiguration) -> Void = { _ in }) -> BufferConfiguration {
        var configuration = try! BufferConfiguration.parse("""
            [smtp]
            listen = "127.0.0.1:0"
            [lmtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(spool)"
            namespace = "\(namespace)"
            hold = [\(hold.map { "\"\($0)\"" }.joined(separator: ", "))]
            hostname = "\(hostname)"
            """)
        edit(&configuration)
        return configuration
    }

    static func temporaryDirectory() throws -> String {
        let path = "/tmp/mfb-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `body` against a fresh server; the server is shut down and the directory removed afterwards.
    static func with<T>(
        shutdownTimeout: Duration = .seconds(5), lingerCheckInterval: Duration = BufferDefaults.lingerCheckInterval,
        incomingFiles: IncomingFiles = .spoolDirectory, logSink: LogSink = .discard, store: SpoolStoreTests.Kind = .sqlite,
        edit: (inout BufferConfiguration) -> Void = { _ in }, _ body: (LiveBuffer) async throws -> T
    ) async throws -> T {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The shared spool: a throwaway PostgreSQL for this server alone, set up on a thread of its own (initdb and
        // the wait for the server block; the servers' tasks need the concurrency threads).
        let postgres = store == .postgres ? try await Client.offThread { try PostgresTestServer() } : nil
        defer { postgres?.stop(remove: true) }
        let configuration = Self.configuration(spool: postgres?.url ?? directory + "/spool", edit: edit)
        let server = try await BufferServer.start(
            configuration, shutdownTimeout: shutdownTimeout, lingerCheckInterval: lingerCheckInterval,
            incomingFiles: incomingFiles, logSink: logSink)
        let live = LiveBuffer(server: server, directory: directory)
        do {
            let result = try await body(live)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Starts a server on a spool that was just closed (by another server, or opened directly). A child process
    /// that concurrently running tests spawn at that moment holds a copy of this process's descriptor table until
    /// its exec, and with it the old `spool.lock` flock, for a moment after the close (seen once in several runs
    /// of the whole suite, as `SpoolError.locked`): wait that out, for at most 10 seconds.
    static func startAfterClose(
        _ configuration: BufferConfiguration, lingerCheckInterval: Duration = BufferDefaults.lingerCheckInterval
    ) async throws -> RunningServer {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try await BufferServer.start(configuration, lingerCheckInterval: lingerCheckInterval, logSink: .discard)
            } catch SpoolError.locked where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The held messages of `user`, with their stored bytes.
    func held(_ user: String) throws -> [(message: HeldMessage, bytes: [UInt8])] {
        try store.heldMessages(for: user).map { message in
            var bytes: [UInt8] = []
            try store.readMessage(message.id) { bytes += $0 }
            return (message, bytes)
        }
    }
}

/// The stored bytes: the buffer's trace header (Received, 3 lines, and the marker), then the message as sent.
func splitTrace(_ stored: [UInt8]) -> (trace: String, message: [UInt8]) {
    let marker = Array("X-MailFerry-Buffered: \(LiveBuffer.hostname)\r\n".utf8)
    var index = 0
    while index + marker.count <= stored.count {
        if Array(stored[index..<index + marker.count]) == marker {
            let end = index + marker.count
            return (String(decoding: stored[..<end], as: UTF8.self), Array(stored[end...]))
        }
        index += 1
    }
    return ("", stored)
}

func sha256(_ bytes: [UInt8]) -> String {
    let hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalizeHex()
}

/// Runs a real client: a Python script (smtplib) or swaks, and returns what it printed.
enum Client {
    typealias Output = ProcessOutput

    static func python(_ script: String, _ arguments: [String] = [], stdin: String? = nil) throws -> Output {
        try run("/usr/bin/env", ["python3", "-c", script] + arguments, stdin: stdin)
    }

    static func swaks(_ arguments: [String]) throws -> Output {
        try run("/usr/bin/swaks", arguments)
    }

    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> Output {
        try ProcessRunner.run(executable, arguments, input: Data((stdin ?? "").utf8))
    }
}

extension Client {
    /// The blocking runners on a dispatch thread, so no Swift concurrency thread waits for a child process
    /// (the server's spool workers need those threads to answer the very client being waited for).
    static func python(_ script: String, _ arguments: [String] = []) async throws -> Output {
        try await offThread { try python(script, arguments, stdin: nil) }
    }

    static func swaks(_ arguments: [String]) async throws -> Output {
        try await offThread { try swaks(arguments) }
    }

    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "client").async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Python clients used by the tests; arguments come on the command line.
enum Scripts {
    /// argv: port sender rcpt[,rcpt...] bodyfile [nosize]. Prints one outcome line.
    static let send = #"""
        import smtplib, sys
        port, sender, rcpts, path = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(','), sys.argv[4]
        body = open(path, 'rb').read()
        s = smtplib.SMTP('127.0.0.1', port, timeout=20, local_hostname='client.test')
        s.ehlo('client.test')
        try:
            if len(sys.argv) > 5:
                s.mail(sender)
                for r in rcpts:
                    code, _ = s.rcpt(r)
                code, msg = s.data(body)
                print('DATA', code, msg.decode())
            else:
                refused = s.sendmail(sender, rcpts, body)
                print('OK', ' '.join('%s:%d' % (r, c) for r, (c, m) in sorted(refused.items())))
        except smtplib.SMTPRecipientsRefused as e:
            print('REFUSED', ' '.join('%s:%d:%s' % (r, c, m.decode()) for r, (c, m) in sorted(e.recipients.items())))
        except smtplib.SMTPDataError as e:
            print('DATA', e.smtp_code, e.smtp_error.decode())
        except smtplib.SMTPSenderRefused as e:
            print('SENDER', e.smtp_code, e.smtp_error.decode())
        try:
            s.quit()
        except Exception:
            pass
        """#
}
