import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// A message whose body fails part way has put part of a tar entry into the stream, which cannot be taken back:
/// the writer must refuse everything after it, so a source that tried the message again could not make an archive
/// whose manifest and tar stream disagree (an export once did, after a server restart, and said it succeeded).
struct PartlyWrittenEntryTests {
    /// Gives `failAfter` bytes of its announced size, then fails as a dropped connection would.
    struct BreakingBody: ItemBody {
        let bytes: [UInt8]
        let failAfter: Int
        var byteCount: Int64 { Int64(bytes.count) }
        var origin: String { "breaking body" }
        func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
            try bytes[..<failAfter].withUnsafeBytes { try consume($0) }
            throw ConnectorError(location: origin, message: "the connection broke")
        }
    }

    @Test(arguments: [0, 1000, 70_000])
    func nothingIsWrittenAfterAnEntryThatFailedPartWay(failAfter: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.mfa")
        let writer = try ArchiveWriter(path: path, signingKey: try SigningKey.generate(), options: ArchiveUserRunTests.options)
        try writer.beginUser(UserInfo(address: "a@example.com"))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"]))
        let info = MessageInfo(internalDate: InternalDate(epochSeconds: 1_600_000_000))
        try writer.message(info, inFolder: inbox, body: MemoryBody(SampleArchive.message(1)))
        let broken = BreakingBody(bytes: SampleArchive.message(2, size: 100_000), failAfter: failAfter)
        #expect(throws: ConnectorError.self) { try writer.message(info, inFolder: inbox, body: broken) }
        // The same message again, as a source retrying it would send it.
        let again = #expect(throws: ArchiveError.self) {
            try writer.message(info, inFolder: inbox, body: MemoryBody(SampleArchive.message(2, size: 100_000)))
        }
        #expect("\(again.map { "\($0)" } ?? "")".contains("failed part way"))
        #expect(throws: (any Error).self) {
            try writer.endUser(settings: UserSettings())
            _ = try writer.finish()
        }
        writer.abandon()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
