import Foundation
import MailModel
import SystemLayer
import TestSupport
import Testing
@testable import FerryArchive

/// Volume sets (format-spec 13.1): written by `VolumeSetWriter`, checked by `VolumeSet` before any volume is read.
@Suite struct VolumeSetTests {
    static let volumeSize: Int64 = 256 << 10

    /// One message as the source gave it, and where it was.
    struct SourceMessage: Equatable {
        var user: String
        var folder: [String]
        var info: MessageInfo
        var bytes: [UInt8]
    }

    /// Barely compressible message bodies (seeded), so a few dozen of them fill several 256 KiB volumes.
    static func body(_ n: Int, size: Int) -> [UInt8] {
        var random = SplitMix64(seed: UInt64(n))
        let head = Array("From: a\(n)@example.com\r\nSubject: volume test \(n)\r\nMessage-ID: <\(n)@example.com>\r\n\r\n".utf8)
        return head + (0..<size).map { _ in UInt8(65 + random.next() % 26) }
    }

    /// Writes two users (alice with two folders, bob with one) into a set of 256 KiB volumes; returns the messages.
    @discardableResult
    static func writeSet(base: String, key: SigningKey, station: String = "test", created: Int64? = nil, messages: Int = 40) throws -> [SourceMessage] {
        var options = ArchiveOptions(station: station, tool: "tests")
        options.fixedCreated = created
        let writer = try VolumeSetWriter(base: base, volumeSize: volumeSize, signingKey: key, options: options)
        var written: [SourceMessage] = []
        for (u, address) in ["alice@example.com", "bob@example.com"].enumerated() {
            try writer.beginUser(UserInfo(address: address))
            let folders = u == 0 ? [["INBOX"], ["Archive", "2024"]] : [["INBOX"]]
            let ids = try folders.map { try writer.folder(FolderInfo(path: $0, separator: "/")) }
            for i in 0..<messages {
                let n = u * 1000 + i
                let info = MessageInfo(
                    flags: i % 3 == 0 ? [.seen, .answered] : [.flagged], keywords: i % 2 == 0 ? ["Work"] : [],
                    internalDate: InternalDate(epochSeconds: 1_700_000_000 + Int64(n), nanoseconds: 0), subject: "volume test \(n)")
                let bytes = body(n, size: 9_000 + (i % 7) * 1_000)
                let folder = i % folders.count
                try writer.message(info, inFolder: ids[folder], body: MemoryBody(bytes, origin: "source/\(address)/\(n)"))
                written.append(SourceMessage(user: address, folder: folders[folder], info: info, bytes: bytes))
            }
            try writer.endUser(settings: UserSettings())
        }
        _ = try writer.finish()
        return written
    }

    /// Every message of the volumes (any order), keyed by subject, read through each volume's verified reader.
    static func readMessages(_ paths: [String], key: PublicKey) throws -> [String: SourceMessage] {
        var found: [String: SourceMessage] = [:]
        for path in paths {
            let reader = try ArchiveReader(path: path)
            try reader.verifySignature(with: key)
            let manifest = try reader.loadManifest()
            let stream = try reader.items(manifest)
            while let (record, body) = try stream.next() {
                var bytes: [UInt8] = []
                try body.stream { bytes += $0 }
                try body.check()
                let user = manifest.users.first { $0.user == record.user }!
                let folder = manifest.containers.first { $0.user == record.user && $0.number == record.container && $0.kind == .folder }!
                let info = try #require(record.message)
                let subject = try #require(info.subject)
                #expect(found[subject] == nil, "\(subject) is in two volumes")
                found[subject] = SourceMessage(user: user.address, folder: folder.folder!.path, info: info, bytes: bytes)
            }
        }
        return found
    }

