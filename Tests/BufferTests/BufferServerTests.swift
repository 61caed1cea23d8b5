import Buffer
import BufferSpool
import Foundation
import Testing

/// The real server on 127.0.0.1 port 0, driven by real clients (Python's smtplib, swaks). The tests that concern
/// any spool run on both stores: the file spool and the shared one on PostgreSQL.
@Suite struct BufferServerTests {
    static let message = Array(
        "From: Carol <carol@example.org>\r\nTo: alice@buffer.example.com\r\nSubject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\nHi Alice,\r\nsee you.\r\n".utf8)

    func write(_ bytes: [UInt8], in directory: String) throws -> String {
        let path = directory + "/body-\(UUID().uuidString).eml"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func heldUserThroughTheNamespaceGets250AndTheExactBytesAreHeld(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let body = try write(Self.message, in: live.directory)
            let out = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "carol@example.org", "alice@buffer.example.com", body])
            #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            let held = try live.held("alice@example.com")
            try #require(held.count == 1)
            let (trace, rest) = splitTrace(held[0].bytes)
            #expect(rest == Self.message)
            #expect(held[0].message.sha256 == sha256(held[0].bytes))
            #expect(held[0].message.size == Int64(held[0].bytes.count))
            #expect(held[0].message.envelope.sender == "carol@example.org")
            #expect(held[0].message.envelope.recipients == [Recipient(address: "alice@buffer.example.com", user: "alice@example.com")])
            #expect(held[0].message.envelope.messageID == "<m1@example.org>")
            #expect(trace.hasPrefix("Received: from client.test ([127.0.0.1])\r\n\tby buffer.test (MailFerry buffer) with ESMTP;\r\n\t"))
            #expect(try live.held("bob@example.com").isEmpty)
        }
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func theHeldAddressItselfIsAcceptedToo(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let body = try write(Self.message, in: live.directory)
            let out = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "", "Bob@Example.COM,alice@buffer.example.com", body])
            #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            let bob = try live.held("bob@example.com")
            try #require(bob.count == 1)
            #expect(bob[0].message.envelope.sender == "")
            #expect(bob[0].message.envelope.users == ["bob@example.com", "alice@example.com"])
        }
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func recipientsOutsideTheMigrationSetGet550(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let body = try write(Self.message, in: live.directory)
            let out = try await Client.python(
                Scripts.send,
                ["\(live.smtpPort)", "carol@example.org", "mallory@buffer.example.com,alice@elsewhere.org,Postmaster", body])
            #expect(out.stdout.hasPrefix("REFUSED Postmaster:550:5.1.1 "), "\(out.stdout)")
            #expect(out.stdout.contains("alice@elsewhere.org:550:5.1.1 "))
            #expect(out.stdout.contains("mallory@buffer.example.com:550:5.1.1 "))
            // One good recipient among bad ones: the message is held for it, the others are refused.
            let mixed = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "c@example.org", "mallory@buffer.example.com,alice@buffer.example.com", body])
            #expect(mixed.stdout == "OK mallory@buffer.example.com:550\n")
            #expect(try live.held("alice@example.com").count == 1)
        }
    }

    @Test func tooLargeMessagesGet552AtMailAndAtTheEndOfData() async throws {
        try await LiveBuffer.with(edit: { $0.limits.messageSize = 2048 }) { live in
            let big = Array("Subject: big\r\n\r\n".utf8) + Array(repeating: Array("0123456789abcdef0123456789abcdef\r\n".utf8), count: 100).flatMap { $0 }
            let body = try write(big, in: live.directory)
            let declared = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", body])
            #expect(declared.stdout.hasPrefix("SENDER 552 5.3.4 "), "\(declared.stdout)")
            let undeclared = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", body, "nosize"])
            #expect(undeclared.stdout.hasPrefix("DATA 552 5.3.4 "), "\(undeclared.stdout)")
            #expect(try live.held("alice@example.com").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: live.server.configuration.spoolDirectory + "/incoming").isEmpty)
        }
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func dotStuffedContentRoundTrips(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let message = Array("Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n...three\r\nend.\r\n. \r\n".utf8)
            let body = try write(message, in: live.directory)
            let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", body])
            #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            let held = try live.held("alice@example.com")
            try #require(held.count == 1)
            #expect(splitTrace(held[0].bytes).message == message)
        }
    }

    @Test func pipeliningWithSwaks() async throws {
        try await LiveBuffer.with { live in
            let out = try await Client.swaks([
                "--server", "127.0.0.1", "--port", "\(live.smtpPort)", "--pipeline", "--ehlo", "swaks.test",
                "--from", "c@example.org", "--to", "alice@buffer.example.com,nobody@buffer.example.com,bob@buffer.example.com",
                "--header", "Message-Id: <swaks-1@example.org>", "--body", "pipelined\n.dot line",
            ])
            #expect(out.stdout.contains("<** 550 5.1.1 <nobody@buffer.example.com>"), "\(out.stdout)")
            #expect(out.stdout.contains("250 2.0.0 OK: stored as #1"), "\(out.stdout)")
            for user in ["alice@example.com", "bob@example.com"] {
                let held = try live.held(user)
                try #require(held.count == 1)
                #expect(held[0].message.envelope.messageID == "<swaks-1@example.org>")
                #expect(String(decoding: held[0].bytes, as: UTF8.self).contains("\r\n\r\npipelined\r\n.dot line\r\n"))
            }
        }
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func lmtpAnswersOncePerRecipient(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let script = #"""
                import smtplib, sys
                l = smtplib.LMTP('127.0.0.1', int(sys.argv[1]), timeout=20, local_hostname='client.test')
                l.ehlo('mta.test')
                l.mail('c@example.org')
                accepted = 0
                for r in ['alice@example.com', 'nobody@example.com', 'bob@buffer.example.com']:
                    code, msg = l.rcpt(r)
                    print('RCPT', r, code)
                    accepted += code == 250
                print('DATA', l.docmd('DATA')[0])
                l.send(b'Subject: lmtp\r\n\r\nbody\r\n.\r\n')
                for _ in range(accepted):
                    code, msg = l.getreply()
                    print('REPLY', code, msg.decode())
                l.quit()
                """#
            let out = try await Client.python(script, ["\(live.lmtpPort)"])
            let lines = out.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 6, "\(out.stdout) \(out.stderr)")
            #expect(lines.prefix(4) == ["RCPT alice@example.com 250", "RCPT nobody@example.com 550", "RCPT bob@buffer.example.com 250", "DATA 354"])
            #expect(lines.dropFirst(4).allSatisfy { $0.hasPrefix("REPLY 250 2.0.0 ") })
            let held = try live.held("bob@example.com")
            try #require(held.count == 1)
            #expect(splitTrace(held[0].bytes).trace.contains("with LMTP;"))
            #expect(try live.held("alice@example.com").count == 1)
        }
    }

    @Test(arguments: SpoolStoreTests.Kind.allCases) func aMessageCarryingOurMarkerIsALoopAndGets554(_ store: SpoolStoreTests.Kind) async throws {
        try await LiveBuffer.with(store: store) { live in
            let looped = Array("X-MailFerry-Buffered: other.test\r\nX-MailFerry-Buffered:\r\n  BUFFER.test\r\nSubject: loop\r\n\r\nagain\r\n".utf8)
            let out = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", try write(looped, in: live.directory)])
            #expect(out.stdout.hasPrefix("DATA 554 5.4.6 "), "\(out.stdout)")
            #expect(try live.held("alice@example.com").isEmpty)
            // Another buffer's marker is no loop.
            let passed = Array("X-MailFerry-Buffered: other.test\r\nSubject: not a loop\r\n\r\nok\r\n".utf8)
            let ok = try await Client.python(
                Scripts.send, ["\(live.smtpPort)", "c@example.org", "alice@buffer.example.com", try write(passed, in: live.directory)])
            #expect(ok.stdout == "OK \n")
            #expect(try live.held("alice@example.com").count == 1)
        }
    }

    @Test func tooManyRecipientsGet452() async throws {
        try await LiveBuffer.with { live in
            let script = #"""
                import smtplib, sys
                s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20, local_hostname='client.test')
                s.ehlo('c.test'); s.mail('c@example.org')
                codes = [s.rcpt('alice@buffer.example.com')[0] for _ in range(101)]
                print(codes.count(250), codes[-1])
                s.quit()
                """#
            let out = try await Client.python(script, ["\(live.smtpPort)"])
            #expect(out.stdout == "100 452\n", "\(out.stdout) \(out.stderr)")
        }
    }

    @Test func connectionsBeyondTheLimitGet421() async throws {
        try await LiveBuffer.with(edit: { $0.limits.connections = 1 }) { live in
            let script = #"""
                import socket, sys
                a = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
                print(a.makefile('rb').readline().decode().strip()[:3])
                b = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
                print(b.makefile('rb').readline().decode().strip()[:9])
                """#
            let out = try await Client.python(script, ["\(live.smtpPort)"])
            #expect(out.stdout == "220\n421 4.3.2\n", "\(out.stdout) \(out.stderr)")
        }
    }

    @Test func holdThroughTheControlSocketTakesEffectAtOnce() async throws {
        try await LiveBuffer.with { live in
            let dir = live.server.configuration.spoolDirectory
            let body = try write(Self.message, in: live.directory)
            let before = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "carol@buffer.example.com", body])
            #expect(before.stdout.hasPrefix("REFUSED carol@buffer.example.com:550"))
            let held = try BufferControlClient.send(.hold("carol@example.com"), spoolDirectory: dir)
            #expect(held.ok && held.users?.first?.state == .holding)
            let after = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "carol@buffer.example.com", body])
            #expect(after.stdout == "OK \n")
            let status = try BufferControlClient.send(.status, spoolDirectory: dir)
            #expect(status.users?.first { $0.user == "carol@example.com" }?.heldCount == 1)
            _ = try BufferControlClient.send(.unhold("carol@example.com"), spoolDirectory: dir)
            let removed = try await Client.python(Scripts.send, ["\(live.smtpPort)", "c@example.org", "carol@buffer.example.com", body])
            #expect(removed.stdout.hasPrefix("REFUSED carol@buffer.example.com:550"))
            let unknown = try BufferControlClient.send(.unhold("zed@example.com"), spoolDirectory: dir)
            #expect(!unknown.ok && unknown.error?.contains("unknown") == true)
        }
    }

    @Test func shutdownLetsTheTransactionUnderWayFinishThenSays421() async throws {
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A long drain limit and long client timeouts: on a loaded machine the probes below can take minutes, and the
        // transaction must be cut neither by the forced close that follows the limit nor by the DATA timeout.
        let configuration = LiveBuffer.configuration(spool: directory + "/spool") {
            $0.limits.commandTimeout = 3600
            $0.limits.dataTimeout = 3600
        }
        let server = try await BufferServer.start(configuration, shutdownTimeout: .seconds(300))
        let script = #"""
            import socket, sys, os, time
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20)
            f = s.makefile('rb')
            def reply():
                while True:
                    line = f.readline().decode()
                    if len(line) < 4 or line[3] != '-':
                        return line.strip()[:9]
            print(reply())
            for c in ['EHLO c.test', 'MAIL FROM:<c@example.org>', 'RCPT TO:<alice@buffer.example.com>', 'DATA']:
                s.sendall((c + '\r\n').encode())
                print(reply())
            s.sendall(b'Subject: half\r\n\r\nfirst half\r\n')
            open(sys.argv[2], 'w').close()
            while not os.path.exists(sys.argv[3]):
                time.sleep(0.01)
            s.sendall(b'second half\r\n.\r\n')
            print(reply())
            s.sendall(b'NOOP\r\n')
            print(reply())
            """#
        let ready = directory + "/ready"
        let go = directory + "/go"
        let port = server.smtpPort!
        let client = Task { try await Client.python(script, ["\(port)", ready, go]) }
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: ready) {
            guard ContinuousClock.now < deadline else {
                client.cancel()
                Issue.record("the client never got to DATA")
                await server.shutdown()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let stopping = Task { await server.shutdown() }
        // The listener closes at once: a new client is refused while the old transaction goes on. "At once" in
        // the server's terms: on a loaded machine the shutdown task may wait a while for a thread, so the probes
        // go on until a generous deadline (a guard against a hang, not a measurement).
        var refused = false
        let probing = ContinuousClock.now + .seconds(300)
        while !refused && ContinuousClock.now < probing {
            let probe = try await Client.python(
                "import socket,sys\ntry:\n socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)\n print('open')\nexcept OSError:\n print('refused')",
                ["\(port)"])
            refused = probe.stdout == "refused\n"
            if !refused { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(refused)
        FileManager.default.createFile(atPath: go, contents: nil)
        let out = try await client.value
        await stopping.value
        #expect(out.stdout == "220 buffe\n250 ENHAN\n250 2.1.0\n250 2.1.5\n354 End d\n250 2.0.0\n421 4.3.2\n", "\(out.stdout) \(out.stderr)")
        let spool = try BufferSpool(directory: directory + "/spool")
        defer { try? spool.close() }
        let held = try spool.heldMessages(for: "alice@example.com")
        #expect(held.count == 1)
    }
}
