import Foundation
import MailModel
import Testing
import TestSupport

@testable import FerryArchive

/// `changes(of:)` reads one user's change lines from where they begin: the same records, in the same order, as
/// the whole stream filtered by user; nothing for a user without changes. A keep line naming a container its user
/// does not have is still refused.
@Suite struct UserChangeRunTests {
    @Test func eachUsersChangeLinesAreReadFromWhereTheyBegin() throws {
        let dir = try TemporaryDirectory()
        let (reader, changes, key) = try Self.twoUsersDelta(in: dir)
        let (bobKeep, bobDelete) = (changes[3], changes[4])
        let manifest = try reader.loadManifest()
        func read(_ user: Int) throws -> [ChangeRecord] { try Self.read(manifest, user) }
        #expect(try read(1) == Array(changes[0..<3]))
        #expect(try read(2) == [bobKeep, bobDelete])
        #expect(try read(3).isEmpty)

        var unlisted = ChangeRecordTests.keep(container: 2)
        unlisted.user = 2  // bob has one folder
        let other = try TemporaryDirectory()
        let refused = try ChangeRecordTests.forge([unlisted], deltaOf: ChangeRecordTests.base, key: key, in: other)
        try expectRefused(refused, trust: key.publicKey, in: other, stage: .manifest, kind: .format, saying: "not listed")
    }

    /// Each change line is decoded once however many passes read it after the head's checks (which decode every
    /// line and keep none: a run's size is known only once it is read): the first pass over a user decodes its
    /// lines and keeps them, the next decodes nothing, another user's lines are decoded once and kept in its place.
    /// A user whose lines take more manifest bytes than the limit is kept not in part but not at all, and each
    /// pass decodes its lines; a user within the limit still is.
    @Test func aUsersChangeLinesAreDecodedOnceAcrossPasses() throws {
        let dir = try TemporaryDirectory()
        let (reader, changes, _) = try Self.twoUsersDelta(in: dir)
        let (bobKeep, bobDelete) = (changes[3], changes[4])
        let read = Self.read

        let manifest = try reader.loadManifest()
        #expect(manifest.changeLinesDecoded == 5)
        #expect(try read(manifest, 1) == Array(changes[0..<3]))
        #expect(manifest.changeLinesDecoded == 8)
        #expect(try read(manifest, 1) == Array(changes[0..<3]))
        #expect(manifest.changeLinesDecoded == 8)
        #expect(try read(manifest, 2) == [bobKeep, bobDelete])
        #expect(try read(manifest, 2) == [bobKeep, bobDelete])
        #expect(manifest.changeLinesDecoded == 10)
        #expect(try read(manifest, 1) == Array(changes[0..<3]))
        #expect(manifest.changeLinesDecoded == 13)

        let nothingKept = try reader.loadManifest(keepingChanges: 1)
        #expect(nothingKept.changeLinesDecoded == 5)
        #expect(try read(nothingKept, 1) == Array(changes[0..<3]))
        #expect(nothingKept.changeLinesDecoded == 8)
        #expect(try read(nothingKept, 1) == Array(changes[0..<3]))
        #expect(nothingKept.changeLinesDecoded == 11)

        // A limit that admits bob's two lines and not alice's three.
        let bobsBytes = try Self.runBytes(manifest, 2), alicesBytes = try Self.runBytes(manifest, 1)
        try #require(bobsBytes < alicesBytes)
        let bobKept = try reader.loadManifest(keepingChanges: bobsBytes)
        #expect(try read(bobKept, 1) == Array(changes[0..<3]))
        #expect(try read(bobKept, 1) == Array(changes[0..<3]))
        #expect(bobKept.changeLinesDecoded == 11)
        #expect(try read(bobKept, 2) == [bobKeep, bobDelete])
        #expect(try read(bobKept, 2) == [bobKeep, bobDelete])
        #expect(bobKept.changeLinesDecoded == 13)
    }

    /// A manifest of one user has one run, found without a pass over its entries: all of them, from the first. Read
    /// as a run, it is read to the end with every check, so an archive record that states another number of
    /// entries than the manifest lists is still refused there, whichever way the count is off.
    @Test func theRunOfTheOnlyUserIsAllTheEntriesCheckedToTheEnd() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = dir.file("one.mfa")
        try ArchiveRoundTripTests.writeInbox(
            of: "alice@example.com", holding: (1...5).map { Array("Subject: \($0)\r\n\r\nbody \($0)\r\n".utf8) }, to: path,
            key: key)

