import Foundation
import Synchronization
import Testing
import TestSupport

/// The built `mailferry` binary's buffer commands, as an operator runs them: `buffer serve` as a process on
/// 127.0.0.1 port 0, then `status` (text and JSON), `hold`, `forwarding --off`, `release --undo`, `close`
/// against it, SIGTERM ending it with exit 0, and configurations that cannot be used.
@Suite(.blocking) struct BufferCommandLineTests {
    /// A running `mailferry buffer serve`; its stdout lines tell the bound addresses.
    final class Serve {
        let process: Process
        let output = TextBox()
        let errors = TextBox()
        private(set) var smtpPort = 0
        private(set) var lmtpPort = 0
        private(set) var controlPath = ""

        /// `wrapper`: a command that runs the binary (its last word) with the serve arguments, such as `unshare`.
        init(config: String, wrapper: [String] = []) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: wrapper.first ?? CLI.binary)
            process.arguments = Array(wrapper.dropFirst()) + ["buffer", "serve", "--config", config]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let output = self.output
            let errors = self.errors
            Thread {
                while case let data = out.fileHandleForReading.availableData, !data.isEmpty {
                    output.append(String(decoding: data, as: UTF8.self))
                }
            }.start()
            Thread {
                while case let data = err.fileHandleForReading.availableData, !data.isEmpty {
                    errors.append(String(decoding: data, as: UTF8.self))
                }
            }.start()
            let deadline = Date().addingTimeInterval(60)
            while !(output.text.contains("control ") && output.text.hasSuffix("\n")) {
                guard process.isRunning, Date() < deadline else {
                    process.terminate()
                    throw CocoaError(
                        .executableLoad,
                        userInfo: [NSLocalizedDescriptionKey: "buffer serve did not start: \(errors.text)"])
                }
                usleep(10_000)
            }
            // "listening smtp 127.0.0.1:PORT", "listening lmtp 127.0.0.1:PORT", "control PATH"
            for line in output.text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if words.count == 2 && words[0] == "control" { controlPath = words[1] }
                guard words.count == 3, words[0] == "listening" else { continue }
                let port = Int(words[2].split(separator: ":").last ?? "") ?? 0
                if words[1] == "smtp" { smtpPort = port }
                if words[1] == "lmtp" { lmtpPort = port }
            }
        }

        /// SIGTERM, then the exit status.
        func terminate() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    static func writeConfig(_ work: Workspace, extra: String = "") throws -> String {
        let path = work.file("buffer.toml")
        try """
            [smtp]
            listen = "127.0.0.1:0"
            [lmtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(work.file("spool"))"
            namespace = "buffer.example.com"
            hold = ["alice@example.com"]
            hostname = "buffer.test"
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Sends one message with Python's smtplib; returns its outcome line.
    static func send(port: Int, to recipient: String) throws -> String {
        let script = #"""
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20, local_hostname='client.test')
            try:
                print('OK', s.sendmail('carol@example.org', [sys.argv[2]], b'Subject: cli\r\nMessage-ID: <cli@example.org>\r\n\r\nhello\r\n'))
            except smtplib.SMTPRecipientsRefused as e:
                print('REFUSED', [c for c, m in e.recipients.values()])
            s.quit()
            """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, "\(port)", recipient]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    struct UserJSON: Decodable, Equatable {
        var user: String
        var state: String
        var inMigrationSet: Bool
        var heldCount: Int
        var heldBytes: Int
        var oldestArrival: String?
        var newestArrival: String?
    }

    static func statusJSON(_ config: String) throws -> [UserJSON] {
        let result = try CLI.run(["buffer", "status", "--config", config, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode([UserJSON].self, from: result.stdoutBytes)
    }

    @Test func serveStatusHoldForwardingUndoCloseAndSIGTERM() throws {
        let work = try Workspace()
        let config = try Self.writeConfig(work)
        let serve = try Serve(config: config)
        #expect(serve.smtpPort > 0 && serve.lmtpPort > 0)
        #expect(serve.controlPath == work.file("spool") + "/control.sock")
        #expect(
            serve.output.text
                == "listening smtp 127.0.0.1:\(serve.smtpPort)\nlistening lmtp 127.0.0.1:\(serve.lmtpPort)\ncontrol \(serve.controlPath)\n")

        #expect(try Self.send(port: serve.smtpPort, to: "alice@buffer.example.com") == "OK {}\n")

        // status, as JSON and as text: the same facts.
        let users = try Self.statusJSON(config)
        try #require(users.count == 1)
        let alice = users[0]
        #expect(alice.user == "alice@example.com" && alice.state == "holding" && alice.inMigrationSet && alice.heldCount == 1)
        #expect(alice.heldBytes > 60)
        #expect(alice.oldestArrival != nil && alice.oldestArrival == alice.newestArrival)
        let text = try CLI.run(["buffer", "status", "--config", config])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines == [
            ["USER", "STATE", "HOLD", "HELD", "BYTES", "OLDEST", "NEWEST"],
            [
                "alice@example.com", "holding", "yes", "1", "\(alice.heldBytes)", alice.oldestArrival!, alice.newestArrival!,
            ],
        ], "\(text.stdout)")

        // hold: takes effect at once in the running server.
        #expect(try Self.send(port: serve.smtpPort, to: "dave@buffer.example.com") == "REFUSED [550]\n")
        let hold = try CLI.run(["buffer", "hold", "--config", config, "--user", "Dave@Example.com"])
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(hold.stdout == "dave@example.com: in the migration set (holding, 0 held)\n")
        #expect(try Self.send(port: serve.smtpPort, to: "dave@buffer.example.com") == "OK {}\n")
        let namespaced = try CLI.run(["buffer", "hold", "--config", config, "--user", "erin@buffer.example.com"])
        #expect(namespaced.status == 2)
        #expect(namespaced.stderr.contains("give the user's own address (for example erin@example.com)"), "\(namespaced.stderr)")

        // close refuses a user still holding mail.
        let early = try CLI.run(["buffer", "close", "--config", config, "--user", "alice@example.com"])
        #expect(early.status != 0)
        #expect(early.stderr.contains("cannot go from holding to closed"), "\(early.stderr)")

        // Undo: forwarding off, release back to the source, then close.
        let forwarding = try CLI.run(["buffer", "forwarding", "--config", config, "--user", "alice@example.com", "--off"])
        #expect(forwarding.status == 0, "\(forwarding.stderr)")
        #expect(forwarding.stdout == "alice@example.com: forwarding to the buffer recorded as off (removed)\n")
        let source = work.file("source")
        let undo = try CLI.run(["buffer", "release", "--config", config, "--user", "alice@example.com", "--to", "dir:" + source, "--undo"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(undo.stdout == "alice@example.com: 1 delivered, 0 already at the target, 0 not delivered; state reverted\n")
        // The progress of the release, relayed by the running server: its final line (standard error is a pipe).
        #expect(undo.stderr.hasPrefix("release: 1 items, "), "\(undo.stderr)")
        let close = try CLI.run(["buffer", "close", "--config", config, "--user", "alice@example.com"])
        #expect(close.status == 0, "\(close.stderr)")
        #expect(close.stdout == "alice@example.com: closed\n")
        #expect(try Self.send(port: serve.smtpPort, to: "alice@buffer.example.com") == "REFUSED [550]\n")
        let after = try Self.statusJSON(config)
        #expect(after.map(\.user) == ["alice@example.com", "dave@example.com"])
        #expect(after.first?.state == "closed" && after.first?.inMigrationSet == false && after.first?.heldCount == 0)
        #expect(after.last?.state == "holding" && after.last?.inMigrationSet == true && after.last?.heldCount == 1)

        // SIGTERM: a graceful stop, exit 0; the commands then read the spool directly.
        #expect(serve.terminate() == 0, "\(serve.errors.text)")
        #expect(!FileManager.default.fileExists(atPath: serve.controlPath))
        #expect(try Self.statusJSON(config) == after)
    }

    @Test func aConfigurationThatCannotBeUsedIsAClearErrorAndExit2() throws {
        let work = try Workspace()
        let unknownKey = try Self.writeConfig(work, extra: "hodl = [\"bob@example.com\"]")
        let bad = try CLI.run(["buffer", "serve", "--config", unknownKey])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("mailferry: \(unknownKey): buffer.hodl: unknown key (known: "), "\(bad.stderr)")

        let missingCertificate = try Self.writeConfig(work, extra: "")
        var text = try String(contentsOfFile: missingCertificate, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "[lmtp]", with: "tls_certificate = \"\(work.file("none.pem"))\"\ntls_key = \"\(work.file("none.key"))\"\n[lmtp]")
        try text.write(toFile: missingCertificate, atomically: true, encoding: .utf8)
        let tls = try CLI.run(["buffer", "serve", "--config", missingCertificate])
        #expect(tls.status == 2)
        #expect(
            tls.stderr == "mailferry: \(missingCertificate): smtp.tls_certificate: \(work.file("none.pem")) does not exist\n",
            "\(tls.stderr)")

        let absent = try CLI.run(["buffer", "serve", "--config", work.file("absent.toml")])
        #expect(absent.status == 2)
        #expect(absent.stderr.hasPrefix("mailferry: \(work.file("absent.toml")): cannot be read"), "\(absent.stderr)")

        let linger = try Self.writeConfig(work, extra: "linger = \"1 week\"")
        let lingerResult = try CLI.run(["buffer", "status", "--config", linger])
        #expect(lingerResult.status == 2)
        #expect(lingerResult.stderr.contains("buffer.linger: "), "\(lingerResult.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.file("spool")), "no spool is created for a bad configuration")
    }
}

/// Text collected by a reader thread and read by the test.
final class TextBox: Sendable {
    private let value = Mutex("")
    func append(_ text: String) { value.withLock { $0 += text } }
    var text: String { value.withLock { $0 } }
}
