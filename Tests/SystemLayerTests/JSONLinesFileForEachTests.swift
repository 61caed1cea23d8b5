import Foundation
import SystemLayer
import Testing

/// `forEachRecord` hands over, one at a time, exactly the records `read` returns: a torn end and (when asked) damaged
/// lines passed over, a damaged line in the middle refused otherwise, nothing for a missing file.
struct JSONLinesFileForEachTests {
    struct Record: Codable, Equatable {
        var n: Int
    }

    func records(_ path: String, skipping: Bool = false) throws -> (found: Bool, records: [Record]) {
        var seen: [Record] = []
        let found = try JSONLinesFile.forEachRecord(in: path, as: Record.self, skippingDamagedLines: skipping) { seen.append($0) }
        return (found, seen)
    }

    @Test func handsOverWhatReadReturns() throws {
        let dir = NSTemporaryDirectory() + "jsonl-each-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        #expect(try records(dir + "/missing.jsonl").found == false)

        let torn = dir + "/torn.jsonl"
        try Data("{\"n\":1}\n{\"n\":2}\n{\"n\":".utf8).write(to: URL(fileURLWithPath: torn))
        let tornRead = try records(torn)
        #expect(tornRead.found && tornRead.records == [Record(n: 1), Record(n: 2)])
        #expect(try JSONLinesFile.read(torn, as: Record.self) == tornRead.records)

        let damaged = dir + "/damaged.jsonl"
        try Data("{\"n\":1}\nnot json\n{\"n\":3}\n".utf8).write(to: URL(fileURLWithPath: damaged))
        #expect(throws: JSONLinesFile.DamagedLine.self) { try records(damaged) }
        let skipped = try records(damaged, skipping: true)
        #expect(skipped.records == [Record(n: 1), Record(n: 3)])
        #expect(try JSONLinesFile.read(damaged, as: Record.self, skippingDamagedLines: true) == skipped.records)
    }

    /// Files read in several pieces: lines cut by a piece's end, a damaged last line whose newline is the last byte
    /// of a piece, a damaged line in the middle, a torn end. Each time the same outcome as `read`.
    @Test func agreesWithReadAcrossPieces() throws {
        let dir = NSTemporaryDirectory() + "jsonl-pieces-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let piece = 1 << 16
        var lines = ""
        var n = 0
        while lines.utf8.count < piece - 40 {
            lines += "{\"n\":\(n)}\n"
            n += 1
        }
        func padded(_ tail: String, toEndAt size: Int) -> String {
            // Lines up to `size - tail` bytes, then `tail`, so that the tail's last byte is byte `size` of the file.
            var text = lines
            while text.utf8.count + tail.utf8.count < size { text += "\n" }
            return text + tail
        }
        let cases = [
            padded("garbage\n", toEndAt: piece),
            padded("garbage\n", toEndAt: piece + 1),
            padded("garbage\n{\"n\":-1}\n", toEndAt: piece + 30),
            padded("{\"n\":-2}\n{\"n\":", toEndAt: piece + 3),
            padded("{\"n\":-3}\n", toEndAt: 3 * piece),
            lines + lines + lines,
        ]
        for (i, text) in cases.enumerated() {
            let path = dir + "/\(i).jsonl"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            for skipping in [false, true] {
                let expected = Result { try JSONLinesFile.read(path, as: Record.self, skippingDamagedLines: skipping) ?? [] }
                let streamed = Result { try records(path, skipping: skipping).records }
                switch (expected, streamed) {
                case (.success(let a), .success(let b)): #expect(a == b, "case \(i), skipping \(skipping)")
                case (.failure(let a as JSONLinesFile.DamagedLine), .failure(let b as JSONLinesFile.DamagedLine)):
                    #expect(a.line == b.line, "case \(i), skipping \(skipping)")
                default: Issue.record("case \(i), skipping \(skipping): read \(expected), forEachRecord \(streamed)")
                }
            }
        }
    }
}
