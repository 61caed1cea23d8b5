import Foundation
import IMAPCore
import TestSupport
import Testing

@testable import IMAPClient

#if canImport(Glibc)
    import Glibc
#endif

/// A man in the middle that answers STARTTLS itself and appends plaintext responses to its OK in the same
/// packet (the CVE-2011-0411 pattern), then relays the TLS bytes to a real Dovecot. The client must not read
/// the injected lines as if they came through TLS.
final class InjectingProxy {
    let listener: Int32
    let port: Int
    let upstreamPort: Int
    let injected: String

    init(upstreamPort: Int, injected: String) throws {
        self.upstreamPort = upstreamPort
        self.injected = injected
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard ok else { throw DovecotIMAPFailure(message: "proxy cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [upstreamPort, injected] in Self.serve(fd, upstreamPort: upstreamPort, injected: injected)
        }
        thread.start()
    }

    deinit { close(listener) }

    static func line(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            bytes.append(byte)
            if byte == 0x0a { return String(decoding: bytes, as: UTF8.self) }
        }
        return nil
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    static func serve(_ listener: Int32, upstreamPort: Int, injected: String) {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(upstreamPort).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected, line(upstream) != nil else { return }
        send(client, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] proxy ready\r\n")
        guard let command = line(client), command.uppercased().contains("STARTTLS") else { return }
        let tag = command.split(separator: " ").first.map(String.init) ?? "?"
        send(upstream, "U1 STARTTLS\r\n")
        guard let answer = line(upstream), answer.hasPrefix("U1 OK") else { return }
        // The injection answers the client's next command (its tag is the STARTTLS tag plus one) in advance.
        let digits = tag.drop { !$0.isNumber }
        let next =
            String(tag.prefix(tag.count - digits.count)) + String(format: "%0\(digits.count)d", (Int(digits) ?? 0) + 1)
        send(
            client, "\(tag) OK Begin TLS negotiation now\r\n" + injected.replacingOccurrences(of: "NEXTTAG", with: next)
        )
        // From here on, relay bytes both ways until either side closes.
        let pump: @Sendable (Int32, Int32) -> Void = { from, to in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                _ = buffer.withUnsafeBytes { Glibc.send(to, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
            }
            shutdown(to, Int32(SHUT_WR))
        }
        let back = Thread { pump(upstream, client) }
        back.start()
        pump(client, upstream)
        while !back.isFinished { usleep(10_000) }
        close(client)
        close(upstream)
    }
}

@Suite(.serialized, .blocking) struct STARTTLSInjectionTests {
    @Test func plaintextSentWithTheSTARTTLSAnswerIsDiscarded() throws {
        let dovecot = try DovecotIMAPServer(users: [.init("alice", "secret")])
        let proxy = try InjectingProxy(
            upstreamPort: dovecot.imapPort,
            injected: "* CAPABILITY IMAP4rev1 INJECTED\r\nNEXTTAG OK [CAPABILITY IMAP4rev1 INJECTED] done\r\n")
        let connection = try IMAPConnection.open(
            IMAPEndpoint(
                host: "127.0.0.1", port: proxy.port, security: .startTLS, caFile: dovecot.caFile, timeout: .seconds(20))
        )
        #expect(connection.isTLS)
        #expect(!connection.capabilities.contains("INJECTED"))
        #expect(!connection.capabilities.contains("LOGINDISABLED"))  // asked again over TLS, from Dovecot itself
        #expect(connection.capabilities.contains("AUTH=PLAIN"))
        try connection.authenticate(.login(user: "alice", password: "secret"))
        _ = try connection.select("INBOX", readOnly: true)
        connection.logout()
    }
}
