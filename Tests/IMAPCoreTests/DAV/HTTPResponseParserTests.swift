import IMAPCore
import Testing

/// HTTP/1.1 responses cut from bytes: each framing, fed all at once and one byte at a time, and the limits.
struct HTTPResponseParserTests {
    /// Feeds `bytes` in pieces of `step` and collects every response, then the connection's end.
    func responses(_ text: String, step: Int, limits: HTTPResponseParser.Limits = .init()) throws -> [HTTPResponse] {
        var parser = HTTPResponseParser(limits: limits)
        var found: [HTTPResponse] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            parser.append(bytes[i..<min(bytes.count, i + step)])
            i += step
            while let response = try parser.next() { found.append(response) }
        }
        if let last = try parser.end() { found.append(last) }
        return found
    }

    static let stream =
        "HTTP/1.1 100 Continue\r\n\r\n"
        + "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 5\r\n\r\nhello"
        + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
        + "HTTP/1.1 204 No Content\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"

    @Test(arguments: [1, 7, 10_000]) func everyFramingWhateverTheBytesArriveIn(step: Int) throws {
        let found = try responses(Self.stream, step: step)
        #expect(found.map(\.status) == [207, 201, 204, 200])
        #expect(found.map { String(decoding: $0.body, as: UTF8.self) } == ["hello", "abcde", "", "to the end"])
        #expect(found[1].header("ETag") == "\"x\"")
        #expect(found.map(\.closesConnection) == [false, false, false, true])
    }

    @Test func aBodyOverTheLimitIsRefusedWhateverItsFraming() {
        let limits = HTTPResponseParser.Limits(maxHeadBytes: 1024, maxBodyBytes: 100)
        let announced = "HTTP/1.1 207 Multi-Status\r\nContent-Length: 1073741824\r\n\r\nxx"
        let chunked = "HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "20\r\n" + String(repeating: "a", count: 32) + "\r\n", count: 5)
        let endless = "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "b", count: 200)
        let head = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "c", count: 2000)
        for text in [announced, chunked, endless, head] {
            #expect {
                _ = try responses(text, step: 16, limits: limits)
            } throws: { error in
                (error as? HTTPResponseParser.Failure)?.isLimit == true
            }
        }
    }

    @Test func brokenResponsesAreErrorsNotLimits() {
        for text in ["SMTP 220 hello\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"] {
            #expect(throws: HTTPResponseParser.Failure.self, "\(text)") { _ = try responses(text, step: 3) }
        }
    }
}
