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
