import Foundation
import IMAPCore
import MailModel
import NIOCore
import NIOPosix
import NIOSSL

/// One request of a DAV client: the path is already percent-encoded as it goes on the request line.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// A blocking HTTP/1.1 client connection (RFC 9112) for a DAV connector, which runs on its own thread. It shares
/// the IMAP client's transport: the bounded `InboundQueue` hand-off (the channel stops reading above 2 MiB held),
/// TLS set up and verified as for IMAP (`IMAPConnection.bootstrap`, `makeTLSContext`: implicit TLS for `davs://`,
/// none for `dav://`), the same words for connection failures and the same progress rule for every wait. Responses
/// are cut by IMAPCore's `HTTPResponseParser`, with its byte limits.
///
/// One connection is kept open between requests (keep-alive) and opened again when the server closed it; a request
/// whose connection was found closed before any answer came is sent once more on a new one.
public final class HTTPConnection {
    public let endpoint: IMAPEndpoint
    public let limits: HTTPResponseParser.Limits
    /// Text taken out of every error before it is shown (the password, and its Basic form).
    public var secrets: [String] = []

    private var channel: (any Channel)?
    private var queue = InboundQueue()
    private var parser: HTTPResponseParser

    var server: String { "\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(endpoint.port)" }

    public init(_ endpoint: IMAPEndpoint, limits: HTTPResponseParser.Limits = .init()) {
        self.endpoint = endpoint
        self.limits = limits
        parser = HTTPResponseParser(limits: limits)
    }

    deinit { channel?.close(promise: nil) }

    public var isTLS: Bool { endpoint.security == .implicitTLS }

    /// Sends `request` with `Host` and `Content-Length` added and reads the whole response.
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let reused = channel?.isActive == true
        do {
            return try exchange(request)
        } catch is ConnectionClosedEarly {
            close()
            if reused {
                do { return try exchange(request) } catch is ConnectionClosedEarly { close() }
            }
            throw failure(request, "the server closed the connection without answering")
        }
    }

    public func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    /// Raised when a kept-alive connection turns out closed before the answer's first byte.
    private struct ConnectionClosedEarly: Error {}

    private func exchange(_ request: HTTPRequest) throws -> HTTPResponse {
        let channel = try connected()
        var head = "\(request.method) \(request.path) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(request.body.count)\r\n\r\n"
        try write(Array(head.utf8) + request.body, channel: channel, request: request)
        var waited = 0.0, windowBytes = 0, received = 0
        while true {
            let response: HTTPResponse?
            do {
                response = try parser.next(noBody: request.method == "HEAD")
            } catch {
                close()
                throw failure(request, error.isLimit ? "refused: \(error)" : "not a valid HTTP response: \(error)")
            }
            if let response {
                if response.closesConnection { close() }
                return response
            }
            let began = Date()
            let taken = queue.take(until: began.addingTimeInterval(max(0, endpoint.timeoutSeconds - waited)))
            waited += Date().timeIntervalSince(began)
            switch taken {
            case .bytes(let buffer, let resume):
                received += buffer.readableBytes
                windowBytes += buffer.readableBytes
                if windowBytes >= IMAPEndpoint.minimumProgressBytes { (waited, windowBytes) = (0, 0) }
                parser.append(buffer.readableBytesView)
                if resume { channel.read() }
            case .closed(let error):
                self.channel = nil
                if received == 0 && error == nil { throw ConnectionClosedEarly() }
                if error == nil, let last = try? parser.end() { return last }
                parser = HTTPResponseParser(limits: limits)
                throw failure(request, error.map { "the connection failed: \($0)" } ?? "the server closed the connection part way through the response")
            case .timedOut:
                close()
                throw failure(
                    request, windowBytes > 0 ? endpoint.stalled(after: windowBytes) : "no response within \(endpoint.timeout)")
            }
        }
    }

    private var hostHeader: String {
        let defaultPort = isTLS ? 443 : 80
        let host = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
        return endpoint.port == defaultPort ? host : "\(host):\(endpoint.port)"
    }

    private func connected() throws -> any Channel {
        if let channel, channel.isActive { return channel }
        queue = InboundQueue()
        parser = HTTPResponseParser(limits: limits)
        let bootstrap = try IMAPConnection.bootstrap(endpoint, into: queue, capture: nil)
        do {
            let opened = try bootstrap.connect(host: endpoint.host, port: endpoint.port).wait()
            channel = opened
            return opened
        } catch {
            throw ConnectorError(
                location: "HTTP \(server)",
                message: ConnectionFailure.connect(error, host: endpoint.host, port: endpoint.port, timeout: endpoint.timeout))
        }
    }

    private func write(_ bytes: [UInt8], channel: any Channel, request: HTTPRequest) throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let future = channel.writeAndFlush(buffer)
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { _ in done.signal() }
        if done.wait(timeout: .now() + endpoint.timeoutSeconds) == .timedOut {
            close()
            throw failure(request, "could not send within \(endpoint.timeout)")
        }
        do {
            try future.wait()
        } catch {
            close()
            if isTLS && (error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError) {
                throw failure(request, ConnectionFailure.tlsHandshake(error, host: endpoint.host, port: endpoint.port, implicitTLS: true))
            }
            throw failure(request, "write failed: \(error)")
        }
    }

    private func failure(_ request: HTTPRequest, _ detail: String) -> ConnectorError {
        var text = detail
        for secret in secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
        return ConnectorError(location: "HTTP \(server) \(request.method) \(request.path)", message: text)
    }
}
