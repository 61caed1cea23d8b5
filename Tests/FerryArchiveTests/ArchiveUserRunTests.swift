import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// Users fed side by side into `ArchiveWriter.runs(for:)` make the same archive, byte for byte, as the same users
/// fed one after another through the writer's own `MailboxSink`, whatever order the runs are fed in and however
/// little they may read ahead.
struct ArchiveUserRunTests {
    static let users = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"].map(UserInfo.init)
    static let options = ArchiveOptions(station: "test", tool: "tests", fixedArchiveID: String(repeating: "ab", count: 16), fixedCreated: 1_700_000_000)

    /// User `n`'s mailbox: sizes differ per user, some messages are over a frame, so frame cuts fall inside users
    /// and depend on where the user before ended.
    static func feed(_ n: Int, into sink: any MailboxSink) throws {
        try sink.beginUser(users[n])
        let inbox = try sink.folder(FolderInfo(path: ["INBOX"]))
        let other = try sink.folder(FolderInfo(path: ["Archive", "\(n)"], separator: "/"))
        for i in 0..<(5 + 17 * n) {
            let size = i % 7 == 3 ? 1_500_000 + 100_000 * n : 300 + 97 * i
            let bytes = SampleArchive.message(1000 * n + i, size: size)
            let info = MessageInfo(flags: i % 2 == 0 ? [.seen] : [], internalDate: InternalDate(epochSeconds: 1_600_000_000 + Int64(i)))
            try sink.message(info, inFolder: i % 3 == 0 ? other : inbox, body: MemoryBody(bytes))
        }
        if n == 2 {
            let book = try sink.addressBook(AddressBookInfo(name: "contacts"))
            let card = Array("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:2\r\nFN:C\r\nEND:VCARD\r\n".utf8)
            try sink.contact(ContactInfo(resourceName: "c.vcf", cards: [CardSummary(version: "4.0", uid: "2", formattedName: "C")]), inAddressBook: book, body: MemoryBody(card))
            sink.warning(SourceProblem(location: "c", message: "a warning"))
        }
        try sink.endUser(settings: UserSettings())
    }

    static func sequential(_ path: String, key: SigningKey) throws -> [UInt8] {
        let writer = try ArchiveWriter(path: path, signingKey: key, options: options)
        for n in users.indices { try feed(n, into: writer) }
        _ = try writer.finish()
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every user on a thread of its own, started last user first.
    static func parallel(_ path: String, key: SigningKey, readAheadLimit: Int64, failing: Int? = nil) throws -> [UInt8] {
        let writer = try ArchiveWriter(path: path, signingKey: key, options: options)
        let runs = writer.runs(for: users, readAheadLimit: readAheadLimit, window: users.count)
        let box = RunsBox(runs)
        let group = DispatchGroup()
        for n in runs.indices.reversed() {
            group.enter()
            Thread {
                defer { group.leave() }
                let run = box.runs[n]
                do {
                    if n == failing { throw ConnectorError(location: run.address, message: "made to fail") }
                    try feed(n, into: run)
                    run.end(nil)
                } catch {
                    run.end(error)
                    run.stopAll(error)
                }
            }.start()
        }
        do {
            for run in runs { try writer.append(run) }
        } catch {
            runs[0].stopAll(error)
            group.wait()
            writer.abandon()
            throw error
        }
        group.wait()
        let written = try writer.finish()
        #expect(written.warnings.count == 1)
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test(arguments: [Int64(0), 1 << 20, 1 << 40])
    func runsFedSideBySideMakeTheSameArchive(readAheadLimit: Int64) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let one = try Self.sequential(dir.file("one.mfa"), key: key)
        let many = try Self.parallel(dir.file("many.mfa"), key: key, readAheadLimit: readAheadLimit)
        #expect(one.count > 10_000)
        #expect(one == many)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["many.mfa", "one.mfa"])
    }

    @Test func aFailingRunStopsTheOthersAndLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        #expect(throws: ConnectorError.self) { try Self.parallel(dir.file("x.mfa"), key: key, readAheadLimit: 1 << 40, failing: 2) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}

/// Hands the runs to the feeding threads; each run is fed by one thread only.
private final class RunsBox: @unchecked Sendable {
    let runs: [ArchiveUserRun]
    init(_ runs: [ArchiveUserRun]) { self.runs = runs }
}
