import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// Numbers read from an archive (statement, manifest) near the limits of their type: each must be refused with
/// a clear error before it reaches arithmetic, never trap, whether the archive is signed or not.
@Suite struct ArchiveNumberTamperTests {
    // MARK: Statement

    @Test(arguments: [Int64.max, Int64.max - 510, Int64.max / 2, -1, Int64.min])
    func aManifestSizeNearTheLimitsIsRefusedSignedOrNot(_ size: Int64) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.manifest.size = size }
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        // What `inspect` does without a key.
        let unsigned = #expect(throws: ArchiveError.self) { try ArchiveReader(path: path).statementWithoutSignature() }
        #expect(unsigned?.description.contains("the statement's manifest size \(size) does not fit") == true, "\(String(describing: unsigned))")
        // What `verify` and `import` do.
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .signature, saying: "manifest size \(size) does not fit")
    }

    // MARK: Stated counts

    static let overflowingCounts: [(String, @Sendable (inout Counts) -> Void)] = [
        ("items", { $0.messages = Int.max; $0.sieveScripts = 1 }),
        ("bytes", { $0.messageBytes = Int64.max; $0.otherBytes = 1 }),
        ("negative", { $0.messages = -1 }),
        ("negative bytes", { $0.otherBytes = Int64.min }),
    ]

    @Test(arguments: overflowingCounts.indices)
    func statedUserCountsThatOverflowWhenSummedAreRefused(_ index: Int) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.setManifest(parts.manifestLines.map { line in
            guard case .user(var u) = line, u.user == 1 else { return line }
            Self.overflowingCounts[index].1(&u.counts)
            return .user(u)
        })
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        // verify sums the stated counts for its progress total before the walk.
        let error = #expect(throws: ArchiveError.self) {
            try ArchiveVerifier.verify(path: path, trust: key.publicKey, started: { _, _ in })
        }
        #expect(error?.description.contains("states counts that are negative or too large to add up") == true, "\(String(describing: error))")
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, at: "user 1",
                          saying: "states counts that are negative or too large to add up")
        // inspect reads only the head, unsigned.
        #expect(throws: ArchiveError.self) { try ArchiveReader(path: path).manifestHead() }
    }

    @Test func statedUserCountsWhoseSumAcrossUsersOverflowsAreRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        // Two users stating half of Int64's range each: each is representable, the sum is not.
        var lines = try parts.manifestLines
        guard let i = lines.firstIndex(where: { if case .user = $0 { true } else { false } }), case .user(var u) = lines[i],
              case .archive(var header) = lines[0]
        else { Issue.record("the sample has no user"); return }
        u.counts.messageBytes = Int64.max / 2 + 1
        lines[i] = .user(u)
        var second = u
        second.user = u.user + 1
        second.address = "second@example.com"
        let lastUser = lines.lastIndex(where: { if case .user = $0 { true } else { false } })!
        if case .user(let last) = lines[lastUser] { second.user = last.user + 1 }
        lines.insert(.user(second), at: lastUser + 1)
        header.userCount += 1
        lines[0] = .archive(header)
        try parts.setManifest(lines)
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .manifest, kind: .format, at: "user \(second.user)",
                          saying: "states counts that are negative or too large to add up")
    }

    // MARK: Entries

    @Test(arguments: [Int.max, Int.max - 1, Int.min])
    func anEntryFrameNearTheLimitsIsRefused(_ frame: Int) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.editEntries { entries in entries[0].frame = frame }
        try parts.restate(with: key)  // not sealed: sealing would put the frame right
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        try expectRefused(path, trust: key.publicKey, in: dir, stage: .items, saying: "the manifest names frame \(frame)")
    }

    // MARK: Dates

    @Test(arguments: [Int64.max, Int64.min, Int64.max - 86_400, Int64.min + 1])
    func anInternalDateNearTheLimitsVerifiesAndFormatsWithoutTrapping(_ epoch: Int64) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].message != nil {
                entries[j].message!.internalDate = InternalDate(epochSeconds: epoch, utcOffsetMinutes: epoch > 0 ? 1439 : -1439)
            }
        }
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)
        // Any signed 64-bit epoch is valid (format-spec section on internalDate); showing it must not trap.
        let result = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
        #expect(result.entries > 0)
        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: key.publicKey)
        let entries = try reader.loadManifest().entries()
        var shown = 0
        while let e = try entries.next() {
            if let date = e.message?.internalDate {
                #expect(date.iso8601 == "epoch \(epoch)")
                shown += 1
            }
        }
        #expect(shown > 0)
    }
}

extension ArchiveNumberTamperTests {
    /// The same dates through the command line: `inspect --list` of the archive without a key, and an import into a
    /// `dir:` target with its reconcile, end with their listing and report rather than a trap.
    @Test(arguments: [Int64.max, Int64.min])
    func theCommandLineListsAndImportsAnExtremeDate(_ epoch: Int64) throws {
        let dir = try TemporaryDirectory()
        let keygen = try ProcessRunner.run(BuiltBinary.path, ["keygen", "--out", dir.file("k")])
        try #require(keygen.status == 0, "\(keygen.stderr)")
        let key = try SigningKey(pemFile: dir.file("k.key.pem"))
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.editEntries { entries in
            for j in entries.indices where entries[j].message != nil {
                entries[j].message!.internalDate = InternalDate(epochSeconds: epoch)
            }
        }
        try parts.seal(with: key)
        let path = dir.file("a.mfa")
        try parts.write(to: path)

        let list = try ProcessRunner.run(BuiltBinary.path, ["inspect", path, "--list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("epoch \(epoch)"), "\(list.stdout)")

        let report = dir.file("report.json")
        let imported = try ProcessRunner.run(
            BuiltBinary.path,
            ["import", path, "--trust", dir.file("k.pub.pem"), "--target", "dir:" + dir.file("target"), "--report", report])
        // ext4 and tmpfs cannot hold such a time (they clamp it), and the reconcile says so for each message: a failed
        // verdict with its report, exit 1. A file system with 64-bit seconds (btrfs) keeps it, and the import passes.
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        #expect(!imported.stderr.contains("Fatal error"), "\(imported.stderr)")
        if imported.status == 0 {
            #expect(written?["verdict"] as? String == "pass")
        } else {
            #expect(imported.status == 1, "\(imported.stdout) \(imported.stderr)")
            #expect(imported.stdout.contains("internal date epoch \(epoch) became "), "\(imported.stdout)")
            #expect(written?["verdict"] as? String == "fail")
        }
    }
}
