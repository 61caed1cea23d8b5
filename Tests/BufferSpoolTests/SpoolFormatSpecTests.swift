import Foundation
import Testing

@testable import BufferSpool

/// format-spec/buffer-spool.md must describe the schema and settings the code uses.
@Suite struct SpoolFormatSpecTests {
    private static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test func specShowsTheSchemaVerbatim() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("format-spec/buffer-spool.md")
        let text = try String(contentsOf: spec, encoding: .utf8)
        let afterFence = try #require(text.range(of: "```sql\n"))
        let end = try #require(text.range(of: "```", range: afterFence.upperBound..<text.endIndex))
        let block = String(text[afterFence.upperBound..<end.lowerBound])
        #expect(Self.normalized(block) == Self.normalized(SpoolSchema.v1))
    }

    @Test func databaseIsWALWithFullSynchronous() throws {
        let temp = TemporarySpool()
        let spool = try temp.open()
        let (mode, synchronous) = try spool.database.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(synchronous == 2)  // FULL
        #expect(temp.files(in: temp.directory).contains("spool.lock"))
    }
}
