import Foundation
import Testing
import TestSupport

/// `import --jobs N` reads each user's part of the archive on its own and ends with the same target as one job.
@Suite(.blocking) struct ParallelImportTests {
    /// Every file under `root` with its bytes, by relative path. A `dovecot-uidlist` is taken without its header:
    /// the sample store has no UIDVALIDITY or folder GUID to keep, so each import makes new ones.
    static func tree(_ root: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                if relative.hasSuffix("/dovecot-uidlist"), let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    bytes = bytes[(newline + 1)...]
                }
                files[relative] = bytes
            }
        }
        return files
    }

    @Test func twoJobsGiveTheSameTargetAsOne() throws {
        let work = try Workspace()
        let store = try work.sampleStore()
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let archive = work.file("a.mfa")
        let export = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")
        let one = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "dir:" + work.file("one")])
        #expect(one.status == 0, "\(one.stderr)")
        let two = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "dir:" + work.file("two"), "--jobs", "2", "--json"])
        #expect(two.status == 0, "\(two.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as? [String: Any]
        #expect(report?["verdict"] as? String == "pass")
        #expect((report?["users"] as? [[String: Any]])?.count == 2)
        let a = try Self.tree(work.file("one"))
        let b = try Self.tree(work.file("two"))
        #expect(!a.isEmpty && a == b)
        // Again with two jobs: nothing is added.
        let again = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "dir:" + work.file("two"), "--jobs", "2", "--reimport"])
        #expect(again.stdout.contains("imported: 0 items written"), "\(again.stdout)")
    }
}
