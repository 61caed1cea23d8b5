import Foundation
import SMTPCore
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking LMTP client (RFC 2033): LHLO, then per message MAIL FROM, RCPT TO per recipient, DATA with
/// dot-stuffing, and one reply per accepted recipient. Used by `buffer release` for `lmtp://` targets; one
/// connection, one thread, so blocking sockets with timeouts are enough.
public final class LMTPClient {
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return "lmtp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
            case .unix(let path): return "lmtp:\(path)"
            }
        }
    }

    /// Seconds a whole reply may take, and a whole write of one chunk; RFC 5321 4.5.3.2 suggests minutes (10 for
    /// the end of DATA). The bound is on the whole reply, not each read, so a server that trickles a reply a byte
    /// at a time is cut off like one that says nothing; a release stops at such a failure (one timeout at most).
    public static let defaultTimeout = 300

    public let endpoint: Endpoint
    public private(set) var capabilities: [String] = []
    private var descriptor: Int32
    private var parser = SMTPClientReplyParser()
    private let timeoutSeconds: Int

    /// Connects, reads the greeting and says LHLO.
    public init(endpoint: Endpoint, clientName: String = "mailferry-buffer", timeoutSeconds: Int = LMTPClient.defaultTimeout) throws {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
        descriptor = try Self.connect(endpoint, timeoutSeconds: timeoutSeconds)
        do {
            let greeting = try readReply()
            guard greeting.code == 220 else { throw LMTPClientError.refused(step: "the connection", reply: greeting) }
            let lhlo = try command("LHLO \(clientName)")
            guard lhlo.code == 250 else { throw LMTPClientError.refused(step: "LHLO", reply: lhlo) }
            capabilities = lhlo.capabilities
        } catch {
            Glibc.close(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// False once the connection was dropped (after an error during DATA or a broken connection).
    public var isOpen: Bool { descriptor >= 0 }

    public func supports(_ keyword: String) -> Bool {
        capabilities.contains { $0 == keyword || $0.hasPrefix(keyword + " ") }
    }

    /// Sends one message. `body` is called with a function that takes raw message bytes (they are dot-stuffed
    /// here); it must return normally only when the whole message was given and is sound: the final "." is sent
    /// only after it returned. If it throws, the connection is dropped without the final ".", so the server
    /// discards the partial message, and the error is rethrown; this client cannot be used afterwards.
    ///
    /// Returns one reply per recipient, in RCPT order: the RCPT refusal, or the server's reply after DATA for
    /// each recipient it accepted (RFC 2033 4.2). Throws `refused` if MAIL FROM, every RCPT TO or DATA was
    /// refused; the session was reset and the client can send the next message.
    public func send(
        from sender: String, to recipients: [String],
        body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> [(recipient: String, reply: SMTPClientReply)] {
        guard descriptor >= 0 else { throw LMTPClientError.closed("(an earlier message failed)") }
        var inData = false
        do {
            var mail = "MAIL FROM:<\(sender)>"
            if supports("8BITMIME") { mail += " BODY=8BITMIME" }
            if supports("SMTPUTF8") && !sender.utf8.allSatisfy({ $0 < 128 }) { mail += " SMTPUTF8" }
            let mailReply = try command(mail)
            guard mailReply.isPositive else {
                _ = try? command("RSET")
                throw LMTPClientError.refused(step: "MAIL FROM:<\(sender)>", reply: mailReply)
            }
            var accepted: [String] = []
            var refusals: [(String, SMTPClientReply)] = []
            for r in recipients {
                let reply = try command("RCPT TO:<\(r)>")
                if reply.isPositive { accepted.append(r) } else { refusals.append((r, reply)) }
            }
            guard !accepted.isEmpty else {
                _ = try? command("RSET")
                let (r, reply) = refusals[0]
                throw LMTPClientError.refused(step: "RCPT TO:<\(r)>", reply: reply)
            }
            let data = try command("DATA")
            guard data.code == 354 else {
                _ = try? command("RSET")
                throw LMTPClientError.refused(step: "DATA", reply: data)
            }
            inData = true
            var stuffer = SMTPDotStuffer()
            var out: [UInt8] = []
            try body { chunk in
                out.removeAll(keepingCapacity: true)
                stuffer.stuff(chunk, into: &out)
                try writeAll(out)
            }
            try writeAll(stuffer.finish())
            var results: [(String, SMTPClientReply)] = refusals
            for r in accepted { results.append((r, try readReply())) }
            let order = Dictionary(uniqueKeysWithValues: recipients.enumerated().map { ($1, $0) })
            return results.sorted { order[$0.0, default: 0] < order[$1.0, default: 0] }.map { (recipient: $0.0, reply: $0.1) }
        } catch LMTPClientError.refused(let step, let reply) where !inData {
            throw LMTPClientError.refused(step: step, reply: reply)  // after RSET the session can go on
        } catch {
            Glibc.close(descriptor)
            descriptor = -1
            throw error
        }
    }

    /// QUIT and close; errors are ignored (the messages are delivered or not by now).
    public func quit() {
        guard descriptor >= 0 else { return }
        _ = try? command("QUIT")
        Glibc.close(descriptor)
        descriptor = -1
    }

    // MARK: - Wire

    func command(_ line: String) throws -> SMTPClientReply {
        try writeAll(Array((line + "\r\n").utf8))
        return try readReply()
    }

    func readReply() throws -> SMTPClientReply {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        while true {
            do {
                if let reply = try parser.next() { return reply }
            } catch let error as SMTPClientReplyError {
                throw LMTPClientError.protocolViolation(error.description)
            }
            try waitUntilReadable(before: deadline)
            let n = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                parser.feed(chunk[0..<n])
            } else if n == 0 {
                throw LMTPClientError.closed("while a reply was expected")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw LMTPClientError.closed("(no reply within the timeout)")
            } else {
                throw LMTPClientError.connection("recv: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits for bytes to read; a reply not complete by `deadline` is a timeout, however the bytes trickle.
    private func waitUntilReadable(before deadline: Date) throws {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw LMTPClientError.stalled("no complete reply within \(timeoutSeconds) s")
            }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left * 1000 + 1, 1e9)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw LMTPClientError.connection("poll: \(String(cString: strerror(errno)))")
            }
        }
    }

    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        // SO_SNDTIMEO bounds each send, but a server reading a byte at a time would keep each one short.
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        while offset < bytes.count {
            if Date() > deadline {
                throw LMTPClientError.stalled("it did not take \(bytes.count) bytes within \(timeoutSeconds) s")
            }
            let n = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LMTPClientError.connection("send: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// A failed connect in the words a mail administrator uses.
    static func errnoWords(_ code: Int32, port: Int?, timeoutSeconds: Int? = nil) -> String {
        switch code {
        case ECONNREFUSED:
            return port.map { "connection refused (nothing listens on port \($0) there, or a firewall rejects the connection)" }
                ?? "connection refused (nothing listens on the socket: is the LMTP service running?)"
        // A connect bounded by SO_SNDTIMEO ends with EINPROGRESS (or EAGAIN) when the time is up.
        case ETIMEDOUT, EINPROGRESS, EAGAIN:
            return "timed out\(timeoutSeconds.map { " after \($0) s" } ?? "") (the host does not answer: it is down, or a firewall drops the connection)"
        case EHOSTUNREACH, EHOSTDOWN: return "no route to the host (it is down or unreachable from here)"
        case ENETUNREACH: return "the network is unreachable from here"
        case ENOENT: return "no such socket (is the LMTP service running, and is the path right?)"
        case EACCES, EPERM: return "permission denied (this user may not use it)"
        default: return String(cString: strerror(code))
        }
    }

    private static func connect(_ endpoint: Endpoint, timeoutSeconds: Int) throws -> Int32 {
        func configure(_ fd: Int32) {
            var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        switch endpoint {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw LMTPClientError.connection("socket: \(String(cString: strerror(errno)))") }
            configure(fd)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                Glibc.close(fd)
                throw LMTPClientError.connection("\(path): socket path too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard ok == 0 else {
                let e = errno
                Glibc.close(fd)
                throw LMTPClientError.connection("cannot connect to the LMTP socket \(path): \(Self.errnoWords(e, port: nil))")
            }
            return fd
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw LMTPClientError.connection(
                    "cannot connect to the LMTP server \(host) port \(port): the name \(host) cannot be resolved (\(String(cString: gai_strerror(rc))))")
            }
            defer { freeaddrinfo(list) }
            var lastError = "\(host) has no address"
            var current: UnsafeMutablePointer<addrinfo>? = first
            while let info = current {
                current = info.pointee.ai_next
                let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
                if fd < 0 { lastError = String(cString: strerror(errno)); continue }
                configure(fd)
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
                lastError = Self.errnoWords(errno, port: port, timeoutSeconds: timeoutSeconds)
                Glibc.close(fd)
            }
            throw LMTPClientError.connection("cannot connect to the LMTP server \(host) port \(port): \(lastError)")
        }
    }
}
