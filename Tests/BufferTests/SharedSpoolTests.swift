import BufferSpool
import Foundation
import PostgresSpool
import Testing
import TestSupport

@testable import Buffer

/// Several `mailferry buffer serve` processes on one PostgreSQL spool, as on several MX hosts: crashes, a
/// release asked on two hosts at once, and the database going away under load.
@Suite(.serialized, .blocking) struct SharedSpoolTests {
    static let binary = BuiltBinary.path
    static let alice = "alice@example.com"

    static func writeConfig(_ path: String, spool: String) throws {
        try """
            [smtp]
            listen = "127.0.0.1:0"
            [buffer]
            spool = "\(spool)"
            namespace = "buffer.example.com"
            hold = ["\(alice)"]
            hostname = "\(LiveBuffer.hostname)"
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Every held message of alice, by its Message-ID (without brackets), each read back through `readMessage`,
    /// which checks the committed SHA-256 and size.
    static func heldByMessageID(_ spool: any SpoolStore) throws -> [String: [[UInt8]]] {
        var stored: [String: [[UInt8]]] = [:]
        var after: MessageID?
        while true {
            let page = try spool.heldMessages(for: alice, after: after)
            guard let last = page.last else { break }
            for message in page {
                var bytes: [UInt8] = []
                try spool.readMessage(message.id) { bytes += $0 }
                #expect(message.sha256 == sha256(bytes))
                let mid = try #require(message.envelope.messageID)
                stored[String(mid.dropFirst().dropLast()), default: []].append(bytes)
            }
            after = last.id
        }
        return stored
    }

    @Test func twoServersOnOneDatabaseKeepEveryAcknowledgedMessageOnceAcrossKillNine() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/buffer.toml"
        try Self.writeConfig(config, spool: postgres.url)
        var random = SplitMix64(seed: 0x7067_7370_6f6f_6c21)
        var acknowledged: [String] = []
        var servers: [(Process, Int)?] = [nil, nil]
        for round in 0..<6 {
            for host in 0..<2 where servers[host] == nil {
                servers[host] = try await BufferCrashDurabilityTests.startServer(config: config)
            }
            let ready = directory + "/ready-\(round)"
            let stop = directory + "/stop-\(round)"
            let senders = (0..<2).map { host in
                let port = servers[host]!.1
                return Task {
                    try await Client.python(
                        BufferCrashDurabilityTests.sender, ["\(port)", "r\(round)h\(host)", ready, stop, "3"])
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(200 + Int(random.next() % 600)))
            // Each host in turn is killed; the other keeps taking mail on the same database meanwhile.
            let victim = round % 2
            let (process, _) = servers[victim]!
            kill(process.processIdentifier, SIGKILL)
            try await Client.offThread { process.waitUntilExit() }
            servers[victim] = nil
            try await Task.sleep(for: .milliseconds(300))
            FileManager.default.createFile(atPath: stop, contents: nil)
            for sender in senders {
                for line in try await sender.value.stdout.split(separator: "\n") where line.hasPrefix("OK ") {
                    acknowledged.append(String(line.dropFirst(3)))
                }
            }
        }
        for case let (process, _)? in servers {
            #expect(process.isRunning, "a server that was not killed must still run")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(acknowledged.count > 20, "the senders barely got through: \(acknowledged.count)")
        #expect(Set(acknowledged).count == acknowledged.count)

        let spool = try SpoolStores.open(postgres.url, passwordFile: nil)
        defer { try? spool.close() }
        let stored = try Self.heldByMessageID(spool)
        let missing = Set(acknowledged).subtracting(stored.keys)
        #expect(missing.isEmpty, "answered 250 but not held: \(missing.sorted().prefix(10))")
        let twice = acknowledged.filter { (stored[$0]?.count ?? 0) > 1 }
        #expect(twice.isEmpty, "answered 250 once but held more than once: \(twice.prefix(10))")
        for mid in acknowledged {
            for bytes in stored[mid] ?? [] {
                #expect(splitTrace(bytes).message == BufferCrashDurabilityTests.expectedBody(mid), "\(mid) is not whole")
            }
        }
    }

    /// An MX host's buffer that comes up before its database waits for it, saying so, rather than exiting (which
    /// a service manager's restart limit turns into a buffer that stays down); once the database is up it takes
    /// mail. A stop while it waits ends it at once.
    @Test func aBufferStartedBeforeItsDatabaseWaitsForIt() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        postgres.stop()
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/buffer.toml"
        try Self.writeConfig(config, spool: postgres.url)

        /// Starts `buffer serve` with its standard error in a file; waits until that says it waits for the database.
        func startWaiting(_ name: String) async throws -> (process: Process, out: FileHandle, log: String) {
            let log = directory + "/\(name).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["buffer", "serve", "--config", config]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline && process.isRunning {
                if (try String(contentsOfFile: log, encoding: .utf8)).contains("cannot be reached") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let said = try String(contentsOfFile: log, encoding: .utf8)
            #expect(process.isRunning, "buffer serve ended instead of waiting: \(said)")
            #expect(said.contains("the spool database \(postgres.url) cannot be reached") && said.contains("trying again"), "\(said)")
            return (process, out.fileHandleForReading, log)
        }

        // Stopped while it waits: it ends, having started nothing.
        let stopped = try await startWaiting("stopped")
        kill(stopped.process.processIdentifier, SIGTERM)
        try await Client.offThread { stopped.process.waitUntilExit() }
        #expect(stopped.process.terminationStatus == 0)

        // The database comes up: the buffer starts listening and answers 250.
        let waiting = try await startWaiting("waiting")
        defer { if waiting.process.isRunning { kill(waiting.process.processIdentifier, SIGKILL) } }
        try await Client.offThread { try postgres.start() }
        let port = try await Client.offThread { () throws -> Int in
            var text = ""
            while !text.contains("listening smtp ") || !text.hasSuffix("\n") {
                let data = waiting.out.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening smtp ") }),
                let port = Int(line.split(separator: ":").last ?? "")
            else { throw BufferCrashDurabilityTests.CrashTestError(message: "server did not start: \(text)") }
            return port
        }
        let body = directory + "/body.eml"
        try "Message-ID: <late@example.org>\r\nSubject: after the database\r\n\r\nhello\r\n".write(toFile: body, atomically: true, encoding: .utf8)
        let sent = try await Client.python(Scripts.send, ["\(port)", "s@example.org", Self.alice, body])
        #expect(sent.stdout == "OK \n", "\(sent.stdout) \(sent.stderr)")
        kill(waiting.process.processIdentifier, SIGTERM)
        try await Client.offThread { waiting.process.waitUntilExit() }
        let spool = try SpoolStores.open(postgres.url, passwordFile: nil)
        defer { try? spool.close() }
        #expect(try Self.heldByMessageID(spool).keys.sorted() == ["late@example.org"])

        // A database the server refuses (it does not exist) is no reason to wait: the start fails, naming it.
        let unknown = directory + "/unknown.toml"
        try Self.writeConfig(unknown, spool: postgres.url.replacingOccurrences(of: "/" + postgres.database, with: "/nosuch"))
        let refused = try await Client.offThread {
            try ProcessRunner.run(Self.binary, ["buffer", "serve", "--config", unknown], limit: 120)
        }
        #expect(refused.status != 0 && refused.stderr.contains("nosuch") && !refused.stderr.contains("trying again"), "\(refused.stderr)")
    }

    @Test func aReleaseAskedOnTwoHostsAtOnceRunsOnce() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        let fx = try ReleaseFixture()
        let url = postgres.url
        try fx.receipt()
        let count = 60
        do {
            let spool = try SpoolStores.open(postgres.url, passwordFile: nil)
            defer { try? spool.close() }
            try spool.hold(user: Self.alice)
            for n in 0..<count {
                let writer = try spool.openWriter(
                    Envelope(
                        sender: "s@example.org", recipients: [Recipient(address: Self.alice, user: Self.alice)],
                        messageID: "<\(n)@example.org>"))
                try writer.append(Array("Message-ID: <\(n)@example.org>\r\nSubject: \(n)\r\n\r\nbody \(n)\r\n".utf8))
                _ = try writer.commitAndWait()
            }
        }
        let target = "maildir:" + fx.file("target")
        let (receipts, trusted) = (fx.file("receipts"), fx.publicPath)
        // Two hosts: two processes' worth of connections (each job opens its own spool), started together.
        let start = DispatchSemaphore(value: 0)
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await Client.offThread {
                        start.wait()
                        let job = ReleaseJob(
                            spoolDirectory: url, user: Self.alice, target: target,
                            receiptPath: receipts, trustedKeyPath: trusted)
                        do {
                            let report = try job.run()
                            return "delivered \(report.delivered) \(report.state.rawValue)"
                        } catch let error as ReleaseError {
                            return "refused \(error.reason.rawValue)"
                        }
                    }
                }
            }
            start.signal()
            start.signal()
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        let delivered = outcomes.compactMap { line -> Int? in
            line.hasPrefix("delivered ") ? Int(line.split(separator: " ")[1]) : nil
        }
        #expect(delivered.reduce(0, +) == count, "\(outcomes)")
        #expect(
            outcomes.contains("refused running") || outcomes.contains("delivered 0 released"),
            "the second release must be refused or find the user released: \(outcomes)")
        #expect(try maildirMessages(fx.file("target")).count == count, "every message delivered exactly once")
        let spool = try SpoolStores.open(postgres.url, passwordFile: nil)
        defer { try? spool.close() }
        #expect(try spool.status(user: Self.alice)?.state == .released)
    }

    /// argv: port prefix stop ready. One message per connection, sequentially, until `stop` exists; creates
    /// `ready` after the first 250. Prints `OK mid` for a 250, `TEMP code mid seconds` for a 4xx at any step,
    /// `DISC mid seconds error` when the connection ended without a reply (smtplib says so for its own 60 s
    /// timeout too: the error tells which), `ERR mid seconds error` otherwise (`ERR code mid seconds` for a 5xx);
    /// seconds: how long the transaction took.
    static let outageSender = #"""
        import os, smtplib, sys, time
        port, prefix, stop, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        def kind(code):
            return 'TEMP' if 400 <= code < 500 else 'ERR'
        n = 0
        end = time.time() + 120
        while time.time() < end and not os.path.exists(stop):
            mid = '%s-%d@outage.test' % (prefix, n)
            n += 1
            began = time.time()
            took = lambda: '%.1fs' % (time.time() - began)
            body = ('Message-ID: <%s>\r\nSubject: %s\r\n\r\nbody\r\n' % (mid, mid)).encode()
            try:
                s = smtplib.SMTP('127.0.0.1', port, timeout=60, local_hostname='outage.test')
                try:
                    s.sendmail('c@example.org', ['alice@buffer.example.com'], body)
                    print('OK', mid, flush=True)
                    if not os.path.exists(ready):
                        open(ready, 'w').close()
                finally:
                    try: s.quit()
                    except Exception: pass
            except smtplib.SMTPConnectError as e:
                print(kind(e.smtp_code), e.smtp_code, mid, took(), flush=True); time.sleep(0.05)
            except smtplib.SMTPRecipientsRefused as e:
                code = list(e.recipients.values())[0][0]
                print(kind(code), code, mid, took(), flush=True); time.sleep(0.05)
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPResponseException) as e:
                print(kind(e.smtp_code), e.smtp_code, mid, took(), flush=True); time.sleep(0.05)
            except smtplib.SMTPServerDisconnected as e:
                print('DISC', mid, took(), repr(e), flush=True); time.sleep(0.05)
            except Exception as e:
                print('ERR', mid, took(), repr(e), flush=True); time.sleep(0.05)
        """#

    /// Seconds within which the outage test's sender must get each 4xx.
    static let promptReply = 20.0

    @Test func aDatabaseThatGoesAwayGets4xxAndTheBufferRecoversByItself() async throws {
        let postgres = try await Client.offThread { try PostgresTestServer() }
        defer { postgres.stop(remove: true) }
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/buffer.toml"
        try Self.writeConfig(config, spool: postgres.url)
        let log = directory + "/buffer.log"
        let (server, port) = try await BufferCrashDurabilityTests.startServer(config: config, stderr: log)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        /// The end of the buffer's log, for a failure's message.
        func logTail() -> String {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no log)"
            return "\nbuffer log (end):\n" + text.split(separator: "\n").suffix(40).joined(separator: "\n")
        }
        let stop = directory + "/stop"
        let ready = directory + "/ready"
        let sending = Task { try await Client.python(Self.outageSender, ["\(port)", "load", stop, ready]) }
        defer { FileManager.default.createFile(atPath: stop, contents: nil) }
        // The outage must meet mail being sent: on a busy machine the sender may take seconds to start, and
        // one that had not yet started would see no outage at all.
        let started = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < started {
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(FileManager.default.fileExists(atPath: ready), "the sender had no 250 within 60 s\(logTail())")
        try await Task.sleep(for: .milliseconds(500))
        postgres.stop()
        // Load goes on against the missing database for a while.
        try await Task.sleep(for: .seconds(4))
        #expect(server.isRunning, "the buffer must stay up while its database is down")
        try postgres.start()
        // Back within a bounded wait, by itself: a fresh message gets its 250.
        let deadline = ContinuousClock.now + .seconds(60)
        var recovered = false
        var n = 0
        while ContinuousClock.now < deadline {
            let once = try await Client.python(
                """
                import smtplib, sys
                try:
                    s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30, local_hostname='outage.test')
                    s.sendmail('c@example.org', ['alice@buffer.example.com'],
                               b'Message-ID: <%s>\\r\\nSubject: after\\r\\n\\r\\nbody\\r\\n' % sys.argv[2].encode())
                    s.quit()
                    print('OK')
                except Exception as e:
                    print('NO', repr(e))
                """, ["\(port)", "after-\(n)@outage.test"])
            n += 1
            if once.stdout.hasPrefix("OK") {
                recovered = true
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        FileManager.default.createFile(atPath: stop, contents: nil)
        let lines = try await sending.value.stdout.split(separator: "\n").map(String.init)
        #expect(recovered, "no 250 within 60 s of the database's restart\(logTail())")
        #expect(server.isRunning, "the buffer must still run after the outage\(logTail())")
        let ok = lines.filter { $0.hasPrefix("OK ") }.map { String($0.dropFirst(3)) }
        let temporary = lines.filter { $0.hasPrefix("TEMP ") }
        let dropped = lines.filter { $0.hasPrefix("DISC ") || $0.hasPrefix("ERR ") }
        #expect(!temporary.isEmpty, "the outage must have been answered with 4xx: \(lines.suffix(5))\(logTail())")
        #expect(temporary.allSatisfy { $0.hasPrefix("TEMP 421") || $0.hasPrefix("TEMP 451") }, "\(Set(temporary.map { $0.prefix(8) }))")
        #expect(dropped.isEmpty, "connections dropped without a reply: \(dropped.prefix(5))\(logTail())")
        // Every wait on the database is bounded, and a lost connection ends it: a 4xx comes well before the
        // statement timeout (30 s), let alone a client's own timeout.
        let late = temporary.filter { line in
            (Double(line.split(separator: " ").last?.dropLast() ?? "") ?? .infinity) >= Self.promptReply
        }
        #expect(late.isEmpty, "4xx replies that took too long: \(late.prefix(5))\(logTail())")
        // Never 250 for what was not committed: every acknowledged message is held.
        let spool = try SpoolStores.open(postgres.url, passwordFile: nil)
        defer { try? spool.close() }
        let stored = try Self.heldByMessageID(spool)
        let missing = Set(ok).subtracting(stored.keys)
        #expect(missing.isEmpty, "answered 250 but not held: \(missing.sorted().prefix(10))")
    }
}