    @Test func aSetSpansUsersAndFoldersOverVolumesEachVerifyingOnItsOwn() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let written = try Self.writeSet(base: dir.file("june"), key: key)
        let statement = try SetStatement.read(dir.file("june.set"), trusting: key.publicKey)
        #expect(statement.volumes.count >= 3)
        #expect(statement.volumes.map(\.file) == (1...statement.volumes.count).map { String(format: "june.%03d.mfa", $0) })
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.hasSuffix(".partial") })

        var usersPerVolume: [[String]] = []
        for volume in statement.volumes {
            let path = dir.file(volume.file)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)
            #expect(size == volume.size && size <= Self.volumeSize)
            // Each volume is a whole archive: version 3, naming its set and place.
            let result = try ArchiveVerifier.verify(path: path, trust: key.publicKey)
            #expect(result.statement.archiveVersion == 3 && result.header.version == 3)
            #expect(result.statement.volume == VolumeMembership(set: statement.setID, number: volume.number))
            usersPerVolume.append(result.users.map(\.address))
        }
        // alice's mailbox does not fit one volume: she is in more than one, and so is a volume with both users.
        #expect(usersPerVolume.filter { $0.contains("alice@example.com") }.count >= 2)
        #expect(usersPerVolume.contains { $0 == ["alice@example.com", "bob@example.com"] })

        // In any order: the set is whole, and its items are the source's, bytes, flags, keywords and dates.
        var random = SplitMix64(seed: 7)
        let shuffled = statement.volumes.map { dir.file($0.file) }.shuffled(using: &random)
        let set = try VolumeSet.open(shuffled, trusting: key.publicKey, requireAll: true)
        #expect(set.present == statement.volumes.map { dir.file($0.file) })
        #expect(set.missing.isEmpty && set.signatureChecked)
        let read = try Self.readMessages(shuffled, key: try key.publicKey)
        #expect(read.count == written.count)
        for message in written {
            let back = try #require(read[message.info.subject!])
            #expect(back.bytes == message.bytes)
            #expect(back.user == message.user && back.folder == message.folder)
            #expect(back.info.flags == message.info.flags && back.info.keywords == message.info.keywords)
            #expect(back.info.internalDate == message.info.internalDate)
        }
    }

    @Test func theFolderOrTheSetStatementAloneFindsTheVolumes() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try Self.writeSet(base: dir.file("june"), key: key)
        let byFolder = try VolumeSet.open([dir.path], trusting: key.publicKey, requireAll: true)
        let byStatement = try VolumeSet.open([dir.file("june.set")], trusting: key.publicKey, requireAll: true)
        let byOneVolume = try VolumeSet.open([dir.file("june.002.mfa"), dir.file("june.001.mfa")], trusting: key.publicKey, requireAll: false)
        #expect(byFolder.present == byStatement.present)
        #expect(byFolder.present.count == byFolder.statement.volumes.count)
        #expect(byOneVolume.present == [dir.file("june.001.mfa"), dir.file("june.002.mfa")])
        #expect(byOneVolume.missing.map(\.number) == Array(3...byFolder.statement.volumes.count))
    }

    /// `VolumeSet.open` refuses with an `ArchiveError` of `kind` whose text holds every one of `saying`.
    static func expectRefused(_ paths: [String], key: PublicKey, kind: ArchiveError.Kind = .verification, saying: [String]) {
        do {
            let set = try VolumeSet.open(paths, trusting: key, requireAll: true)
            Issue.record("accepted: \(set.present)")
        } catch let error as ArchiveError {
            #expect(error.kind == kind, "\(error)")
            for text in saying { #expect(error.description.contains(text), "\(error)") }
        } catch {
            Issue.record("not an ArchiveError: \(error)")
        }
    }

    @Test func aMissingVolumeIsNamed() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try Self.writeSet(base: dir.file("june"), key: key)
        let statement = try SetStatement.read(dir.file("june.set"), trusting: key.publicKey)
        try FileManager.default.removeItem(atPath: dir.file("june.002.mfa"))
        Self.expectRefused(
            [dir.path], key: try key.publicKey,
            saying: ["set \(statement.setID) has \(statement.volumes.count) volumes; missing: volume 2 (june.002.mfa, archive \(statement.volumes[1].archiveID))"])
    }

    @Test func aVolumeOfAnotherExportIsNamedAsForeign() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try dir.makeDirectory("other")
        try Self.writeSet(base: dir.file("june"), key: key)
        try Self.writeSet(base: dir.file("other/june"), key: key, station: "elsewhere")
        let other = try SetStatement.read(dir.file("other/june.set"), trusting: key.publicKey)
        try FileManager.default.removeItem(atPath: dir.file("june.002.mfa"))
        try FileManager.default.copyItem(atPath: dir.file("other/june.002.mfa"), toPath: dir.file("june.002.mfa"))
        Self.expectRefused(
            [dir.file("june.set"), dir.file("june.001.mfa"), dir.file("june.002.mfa"), dir.file("june.003.mfa")], key: try key.publicKey,
            saying: ["june.002.mfa: is volume 2 of another export (set \(other.setID)", "a foreign or replayed volume"])
    }

    @Test func aReplayedVolumeOfAnOlderExportIsNamed() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try dir.makeDirectory("may")
        // Last month's export to the same name: its volume 1 put back in place of this month's.
        try Self.writeSet(base: dir.file("may/june"), key: key, created: 1_700_000_000)
        try Self.writeSet(base: dir.file("june"), key: key)
        try FileManager.default.removeItem(atPath: dir.file("june.001.mfa"))
        try FileManager.default.copyItem(atPath: dir.file("may/june.001.mfa"), toPath: dir.file("june.001.mfa"))
        let now = try SetStatement.read(dir.file("june.set"), trusting: key.publicKey)
        Self.expectRefused(
            [dir.path], key: try key.publicKey,
            saying: ["june.001.mfa: is volume 1 of an older export", "created 2023-11-14T22:13:20Z", "a foreign or replayed volume",
                     "volume 1 of this set is june.001.mfa, archive \(now.volumes[0].archiveID)"])
    }

    @Test func aDuplicatedVolumeIsNamed() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try Self.writeSet(base: dir.file("june"), key: key)
        try FileManager.default.copyItem(atPath: dir.file("june.002.mfa"), toPath: dir.file("copy.002.mfa"))
        Self.expectRefused(
            [dir.file("june.set"), dir.file("june.001.mfa"), dir.file("june.002.mfa"), dir.file("copy.002.mfa")], key: try key.publicKey,
            saying: ["june.002.mfa: is volume 2 of set", "a second time (also \(dir.file("copy.002.mfa")))", "a duplicated volume"])
    }

    @Test func aSetStatementSignedByAnotherKeyIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate(), other = try SigningKey.generate()
        try Self.writeSet(base: dir.file("june"), key: key)
        // The same statement, signed again by a key that is not the trusted one.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("june.set")))
        let line = Array(bytes.prefix { $0 != 0x0A }) + [0x0A]
        try Data(line + Array(Hex.encode(try other.sign(line)).utf8) + [0x0A]).write(to: URL(fileURLWithPath: dir.file("june.set")))
        Self.expectRefused(
            [dir.path], key: try key.publicKey,
            saying: ["june.set: the set statement's signature does not match under the trusted key \(try key.publicKey.keyID) (signed by another key, or altered)"])
    }

    @Test func aVolumeThatDiffersFromTheSetStatementIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        try Self.writeSet(base: dir.file("june"), key: key)
        // The set statement altered to name another size for volume 1, and signed (by the trusted key): the volume
        // is then not the one it names.
        let text = try String(contentsOfFile: dir.file("june.set"), encoding: .utf8)
        var statement = try JSONDecoder().decode(SetStatement.self, from: Data(text.prefix { $0 != "\n" }.utf8))
        statement.volumes[0].size += 1
        try Data(try statement.signed(with: key)).write(to: URL(fileURLWithPath: dir.file("june.set")))
        Self.expectRefused([dir.path], key: try key.publicKey, saying: ["june.001.mfa: says it is volume 1 of set", "altered or replaced"])
    }

    @Test func anItemLargerThanAVolumeIsRefusedNamingItAndLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let writer = try VolumeSetWriter(base: dir.file("june"), volumeSize: Self.volumeSize, signingKey: key, options: ArchiveOptions(station: "t", tool: "tests"))
        try writer.beginUser(UserInfo(address: "alice@example.com"))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"]))
        // A first volume is finished before the large item comes: it must not stay behind either.
        for n in 0..<30 {
            try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: inbox, body: MemoryBody(Self.body(n, size: 9_000)))
        }
        let big = MemoryBody(Self.body(99, size: 300_000), origin: "maildir:/srv/alice/cur/big")
        do {
            try writer.message(MessageInfo(internalDate: InternalDate(epochSeconds: 1)), inFolder: inbox, body: big)
            Issue.record("a 300 KB item was written into 256 KiB volumes")
        } catch let error as FerryError {
            #expect(error.status == .usage)
            #expect(error.description.contains("maildir:/srv/alice/cur/big (user alice@example.com, \(big.byteCount) bytes) does not fit a volume of 262144 bytes"))
            #expect(error.description.contains("(--volume-size 1M or more)"))
        }
        writer.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func aVolumeSizeTooSmallForAnyArchiveIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        #expect(throws: FerryError.self) {
            try VolumeSetWriter(base: dir.file("june"), volumeSize: 100_000, signingKey: key, options: ArchiveOptions(station: "t", tool: "tests"))
        }
    }
}
