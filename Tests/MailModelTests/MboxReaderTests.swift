import Foundation
import Testing
@testable import MailModel
import TestSupport

@Suite struct MboxReaderTests {
    static let date = InternalDate(epochSeconds: 1_709_805_600)

    static let messages: [[UInt8]] = [
        Array("From: a@example.com\nSubject: one\n\nFrom here\n>From there\n>>From x\nFrom\nFrom:x\n>Fro\n".utf8),
        Array("Subject: two\n\nends with an empty line\n\n".utf8),
        Array("Subject: three\n\n".utf8),
        Array("Subject: four\n\nFrom the start\n>From the end\n".utf8),
    ]

    /// Scans a file and unquotes each message with the streaming body rules, in chunks of `chunkSize`.
    static func readBack(_ path: String, chunkSize: Int) throws -> [(MboxMessageLocation, [UInt8])] {
        let file = try ReadOnlyFile(path: path)
        var result: [(MboxMessageLocation, [UInt8])] = []
        try MboxReader(file: file, chunkSize: chunkSize).scan { location in
            let stored = try file.read(at: location.contentOffset, count: Int(location.contentLength))
            result.append((location, MboxQuoting.apply(.unquote, to: stored)))
        }
        return result
    }

    @Test(arguments: [1, 2, 3, 7, 64, MboxReader.defaultChunkSize])
    func roundTripByteForByte(chunkSize: Int) throws {
        let scratch = try TemporaryDirectory()
        let file = Self.messages.flatMap { MboxWriter.entry(message: $0, sender: "alice@example.com", date: Self.date) }
        let text = String(decoding: file, as: UTF8.self)
        #expect(text.contains("\n>From here\n>>From there\n>>>From x\nFrom\nFrom:x\n>Fro\n"))
        let path = try scratch.write("test.mbox", file)
        let read = try Self.readBack(path, chunkSize: chunkSize)
        #expect(read.map(\.1) == Self.messages)
        #expect(read.map { Int($0.0.unquotedLength) } == Self.messages.map(\.count))
        #expect(read.map(\.0.lineNumber) == [1, 12, 18, 22])
        #expect(read.allSatisfy { $0.0.fromLine.date == Self.date && $0.0.fromLine.sender == "alice@example.com" })
        #expect(read[0].0.fromLineText == "From alice@example.com Thu Mar  7 10:00:00 2024")
    }

    @Test func crlfMbox() throws {
        let scratch = try TemporaryDirectory()
        let messages = [Array("Subject: a\r\n\r\nFrom me\r\n".utf8), Array("Subject: b\r\n\r\nbody\r\n".utf8)]
        let file = messages.flatMap { MboxWriter.entry(message: $0, sender: "x@y", date: Self.date, lineBreak: "\r\n") }
        #expect(String(decoding: file, as: UTF8.self).contains("\r\n\r\nFrom x@y Thu Mar  7 10:00:00 2024\r\n"))
        let read = try Self.readBack(try scratch.write("test.mbox", file), chunkSize: 5)
        #expect(read.map(\.1) == messages)
    }

    @Test func messageWithoutTrailingNewline() throws {
        let scratch = try TemporaryDirectory()
        // At the end of a file, a message can end without a line break and is read exactly.
        let handWritten = "From a Thu Mar  7 10:00:00 2024\nSubject: x\n\nlast line\n\nFrom b Thu Mar  7 10:00:00 2024\nSubject: y\n\nno newline"
        let read = try Self.readBack(try scratch.write("test.mbox", Array(handWritten.utf8)), chunkSize: 4)
        #expect(read.map { String(decoding: $0.1, as: UTF8.self) } == ["Subject: x\n\nlast line\n", "Subject: y\n\nno newline"])
        // The writer must add the line break before the separating empty line.
        let entry = MboxWriter.entry(message: Array("Subject: z\n\nno newline".utf8), sender: "a", date: Self.date)
        let back = try Self.readBack(try scratch.write("w.mbox", entry), chunkSize: 3)
        #expect(back.map(\.1) == [Array("Subject: z\n\nno newline\n".utf8)])
    }

    @Test func fromInsideAParagraphDoesNotSplit() throws {
        let scratch = try TemporaryDirectory()
        let text = "\n\nFrom a Thu Mar  7 10:00:00 2024\nSubject: x\n\ntext\nFrom here, unquoted\nmore\n"
        let read = try Self.readBack(try scratch.write("test.mbox", Array(text.utf8)), chunkSize: 2)
        #expect(read.count == 1)
        #expect(read[0].0.lineNumber == 3)
        #expect(String(decoding: read[0].1, as: UTF8.self) == "Subject: x\n\ntext\nFrom here, unquoted\nmore\n")
    }

    @Test func notAnMboxFile() throws {
        let scratch = try TemporaryDirectory()
        let path = try scratch.write("test.mbox", Array("Subject: hello\n\nbody\n".utf8))
        let error = #expect(throws: ConnectorError.self) { try Self.readBack(path, chunkSize: 16) }
        #expect(error?.location == path + ":1")
        #expect(error?.message == "not an mbox file: first line does not start with 'From '")
        #expect(try Self.readBack(try scratch.write("empty", []), chunkSize: 16).isEmpty)
    }

    @Test func unreadableFile() throws {
        let error = #expect(throws: ConnectorError.self) { try ReadOnlyFile(path: "/nonexistent/mailferry/x.mbox") }
        #expect(error?.location == "/nonexistent/mailferry/x.mbox")
        #expect(error?.message.contains("No such file or directory") == true)
    }

    @Test func fromLines() {
        let line = MboxFromLine("From MAILER-DAEMON Fri Jan  5 08:09:10 2024 +0100")
        #expect(line?.sender == "MAILER-DAEMON")
        #expect(line?.date == InternalDate(epochSeconds: 1_704_442_150 - 3600, utcOffsetMinutes: 60))
        #expect(MboxFromLine("From bob@example.org Sat Feb 29 23:59 2020 remote from host")?.date?.epochSeconds == 1_583_020_740)
        #expect(MboxFromLine("From bob@example.org yesterday")?.date == nil)
        #expect(MboxFromLine("From bob@example.org yesterday")?.dateText == "yesterday")
        #expect(MboxFromLine("Subject: x") == nil)
        #expect(MboxFromLine.format(sender: "a b", date: InternalDate(epochSeconds: 0)) == "From MAILER-DAEMON Thu Jan  1 00:00:00 1970")
    }

    @Test func quotingOnItsOwn() {
        let text = Array(">From a\nFrom b\n>>From c\nX From d\n>From".utf8)
        let quoted = MboxQuoting.apply(.quote, to: text)
        #expect(String(decoding: quoted, as: UTF8.self) == ">>From a\n>From b\n>>>From c\nX From d\n>From")
        #expect(MboxQuoting.apply(.unquote, to: quoted) == text)
    }

    @Test func statusFlagsAndKeywords() {
        let header = "Status: RO\nX-Status: AFT\nX-Keywords: $Forwarded, Work  Work\nSubject: s\n\nStatus: D\n"
        let status = MboxStatus(header: Array(header.utf8))
        #expect(status.flags == [.seen, .answered, .flagged, .draft])
        #expect(status.keywords == ["$Forwarded", "Work"])
        #expect(MboxStatus(header: Array("Status: O\nX-Status: D\n\n".utf8)).flags == [.deleted])
        #expect(MboxStatus(header: Array("X-Mozilla-Status: 0005\nX-Mozilla-Keys: $label1\n\n".utf8)).flags == [.seen, .flagged])
    }
}
