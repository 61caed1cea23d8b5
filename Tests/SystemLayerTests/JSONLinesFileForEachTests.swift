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
}
