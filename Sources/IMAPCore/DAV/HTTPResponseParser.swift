/// One HTTP/1.1 response (RFC 9112) as a DAV client reads it: the status, the header fields, the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    /// Field names lowercased, values trimmed, in the order received.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The server will close the connection after this response (`Connection: close`, or a body that ends with it).
    public var closesConnection: Bool

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}

/// Cuts HTTP/1.1 responses out of a byte stream (RFC 9112): status line, header fields, then a body framed by
/// `Transfer-Encoding: chunked`, `Content-Length` or the end of the connection. Pure bytes, no sockets, so it is
/// tested with bytes alone.
///
/// Memory is bounded: the head may not pass `limits.maxHeadBytes` and a body not `limits.maxBodyBytes`; a
/// `Content-Length` above the limit is refused before its first byte is read, a chunked or close-delimited body as
/// soon as it passes the limit.
public struct HTTPResponseParser: Sendable {
    public struct Limits: Sendable {
        /// The status line and every header field together.
        public var maxHeadBytes: Int
        /// One response body (a PROPFIND or REPORT answer of one batch, one object).
        public var maxBodyBytes: Int
        public init(maxHeadBytes: Int = 64 << 10, maxBodyBytes: Int = 64 << 20) {
            self.maxHeadBytes = maxHeadBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// A limit was passed (the input may be well formed, but too large to take).
        public var isLimit: Bool
        init(_ description: String, limit: Bool = false) {
            self.description = description
            isLimit = limit
        }
    }

    private enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        case head
        case body(Framing)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.head
    private var current: HTTPResponse?

    public init(limits: Limits = Limits()) { self.limits = limits }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet part of a parsed response.
    public var bufferedBytes: Int { buffer.count - start }

    /// The next complete response, or nil until more bytes come. `noBody` for the answer to HEAD.
    public mutating func next(noBody: Bool = false) throws(Failure) -> HTTPResponse? {
        while true {
            switch state {
            case .head:
                guard let response = try parseHead() else { return nil }
                // 1xx answers are interim (RFC 9110 section 15.2): the final one follows.
                if (100..<200).contains(response.status) { continue }
                current = response
                if noBody || response.status == 204 || response.status == 304 {
                    return finish()
                }
                state = .body(try framing(of: response))
            case .body(.length(let count)):
                guard bufferedBytes >= count else { return nil }
                current!.body = Array(buffer[start..<start + count])
                start += count
                return finish()
            case .body(.chunked):
                state = .chunkSize
            case .body(.untilClose):
                try takeBody(bufferedBytes)
                start = buffer.count
                return nil
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, what: "a chunk size line") else { return nil }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }
                let text = String(decoding: digits, as: UTF8.self).trimmingSpaces
                guard !text.isEmpty, text.count <= 15, let size = Int(text, radix: 16) else {
                    throw Failure("a chunk size that is not a hexadecimal number: \(String(text.prefix(40)).debugDescription)")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, bufferedBytes)
                guard take > 0 else { return nil }
                try takeBody(take)
                start += take
                state = remaining == take ? .chunkEnd : .chunkData(remaining: remaining - take)
            case .chunkEnd:
                guard let line = try takeLine(limit: 2, what: "the end of a chunk") else { return nil }
                guard line.isEmpty else { throw Failure("a chunk not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine(limit: limits.maxHeadBytes, what: "a trailer field") else { return nil }
                if line.isEmpty { return finish() }
            }
        }
    }

    /// The connection ended: a close-delimited body is complete; anything else cut short is an error.
    public mutating func end() throws(Failure) -> HTTPResponse? {
        switch state {
        case .body(.untilClose):
            try takeBody(bufferedBytes)
            start = buffer.count
            return finish()
        case .head where bufferedBytes == 0:
            return nil
        default:
            throw Failure("the connection ended part way through a response")
        }
    }

    private mutating func finish() -> HTTPResponse {
        state = .head
        defer { current = nil }
        return current!
    }

    private mutating func takeBody(_ count: Int) throws(Failure) {
        guard current!.body.count + count <= limits.maxBodyBytes else {
            throw Failure("the response body passed \(limits.maxBodyBytes) bytes, the most this program reads of one response", limit: true)
        }
        current!.body.append(contentsOf: buffer[start..<start + count])
    }

    /// RFC 9112 section 6.3: chunked wins over Content-Length; neither on a response means the body runs to the
    /// connection's end.
    private func framing(of response: HTTPResponse) throws(Failure) -> Framing {
        if let coding = response.header("transfer-encoding") {
            guard coding.lowercased().split(separator: ",").last?.trimmingSpaces == "chunked" else {
                throw Failure("a transfer coding this client does not read: \(coding.debugDescription)")
            }
            return .chunked
        }
        if let length = response.header("content-length") {
            guard length.count <= 18, let count = Int(length), count >= 0 else {
                throw Failure("a Content-Length that is not a number: \(String(length.prefix(40)).debugDescription)")
            }
            guard count <= limits.maxBodyBytes else {
                throw Failure("the response announces \(count) bytes, more than the \(limits.maxBodyBytes) this program reads of one response", limit: true)
            }
            return .length(count)
        }
        return .untilClose
    }

    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    // field-line  = field-name ":" OWS field-value OWS
    private mutating func parseHead() throws(Failure) -> HTTPResponse? {
        guard let end = headEnd() else {
            if bufferedBytes > limits.maxHeadBytes {
                throw Failure("a response head longer than \(limits.maxHeadBytes) bytes", limit: true)
            }
            return nil
        }
        guard end - start <= limits.maxHeadBytes else {
            throw Failure("a response head longer than \(limits.maxHeadBytes) bytes", limit: true)
        }
        let text = String(decoding: buffer[start..<end], as: UTF8.self)
        start = end + 4
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw Failure("not an HTTP/1.1 status line: \(String(statusLine.prefix(80)).debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                !line[..<colon].contains(" ")
            else {
                throw Failure("a header line that is not NAME: VALUE: \(String(line.prefix(80)).debugDescription)")
            }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        var response = HTTPResponse(
            status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, body: [],
            closesConnection: false)
        let connection = response.header("connection")?.lowercased() ?? ""
        response.closesConnection =
            connection.split(separator: ",").contains { $0.trimmingSpaces == "close" }
            || (parts[0] == "HTTP/1.0" && !connection.contains("keep-alive"))
            || (response.header("transfer-encoding") == nil && response.header("content-length") == nil
                && status != 204 && status != 304)
        return response
    }

    private func headEnd() -> Int? {
        var i = start
        while i + 3 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    private mutating func takeLine(limit: Int, what: String) throws(Failure) -> ArraySlice<UInt8>? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 {
                let line = buffer[start..<i]
                start = i + 2
                return line
            }
            i += 1
            if i - start > limit { throw Failure("\(what) longer than \(limit) bytes", limit: true) }
        }
        if bufferedBytes > limit + 2 { throw Failure("\(what) longer than \(limit) bytes", limit: true) }
        return nil
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
