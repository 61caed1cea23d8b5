import Foundation
import Synchronization
import MailModel
import SystemLayer
import Testing
import TestSupport
@testable import Connectors

/// `dovecot-uidlist.lock` as another process (Dovecot) holds it: waited for, never a failure.
@Suite struct MaildirUIDListLockTests {
    private func folder() throws -> (TemporaryDirectory, MaildirUIDListWriter) {
        let dir = try TemporaryDirectory()
        for sub in ["cur", "new", "tmp"] { try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true) }
        return (dir, MaildirUIDListWriter(directory: dir.path, source: FolderInfo(path: ["INBOX"]), owner: nil))
    }

    /// Another program's lock (not MailFerry's marker, recent): waited for until its holder removes it.
    @Test func aLockAnotherProcessHoldsIsWaitedFor() throws {
        let (dir, writer) = try folder()
        try Array("4242\n".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: writer.lockPath)) }
        let lock = writer.lockPath
        let released = Thread { usleep(300_000); unlink(lock) }
        released.start()
        let committed = try writer.commit([])
        #expect(committed.uids.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.file(DovecotUIDList.fileName)))
        #expect(!FileManager.default.fileExists(atPath: writer.lockPath))
    }

    /// A lock taken and released over and over (Dovecot busy with the folder): the holder may remove it between the
    /// writer's look at it and its read of who holds it, which must count as "not abandoned", not as an error.
    @Test func aLockThatComesAndGoesNeverFailsACommit() throws {
        let (dir, writer) = try folder()
        defer { withExtendedLifetime(dir) {} }
        let lock = writer.lockPath, own = writer.lockPath + ".other"
        try Array("4242\n".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: own)) }
        let stop = Atomic(false)
        let churn = Thread {
            while !stop.load(ordering: .relaxed) {
                if link(own, lock) == 0 {
                    usleep(500)
                    unlink(lock)
                }
                usleep(200)
            }
        }
        churn.start()
        defer { stop.store(true, ordering: .relaxed) }
        for _ in 0..<300 { _ = try writer.commit([]) }
    }
}
