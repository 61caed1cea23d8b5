import Buffer
import Foundation
import Testing

/// RFC 5321 section 4.5.3.2's timeouts and a limit per client address: an idle client, one that sends a command a
/// byte at a time, and one that trickles its message after DATA are closed with 421, while other clients are
/// served; one address cannot take every connection. Short timeouts (1 s) keep the tests quick; nothing here
/// measures time.
@Suite struct BufferTimeoutTests: ConfigurationCases {
    /// Connects, reads the greeting, then: `idle` sends nothing; `drip` sends "EHLO" a byte every 0.3 s;
    /// `data-drip` sends a whole transaction up to DATA at once, then the message a byte every 0.3 s. Stops sending
    /// as soon as the server says something, then prints every line the server sent until it closed, and "closed".
    static let slowClient = #"""
        import socket, select, sys
        port, mode = int(sys.argv[1]), sys.argv[2]
        s = socket.create_connection(('127.0.0.1', port))
        s.settimeout(60)
        f = s.makefile('rb')
        f.readline()
        def drip(data):
            for b in data:
                if select.select([s], [], [], 0.3)[0]:
                    return
                try:
                    s.send(bytes([b]))
                except OSError:
                    return
        def command(line):
            s.sendall(line)
            while True:
                reply = f.readline()
                if reply[3:4] != b'-':
                    return reply
        if mode == 'drip':
            drip(b'EHLO slow.example\r\n')
        elif mode == 'data-drip':
            command(b'EHLO slow.example\r\n')
            command(b'MAIL FROM:<slow@example.org>\r\n')
            command(b'RCPT TO:<alice@buffer.example.com>\r\n')
            assert command(b'DATA\r\n').startswith(b'354')
            drip(b'Subject: slowly\r\n\r\n' + b'x' * 200 + b'\r\n.\r\n')
        for line in f:
            print(line.decode().strip())
        print('closed')
        """#

    static let quickClient = #"""
        import smtplib, sys
        with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60) as c:
            c.sendmail('quick@example.org', ['alice@buffer.example.com'], b'Subject: quick\r\n\r\nserved\r\n')
        print('sent')
        """#

    @Test func idleAndSlowClientsAreClosedWith421WhileOthersAreServed() async throws {
        try await LiveBuffer.with(edit: {
            $0.limits.commandTimeout = 1
            $0.limits.dataTimeout = 1
        }) { live in
            let port = "\(live.smtpPort)"
            async let idle = Client.python(Self.slowClient, [port, "idle"])
            async let drip = Client.python(Self.slowClient, [port, "drip"])
            async let dataDrip = Client.python(Self.slowClient, [port, "data-drip"])
            async let quick = Client.python(Self.quickClient, [port])
            for (name, out) in [("idle", try await idle), ("drip", try await drip), ("data-drip", try await dataDrip)] {
                #expect(out.status == 0, "\(name): \(out.stderr)")
                let lines = out.stdout.split(separator: "\n")
                #expect(lines.last == "closed", "\(name): \(out.stdout)")
                #expect(lines.contains { $0.hasPrefix("421 4.4.2 ") }, "\(name): \(out.stdout)")
            }
            let served = try await quick
            #expect(served.stdout.contains("sent"), "\(served.stderr)")
            // Only the quick client's message is held: the trickled one was dropped with its connection.
            let held = try live.held("alice@example.com")
            #expect(held.count == 1)
            #expect(held.allSatisfy { String(decoding: $0.bytes, as: UTF8.self).contains("Subject: quick") })
        }
    }

    /// Two connections from 127.0.0.1 are all it may have: a third gets 421 4.7.0, while a client from 127.0.0.2
    /// is served.
    @Test func oneAddressCannotTakeEveryConnection() async throws {
        let script = #"""
            import smtplib, socket, sys
            port = int(sys.argv[1])
            held = []
            for _ in range(2):
                s = socket.create_connection(('127.0.0.1', port))
                held.append(s)
                print('first', s.makefile('rb').readline().decode().strip())
            third = socket.create_connection(('127.0.0.1', port))
            print('third', third.makefile('rb').readline().decode().strip())
            with smtplib.SMTP('127.0.0.1', port, timeout=60, source_address=('127.0.0.2', 0)) as c:
                c.sendmail('other@example.org', ['alice@buffer.example.com'], b'Subject: other address\r\n\r\nserved\r\n')
            print('other address served')
            """#
        try await LiveBuffer.with(edit: { $0.limits.connectionsPerIP = 2 }) { live in
            let out = try await Client.python(script, ["\(live.smtpPort)"])
            #expect(out.status == 0, "\(out.stderr)")
            let lines = out.stdout.split(separator: "\n").map(String.init)
            #expect(lines.filter { $0.hasPrefix("first 220 ") }.count == 2, "\(out.stdout)")
            #expect(lines.contains { $0.hasPrefix("third 421 4.7.0 ") }, "\(out.stdout)")
            #expect(lines.contains("other address served"), "\(out.stdout) \(out.stderr)")
            #expect(try live.held("alice@example.com").count == 1)
        }
    }

    /// `[imap] timeout`: the releases' IMAP connections wait that long (60 s unless set), like import's `--timeout`.
    @Test func theReleaseTimeoutIsReadFromTheIMAPSection() throws {
        #expect(try BufferConfiguration.parse(text()).deliveryOptions.timeout == .seconds(60))
        let set = try BufferConfiguration.parse(text() + "[imap]\ntimeout = 5\n")
        #expect(set.deliveryOptions.timeout == .seconds(5))
        for bad in ["0", "3601", "\"5s\""] {
            let message = failure(text() + "[imap]\ntimeout = \(bad)\n")
            #expect(message.contains("imap.timeout") && message.contains("from 1 to 3600"), "\(bad): \(message)")
        }
    }

    @Test func theLimitsAreReadFromTheConfiguration() throws {
        let configuration = try BufferConfiguration.parse(
            text(limits: "command_timeout = 60\ndata_timeout = 30\nconnections_per_ip = 8"))
        #expect(configuration.limits.commandTimeout == 60)
        #expect(configuration.limits.dataTimeout == 30)
        #expect(configuration.limits.connectionsPerIP == 8)
        let defaults = try BufferConfiguration.parse(text())
        // RFC 5321 section 4.5.3.2: 5 minutes for a command, 3 for a data block.
        #expect(defaults.limits.commandTimeout == 300 && defaults.limits.dataTimeout == 180)
        #expect(throws: (any Error).self) {
            try BufferConfiguration.parse(text(limits: "command_timeout = 0"))
        }
    }
}
