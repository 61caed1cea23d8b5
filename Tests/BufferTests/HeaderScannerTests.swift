@testable import Buffer
import Testing

@Suite struct HeaderScannerTests {
    func scan(_ text: String, split: Int) -> HeaderScanner.Result {
        var scanner = HeaderScanner(limit: 1 << 16)
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + split)
            if let result = scanner.append(Array(bytes[index..<end])) {
                // Everything after the result goes to the spool directly.
                var result = result
                result.collected += bytes[end...]
                return result
            }
            index = end
        }
        return scanner.finish()
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func findsMessageIDAndMarkersUnderEverySplit(split: Int) {
        let text = "Subject: x\r\nmessage-id:\r\n <a@b>\r\nX-MailFerry-Buffered: one\r\n\r\nMessage-ID: <body@x>\r\n"
        let result = scan(text, split: split)
        #expect(result.messageID == "<a@b>")
        #expect(result.bufferedMarkers == ["one"])
        #expect(result.collected == Array(text.utf8))
    }

    @Test func aMessageWithoutBodyOrHeaders() {
        #expect(scan("Message-ID: <only@x>\r\n", split: 5).messageID == "<only@x>")
        #expect(scan("\r\nMessage-ID: <body@x>\r\n", split: 5).messageID == nil)
        #expect(scan("", split: 5).collected.isEmpty)
    }

    @Test func stopsAtTheLimit() {
        var scanner = HeaderScanner(limit: 10)
        #expect(scanner.append(Array("X-Long: 0123456789".utf8)) != nil)
        #expect(scanner.append(Array("more".utf8)) == nil)
    }
}

/// Header sections longer than what is kept in memory: the scanner reads on while the content streams.
@Suite struct HeaderScannerLongHeaderTests {
    static func header(fillerOctets: Int, then tail: String) -> [UInt8] {
        var text = "Subject: long\r\n"
        var n = 0
        while text.utf8.count < fillerOctets {
            text += "X-Filler-\(n): " + String(repeating: "f", count: 60) + "\r\n"
            n += 1
        }
        return Array((text + tail).utf8)
    }

    /// Feeds `bytes` in chunks; returns the first result, what was fed after it, and the scanner at the end.
    func feed(_ bytes: [UInt8], chunk: Int, limit: Int, scanLimit: Int) -> (HeaderScanner.Result?, HeaderScanner) {
        var scanner = HeaderScanner(limit: limit, scanLimit: scanLimit)
        var first: HeaderScanner.Result?
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            if let result = scanner.append(Array(bytes[index..<end])) { first = first ?? result }
            index = end
        }
        let last = scanner.finish()
        return (first ?? last, scanner)
    }

    @Test(arguments: [1, 7, 100, 4096])
    func aMessageIDAndMarkerPastTheInMemoryLimitAreFound(chunk: Int) {
        let bytes = Self.header(
            fillerOctets: 5000,
            then: "Message-ID:\r\n <late@example.org>\r\nX-MailFerry-Buffered: late.test\r\n\r\nMessage-ID: <body@x>\r\n")
        let (first, scanner) = feed(bytes, chunk: chunk, limit: 1024, scanLimit: 1 << 20)
        #expect(first?.isHeaderComplete == false)
        #expect(first?.messageID == nil)
        #expect(first.map { $0.collected.count >= 1024 && $0.collected.count < 1024 + chunk } == true)
        #expect(first.map { Array(bytes.prefix($0.collected.count)) == $0.collected } == true)
        #expect(scanner.messageID == "<late@example.org>")
        #expect(scanner.bufferedMarkers == ["late.test"])
    }

    @Test func aFieldFoldedAcrossTheLimitIsUnfolded() {
        // The limit falls inside the folded Message-ID field.
        let text = "Subject: s\r\nMessage-ID:\r\n  <folded@example.org>\r\n\r\nbody\r\n"
        let boundary = text.utf8.count - 20
        let (first, scanner) = feed(Array(text.utf8), chunk: 1, limit: boundary, scanLimit: 1 << 20)
        #expect(first?.isHeaderComplete == false)
        #expect(scanner.messageID == "<folded@example.org>")
    }

    @Test func nothingPastTheScanLimitIsRead() {
        let bytes = Self.header(fillerOctets: 5000, then: "Message-ID: <too-late@example.org>\r\n\r\nbody\r\n")
        let (_, scanner) = feed(bytes, chunk: 100, limit: 1024, scanLimit: 4096)
        #expect(scanner.messageID == nil)
        #expect(scanner.isHeaderScanned)
    }

    @Test func aShortHeaderStillCompletesInMemory() {
        let (first, scanner) = feed(Array("Message-ID: <a@b>\r\n\r\nbody".utf8), chunk: 3, limit: 1024, scanLimit: 1 << 20)
        #expect(first?.isHeaderComplete == true)
        #expect(first?.messageID == "<a@b>")
        #expect(scanner.messageID == "<a@b>")
    }
}
