/// Turns a server's byte stream into `IMAPResponseEvent`s: the framer cuts lines and literals, small literals
/// are collected into the response (at most `maxCollectedLiteral` each, `maxResponseSize` in all), and message
/// body literals in FETCH responses are handed out in chunks as they arrive.
///
/// Feed bytes with `append`, then call `next` until it returns nil ("need more bytes"). Errors are final.
public struct IMAPResponseDecoder: Sendable {
    var framer: IMAPResponseFramer
    public var limits: IMAPLimits { framer.limits }
    /// The response being assembled: its text so far with collected literals inline.
    var line: [UInt8] = []
    var expectingGreeting: Bool
    /// The text that follows is the rest of a FETCH whose body streamed.
    var inFetchContinuation = false
    /// Literal bytes are a message body being streamed.
    var streaming = false
    var events: [IMAPResponseEvent] = []
    var eventIndex = 0

    public init(limits: IMAPLimits = .default, expectingGreeting: Bool = true) {
        framer = IMAPResponseFramer(limits: limits)
        self.expectingGreeting = expectingGreeting
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) { framer.append(bytes) }

    /// Bytes received and not yet decoded.
    public var bufferedCount: Int { framer.bufferedCount }

    /// STARTTLS: forget everything received after the tagged OK (RFC 2595 section 3.1; CVE-2011-0411 was
    /// clients reading injected plaintext as if it came through TLS). Returns how many bytes were dropped.
    @discardableResult
    public mutating func discardBuffered() -> Int {
        events.removeAll()
        eventIndex = 0
        line.removeAll()
        return framer.discardBuffered()
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(IMAPCoreError) -> IMAPResponseEvent? {
        while eventIndex >= events.count {
            events.removeAll(keepingCapacity: true)
            eventIndex = 0
            guard let frame = try framer.next() else { return nil }
            try process(frame)
        }
        defer { eventIndex += 1 }
        return events[eventIndex]
    }

    mutating func process(_ frame: IMAPResponseFramer.Frame) throws(IMAPCoreError) {
        switch frame {
        case .text(let text, let literal):
            guard line.count + text.count <= limits.maxResponseSize else {
                throw IMAPCoreError(.limitExceeded, "response larger than \(limits.maxResponseSize) bytes")
            }
            line += text
            guard let literal else {
                try finishResponse()
                return
            }
            if try startStreamedBody() { return }
            guard literal.size <= Int64(limits.maxCollectedLiteral) else {
                throw IMAPCoreError(
                    .limitExceeded,
                    "literal of \(literal.size) bytes outside a message body, more than the limit of "
                        + "\(limits.maxCollectedLiteral)",
                    excerpt: IMAPCoreError.excerpt(of: line.prefix(40)))
            }
            guard line.count + Int(literal.size) + 2 <= limits.maxResponseSize else {
                throw IMAPCoreError(.limitExceeded, "response larger than \(limits.maxResponseSize) bytes")
            }
            line += [0x0d, 0x0a]
        case .literalBytes(let bytes):
            if streaming {
                events.append(.fetchBodyBytes(bytes))
            } else {
                line += bytes
            }
        case .literalEnd:
            if streaming {
                events.append(.fetchBodyEnd)
                streaming = false
                inFetchContinuation = true
            }
        }
    }

    mutating func finishResponse() throws(IMAPCoreError) {
        defer { line.removeAll(keepingCapacity: line.count < 64 << 10) }
        if inFetchContinuation {
            var c = IMAPByteCursor(line)
            let end = try IMAPResponseParser.fetchItems(&c, first: false, events: &events, allowStreamedBody: false)
            guard end == .closed else { throw c.error("unexpected streamed body") }
            inFetchContinuation = false
        } else if expectingGreeting {
            events.append(.greeting(try IMAPResponseParser.parseGreeting(line)))
            expectingGreeting = false
        } else {
            events += try IMAPResponseParser.parseResponse(line)
        }
    }

    /// Whether the text so far is a FETCH whose last item is a body announced as the literal that follows; if
    /// so the items before it are handed out and the literal will stream.
    mutating func startStreamedBody() throws(IMAPCoreError) -> Bool {
        var c = IMAPByteCursor(line)
        var found: [IMAPResponseEvent] = []
        if !inFetchContinuation {
            guard c.skip(UInt8(ascii: "*")), c.skip(0x20) else { return false }
            guard
                let n = c.optional({ (c: inout IMAPByteCursor) throws(IMAPCoreError) in
                    try IMAPResponseParser.number(&c)
                })
            else { return false }
            guard c.skip(0x20), c.skipKeyword("FETCH"), c.skip(0x20), c.skip(UInt8(ascii: "(")) else {
                return false
            }
            found.append(.fetchStart(sequence: n))
        }
        let end = try? IMAPResponseParser.fetchItems(
            &c, first: !inFetchContinuation, events: &found, allowStreamedBody: true)
        guard case .streamedBody = end else { return false }
        events += found
        streaming = true
        inFetchContinuation = false
        line.removeAll(keepingCapacity: true)
        return true
    }
}
