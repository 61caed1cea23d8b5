import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import Buffer

/// An LMTP server that trickles its greeting a byte at a time (each byte well within any per-read timeout) or says
/// nothing: the client's bound is on the whole reply, so both end with `stalled` after the timeout.
@Suite(.blocking) struct LMTPClientStallTests {
    /// Listens on a unix socket and, for its one connection, sends `greeting` one byte every 0.2 s (or nothing).
    final class TricklingServer: @unchecked Sendable {
        let path = "/tmp/mf-lmtp-stall-\(UUID().uuidString.prefix(8)).sock"
        private let listener: Int32
        private let finished = DispatchSemaphore(value: 0)

        init(greeting: String) throws {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            listener = fd
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let socketPath = path
            withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(ok == 0 && listen(fd, 1) == 0)
            let done = finished
            Thread {
                let c = accept(fd, nil, nil)
                if c >= 0 {
                    // Ends when the client hangs up (send fails) or after 60 s, a guard against a hang.
                    for _ in 0..<300 {
                        if let byte = greeting.utf8.first, send(c, [byte], 1, Int32(MSG_NOSIGNAL)) < 0 { break }
                        var peek: UInt8 = 0
                        if greeting.isEmpty, recv(c, &peek, 1, Int32(MSG_DONTWAIT | MSG_PEEK)) == 0 { break }
                        usleep(200_000)
                    }
                    close(c)
                }
                done.signal()
            }.start()
        }

        deinit {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            _ = finished.wait(timeout: .now() + 70)
            unlink(path)
        }
    }

    @Test(arguments: ["2", ""]) func aGreetingThatTricklesOrNeverComesEndsAfterTheTimeout(greeting: String) throws {
        // "2" repeated never completes a reply line: before the bound on whole replies, each byte restarted the wait.
        let server = try TricklingServer(greeting: greeting)
        #expect {
            _ = try LMTPClient(endpoint: .unix(path: server.path), timeoutSeconds: 1)
        } throws: { error in
            guard let e = error as? LMTPClientError, case .stalled = e else { return false }
            return "\(e)".contains("no complete reply within 1 s")
        }
    }
}
