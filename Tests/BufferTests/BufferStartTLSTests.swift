import Buffer
import BufferSpool
import Foundation
import Testing

/// STARTTLS (RFC 3207) on the real server, with a test CA made by `openssl` and real clients that verify the
/// server's certificate against it: Python's smtplib and ssl, and swaks.
@Suite struct BufferStartTLSTests {
    /// Python helpers for raw sessions: `lines(sock)` reads one (multi-line) reply.
    static let rawHelpers = #"""
        import socket, ssl, sys
        def reply(sock):
            data = b''
            while True:
                chunk = sock.recv(1)
                if not chunk:
                    return data.decode()
                data += chunk
                if data.endswith(b'\r\n'):
                    last = data.split(b'\r\n')[-2]
                    if len(last) < 4 or last[3:4] != b'-':
                        return data.decode()

        """#

    @Test func smtplibStartsTLSVerifiesTheCertificateAndTheExactBytesAreHeld() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: { $0.smtp?.tls = certificates.tls }) { live in
            let path = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: path))
            let script = #"""
                import smtplib, ssl, sys
                port, cafile, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
                s = smtplib.SMTP('127.0.0.1', port, timeout=20, local_hostname='client.test')
                s.ehlo('client.test')
                print('before', s.has_extn('starttls'))
                code, _ = s.starttls(context=ssl.create_default_context(cafile=cafile))
                print('starttls', code, s.sock.version())
                s.ehlo('client.test')
                print('after', s.has_extn('starttls'), s.has_extn('pipelining'))
                print('refused', s.sendmail('carol@example.org', ['alice@buffer.example.com'], open(path, 'rb').read()))
                s.quit()
                """#
            let out = try await Client.python(script, ["\(live.smtpPort)", certificates.caPath, path])
            #expect(out.stdout == "before True\nstarttls 220 TLSv1.3\nafter False True\nrefused {}\n", "\(out.stdout) \(out.stderr)")
            let held = try live.held("alice@example.com")
            try #require(held.count == 1)
            let (trace, message) = splitTrace(held[0].bytes)
            #expect(message == BufferServerTests.message)
            #expect(trace.contains("with ESMTPS;"), "\(trace)")
            #expect(held[0].message.sha256 == sha256(held[0].bytes))

            // TLS is offered, not required: plaintext still works.
            let plain = try await Client.python(Scripts.send, ["\(live.smtpPort)", "carol@example.org", "alice@buffer.example.com", path])
            #expect(plain.stdout == "OK \n", "\(plain.stdout) \(plain.stderr)")
            let both = try live.held("alice@example.com")
            try #require(both.count == 2)
            #expect(splitTrace(both[1].bytes).trace.contains("with ESMTP;"))
        }
    }

    @Test func lmtpStartsTLSToo() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: { $0.lmtp?.tls = certificates.tls }) { live in
            let script = #"""
                import smtplib, ssl, sys
                port, cafile = int(sys.argv[1]), sys.argv[2]
                l = smtplib.LMTP('127.0.0.1', port, timeout=20, local_hostname='mta.test')
                l.ehlo('mta.test')
                print('before', l.has_extn('starttls'))
                print('starttls', l.starttls(context=ssl.create_default_context(cafile=cafile))[0])
                l.ehlo('mta.test')
                print('after', l.has_extn('starttls'))
                print('refused', l.sendmail('c@example.org', ['alice@example.com', 'bob@example.com'], b'Subject: lmtps\r\n\r\nover TLS\r\n'))
                l.quit()
                """#
            let out = try await Client.python(script, ["\(live.lmtpPort)", certificates.caPath])
            #expect(out.stdout == "before True\nstarttls 220\nafter False\nrefused {}\n", "\(out.stdout) \(out.stderr)")
            for user in ["alice@example.com", "bob@example.com"] {
                let held = try live.held(user)
                try #require(held.count == 1)
                #expect(splitTrace(held[0].bytes).trace.contains("with LMTPS;"))
                #expect(splitTrace(held[0].bytes).message == Array("Subject: lmtps\r\n\r\nover TLS\r\n".utf8))
            }
            // The SMTP listener has no certificate: it does not offer STARTTLS, and refuses it.
            let smtp = try await Client.python(
                "import smtplib,sys\ns=smtplib.SMTP('127.0.0.1',int(sys.argv[1]),timeout=20)\ns.ehlo('c.test')\nprint(s.has_extn('starttls'), s.docmd('STARTTLS')[0])",
                ["\(live.smtpPort)"])
            #expect(smtp.stdout == "False 502\n", "\(smtp.stdout) \(smtp.stderr)")
        }
    }

    @Test func commandsPipelinedBehindSTARTTLSAreDiscarded() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: { $0.smtp?.tls = certificates.tls }) { live in
            let script = Self.rawHelpers + #"""
                port, cafile = int(sys.argv[1]), sys.argv[2]
                s = socket.create_connection(('127.0.0.1', port), timeout=20)
                print(reply(s)[:3])
                s.sendall(b'EHLO c.test\r\n')
                print('STARTTLS' in reply(s))
                # One write: the NOOP behind STARTTLS is plaintext the server must drop, never answer.
                s.sendall(b'STARTTLS\r\nNOOP\r\n')
                print(repr(reply(s)))
                s.settimeout(0.5)
                try:
                    extra = s.recv(100)
                    print('extra', repr(extra))
                except socket.timeout:
                    print('nothing more')
                s.settimeout(20)
                t = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname='127.0.0.1')
                t.sendall(b'EHLO c.test\r\n')
                ehlo = reply(t)
                print('STARTTLS' in ehlo, 'PIPELINING' in ehlo)
                t.sendall(b'NOOP\r\n')
                print(reply(t).strip())
                t.sendall(b'QUIT\r\n')
                print(reply(t)[:3])
                """#
            let out = try await Client.python(script, ["\(live.smtpPort)", certificates.caPath])
            #expect(
                out.stdout == "220\nTrue\n'220 2.0.0 Ready to start TLS\\r\\n'\nnothing more\nFalse True\n250 2.0.0 OK\n221\n",
                "\(out.stdout) \(out.stderr)")
        }
    }

    @Test func aFailedHandshakeClosesThatConnectionOnly() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: { $0.smtp?.tls = certificates.tls }) { live in
            let script = Self.rawHelpers + #"""
                port = int(sys.argv[1])
                other = socket.create_connection(('127.0.0.1', port), timeout=20)
                reply(other)
                s = socket.create_connection(('127.0.0.1', port), timeout=20)
                reply(s)
                s.sendall(b'EHLO c.test\r\n'); reply(s)
                s.sendall(b'STARTTLS\r\n')
                print(reply(s).strip())
                s.sendall(b'this is no TLS client hello\r\n' * 4)
                try:
                    print('closed', s.recv(100) == b'' or 'alert')
                except ConnectionResetError:
                    print('closed reset')
                # The other session and new ones go on.
                other.sendall(b'EHLO c.test\r\n')
                print(reply(other).split('\r\n')[0][:3])
                third = socket.create_connection(('127.0.0.1', port), timeout=20)
                print(reply(third)[:3])
                """#
            let out = try await Client.python(script, ["\(live.smtpPort)"])
            let lines = out.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(out.stdout) \(out.stderr)")
            #expect(lines.first == "220 2.0.0 Ready to start TLS")
            #expect(lines.dropFirst().first?.hasPrefix("closed") == true, "\(out.stdout)")
            #expect(lines.suffix(2) == ["250", "220"])
        }
    }

    @Test func requireTLSRefusesMailBeforeSTARTTLSWith530() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: {
            $0.smtp?.tls = certificates.tls
            $0.smtp?.requireTLS = true
        }) { live in
            let path = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: path))
            let plain = try await Client.python(Scripts.send, ["\(live.smtpPort)", "carol@example.org", "alice@buffer.example.com", path])
            #expect(plain.stdout.hasPrefix("SENDER 530 5.7.0 "), "\(plain.stdout) \(plain.stderr)")
            let script = #"""
                import smtplib, ssl, sys
                port, cafile, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
                s = smtplib.SMTP('127.0.0.1', port, timeout=20, local_hostname='client.test')
                s.starttls(context=ssl.create_default_context(cafile=cafile))
                print('refused', s.sendmail('carol@example.org', ['alice@buffer.example.com'], open(path, 'rb').read()))
                s.quit()
                """#
            let tls = try await Client.python(script, ["\(live.smtpPort)", certificates.caPath, path])
            #expect(tls.stdout == "refused {}\n", "\(tls.stdout) \(tls.stderr)")
            #expect(try live.held("alice@example.com").count == 1)
        }
    }

    /// swaks speaks TLS only with Perl's Net::SSLeay (Debian `libnet-ssleay-perl`, a recommendation of the swaks
    /// package that `--no-install-recommends` leaves out).
    static let swaksCanTLS: Bool = (try? Client.run("/usr/bin/perl", ["-MNet::SSLeay", "-e", "1"]).status) == 0

    @Test(.enabled(if: swaksCanTLS, "swaks needs Net::SSLeay (libnet-ssleay-perl) for --tls"))
    func swaksOverSMTPAndLMTPWithAVerifiedCertificate() async throws {
        let certificates = try TestCertificates()
        try await LiveBuffer.with(edit: {
            $0.smtp?.tls = certificates.tls
            $0.lmtp?.tls = certificates.tls
        }) { live in
            for (port, protocolName) in [(live.smtpPort, "ESMTP"), (live.lmtpPort, "LMTP")] {
                let out = try await Client.swaks([
                    "--server", "127.0.0.1", "--port", "\(port)", "--protocol", protocolName, "--tls", "--tls-verify",
                    "--tls-ca-path", certificates.caPath, "--tls-sni", "localhost", "--ehlo", "swaks.test",
                    "--from", "c@example.org", "--to", "bob@buffer.example.com",
                    "--header", "Message-Id: <swaks-tls-\(protocolName)@example.org>", "--body", "over TLS",
                ])
                #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
                #expect(out.stdout.contains("<-  220 2.0.0 Ready to start TLS"), "\(out.stdout)")
                #expect(out.stdout.contains("250 2.0.0 OK: stored as"), "\(out.stdout)")
            }
            let held = try live.held("bob@example.com")
            try #require(held.count == 2)
            #expect(held.map(\.message.envelope.messageID) == ["<swaks-tls-ESMTP@example.org>", "<swaks-tls-LMTP@example.org>"])
            #expect(splitTrace(held[0].bytes).trace.contains("with ESMTPS;"))
            #expect(splitTrace(held[1].bytes).trace.contains("with LMTPS;"))
        }
    }
}
