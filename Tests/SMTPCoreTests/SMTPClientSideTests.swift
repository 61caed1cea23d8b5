import SMTPCore
import Testing

/// What an SMTP or LMTP client reads and sends: replies cut out of the byte stream, DATA dot-stuffed.
@Suite struct SMTPClientSideTests {
    @Test func repliesAreParsedWholeAndOneByteAtATime() throws {
        let wire = Array("220 mx ready\r\n250-mx\r\n250-8BITMIME\r\n250 PIPELINING\r\n550 5.1.1 <x@y>: no such user\r\n".utf8)
        for split in [wire.count, 1] {
            var parser = SMTPClientReplyParser()
            var replies: [SMTPClientReply] = []
            var i = 0
            while i < wire.count {
                parser.feed(wire[i..<min(i + split, wire.count)])
                i += split
                while let r = try parser.next() { replies.append(r) }
            }
            #expect(replies.map(\.code) == [220, 250, 550])
            #expect(replies[1].lines == ["mx", "8BITMIME", "PIPELINING"])
            #expect(replies[1].capabilities == ["8BITMIME", "PIPELINING"])
            #expect(replies[2].description == "550 5.1.1 <x@y>: no such user")
        }
        var bad = SMTPClientReplyParser()
        bad.feed(Array("hello\r\n".utf8))
        #expect(throws: SMTPClientReplyError.self) { try bad.next() }
        var mixed = SMTPClientReplyParser()
        mixed.feed(Array("250-a\r\n251 b\r\n".utf8))
        #expect(throws: SMTPClientReplyError.self) { try mixed.next() }
    }

    @Test func dotStuffingSurvivesEverySplit() throws {
        let message = Array(".starts with dot\r\nmiddle\r\n.\r\n..two\r\nlast".utf8)
        let expected = Array("..starts with dot\r\nmiddle\r\n..\r\n...two\r\nlast\r\n.\r\n".utf8)
        for cut in 0...message.count {
            var stuffer = SMTPDotStuffer()
            var out = stuffer.stuff(Array(message[..<cut]))
            out += stuffer.stuff(Array(message[cut...]))
            out += stuffer.finish()
            #expect(out == expected, "cut at \(cut)")
        }
        var ended = SMTPDotStuffer()
        #expect(ended.stuff(Array("a\r\n".utf8)) + ended.finish() == Array("a\r\n.\r\n".utf8))
    }
}
