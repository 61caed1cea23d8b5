import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// Signed but malformed archives that a first version of the reader accepted: each is refused now.
@Suite(.blocking) struct ReaderStrictnessTests {
    /// A (buggy or compromised) signer lists the same synthetic name twice, each copy with its own
    /// correct position, size and hash. Names are meant to be unique (EntryPath: "numbers ... from 1",
    /// one per item), and a plain `tar -x` of such an archive silently keeps only the second copy,
    /// so a reader should refuse the second entry by name.
    @Test func aSignedManifestListingTheSameNameTwiceIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        let name = "u/1/m/1/2.eml"
        let i = parts.index(of: name)
        var second = parts.members[i]
        second.data = SampleArchive.message(77)
        parts.members.insert(second, at: i + 1)
        try parts.editEntries { entries in
            let j = entries.firstIndex { $0.path == name }!
            var copy = entries[j]
            copy.describe(second.data)
            entries.insert(copy, at: j + 1)
        }
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items, at: name)
    }

    /// A statement whose own `version` is 2 (archiveVersion still 1) is refused, but the message
    /// names the wrong number: "archive format version 1 is not supported ... (it reads version 1)".
    @Test func anUnknownStatementVersionIsNamedInTheError() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.version = 2 }
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .signature, kind: .format,
                          saying: "version 2 is not supported")
    }
}

extension ReaderStrictnessTests {
    /// The writer never ends the tar stream before the manifest. A signer who puts an end-of-archive
    /// marker after the last item and unsigned members after it (here a `../evil.eml`) gets an
    /// archive that verifies: the item stream stops at the marker and never looks at the rest of the
    /// data frames, which `tar --ignore-zeros -x` (or any tool reading past the marker) would extract.
    @Test func bytesHiddenAfterAnEndMarkerInTheDataFramesAreRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.members.append(.rawBytes([UInt8](repeating: 0, count: 1024)))
        parts.members.append(.regular("../evil.eml", Array("unsigned\n".utf8)))
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        // What a tool reading past end markers sees (listing only, nothing is extracted).
        let listing = try run(["tar", "--zstd", "--ignore-zeros", "-tf", dir.file("a.mfa")])
        #expect(listing.output.contains("../evil.eml"), "\(listing.output)")
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items)
    }
}

extension ReaderStrictnessTests {
    /// `inspect` shows the counts the manifest states; `verify` recounts the entries and refuses
    /// counts that do not match, even when the manifest is signed.
    @Test(arguments: ["user", "container", "totals"])
    func statedCountsThatDoNotMatchTheEntriesAreRefused(_ which: String) throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.setManifest(parts.manifestLines.map { line in
            switch (which, line) {
            case ("user", .user(var u)) where u.user == 1:
                u.counts.messages += 1
                return .user(u)
            case ("container", .container(var c)) where c.user == 1 && c.number == 1 && c.kind == .folder:
                c.items += 3
                return .container(c)
            case ("totals", .archive(var h)):
                h.totals.contacts += 1
                return .archive(h)
            default:
                return line
            }
        })
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .items, kind: .verification, saying: "do not match")
        // `inspect --trust` recounts from the entry lines alone before it shows a count.
        let reader = try ArchiveReader(path: dir.file("a.mfa"))
        try reader.verifySignature(with: key.publicKey)
        let manifest = try reader.loadManifest()
        let error = #expect(throws: ArchiveError.self) { try manifest.checkCounts() }
        #expect(error?.description.contains("do not match") == true, "\(String(describing: error))")
    }
}