        let manifest = try ArchiveReader(path: path).loadManifest()
        let runs = try manifest.userEntries()
        let run = try #require(runs[1])
        #expect(runs.count == 1 && run.count == 5)
        var all: [EntryRecord] = []
        let entries = manifest.entries()
        while let e = try entries.next() { all.append(e) }
        var read: [EntryRecord] = []
        let own = manifest.entries(of: run)
        while let e = try own.next() { read.append(e) }
        #expect(read == all && all.count == 5)
        #expect(run.firstFrame == all[0].frame && run.firstOffset == all[0].offset)

        for stated in [4, 6] {
            var parts = try ArchiveParts.decode(path)
            var lines = try parts.manifestLines
            guard case .archive(var header) = lines[0] else { throw ForgeError("no archive line") }
            header.entryCount = stated
            lines[0] = .archive(header)
            try parts.setManifest(lines)
            try parts.seal(with: key)
            let forged = dir.file("stated-\(stated).mfa")
            try parts.write(to: forged)
            let wrong = try ArchiveReader(path: forged).loadManifest()
            let wrongRun = try #require(try wrong.userEntries()[1])
            let iterator = wrong.entries(of: wrongRun)
            #expect(throws: ArchiveError.self, "an archive record stating \(stated) of 5 entries") {
                while try iterator.next() != nil {}
            }
        }
    }

    /// The manifest bytes of `user`'s change lines, each with its newline.
    static func runBytes(_ manifest: VerifiedManifest, _ user: Int) throws -> Int {
        let lines = manifest.changeLines(of: user)
        var bytes = 0
        while try lines.next() != nil { bytes += try #require(lines.lastLine).length + 1 }
        return bytes
    }

    /// `changeLines(of:)` gives each line's place, even for a user whose lines are kept decoded, and the line read
    /// again at that place is the same record; entries' places too. A place outside the copy is an error.
    @Test func aLineReadAgainAtItsPlaceIsTheSameRecord() throws {
        let dir = try TemporaryDirectory()
        let (reader, changes, _) = try Self.twoUsersDelta(in: dir)
        let manifest = try reader.loadManifest()
        var again: [ChangeRecord] = []
        for user in [1, 2] {
            let lines = manifest.changeLines(of: user)
            while let c = try lines.next() {
                let place = try #require(lines.lastLine)
                guard case .change(let read) = try manifest.line(place) else {
                    Issue.record("the line at \(place.offset) is not a change line")
                    continue
                }
                #expect(read == c)
                again.append(read)
            }
        }
        #expect(again == changes)
        let entries = manifest.entries()
        var seen = 0
        while let e = try entries.next() {
            guard case .entry(let read) = try manifest.line(try #require(entries.lastLine)) else {
                Issue.record("not an entry line")
                continue
            }
            #expect(read == e)
            seen += 1
        }
        #expect(seen == manifest.header.entryCount)
        #expect(throws: ArchiveError.self) { try manifest.line(ManifestLineRef(offset: manifest.size, length: 10)) }
    }

    /// A signed delta in `dir` whose change lines are alice's three, then bob's keep and delete; its reader, checked.
    static func twoUsersDelta(in dir: TemporaryDirectory) throws -> (ArchiveReader, [ChangeRecord], SigningKey) {
        let key = try SigningKey.generate()
        var bobKeep = ChangeRecordTests.keep()
        bobKeep.user = 2
        var bobDelete = ChangeRecordTests.delete()
        bobDelete.user = 2
        let changes = [ChangeRecordTests.keep(), ChangeRecordTests.delete(), ChangeRecordTests.keep(container: 2), bobKeep, bobDelete]
        let path = try ChangeRecordTests.forge(changes, deltaOf: ChangeRecordTests.base, key: key, in: dir)
        let reader = try ArchiveReader(path: path)
        try reader.verifySignature(with: try key.publicKey)
        return (reader, changes, key)
    }

    static func read(_ manifest: VerifiedManifest, _ user: Int) throws -> [ChangeRecord] {
        let iterator = manifest.changes(of: user)
        var records: [ChangeRecord] = []
        while let c = try iterator.next() { records.append(c) }
        return records
    }
}
