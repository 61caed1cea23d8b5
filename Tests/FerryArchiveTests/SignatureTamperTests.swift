import Foundation
import TestSupport
import MailModel
import Testing
@testable import FerryArchive

/// The signature over the statement: altered, missing its key, or made by someone else.
@Suite struct SignatureTamperTests {
    @Test func aFlippedSignatureByteIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        for index in [0, 31, 63] {
            var tampered = parts
            tampered.signature = parts.signature.flipping(index)
            let path = dir.file("sig\(index).mfa")
            try tampered.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .signature,
                              at: EntryPath.signature, saying: "signature does not match")
        }
        // The untouched parts still verify: the refusals above come from the one flipped byte.
        try parts.write(to: dir.file("ok.mfa"))
        _ = try ArchiveVerifier.verify(path: dir.file("ok.mfa"), trust: key.publicKey)
    }

    @Test func aFlippedStatementByteUnderTheOldSignatureIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        // Inside the JSON text, inside the manifest hash, and the final newline.
        let text = String(decoding: parts.statement, as: UTF8.self)
        let hashAt = try #require(text.range(of: "\"sha256\":\"")).upperBound.utf16Offset(in: text)
        for index in [1, hashAt + 3, parts.statement.count - 1] {
            var tampered = parts
            tampered.statement = parts.statement.flipping(index)
            let path = dir.file("st\(index).mfa")
            try tampered.write(to: path)
            try expectRefused(path, trust: key.publicKey, in: dir, stage: .signature,
                              at: EntryPath.signature, saying: "signature does not match")
        }
    }

    @Test func anotherTrustedKeyRefusesTheArchive() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let other = try SigningKey.generate()
        let path = dir.file("a.mfa")
        try SampleArchive.write(to: path, key: key)
        try expectRefused(path, trust: other.publicKey, in: dir, stage: .signature,
                          at: EntryPath.signature, saying: "under the trusted key \(try other.publicKey.keyID)")
    }

    @Test func aStatementResignedByAnUntrustedKeyIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let intruder = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)

        // The intruder signs a statement naming itself.
        var own = parts
        try own.restate(with: intruder)
        try own.write(to: dir.file("own.mfa"))
        try expectRefused(dir.file("own.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          at: EntryPath.signature, saying: "signature does not match")

        // The intruder signs the genuine statement bytes (which name the trusted key).
        var genuine = parts
        try genuine.resign(with: intruder)
        try genuine.write(to: dir.file("genuine.mfa"))
        try expectRefused(dir.file("genuine.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          at: EntryPath.signature, saying: "signature does not match")
    }

    @Test func aStatementNamingAnotherSignerIsRefusedEvenWhenTheSignatureMatches() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.signerKeyID = "0123456789abcdef" }
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          saying: "names signer 0123456789abcdef")
    }

    @Test func aMissingOrShortSignatureIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir)
        var short = parts
        short.signature.removeLast()
        try short.write(to: dir.file("short.mfa"))
        try expectRefused(dir.file("short.mfa"), trust: key.publicKey, in: dir, stage: .signature,
                          at: EntryPath.signature, saying: "signature does not match")
        var long = parts
        long.signature.append(0)
        try long.write(to: dir.file("long.mfa"))
        try expectRefused(dir.file("long.mfa"), trust: key.publicKey, in: dir, stage: .open,
                          at: EntryPath.signature, saying: "at most 64")
    }

    @Test func anUnknownArchiveVersionIsRefusedAsUnsupported() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.archiveVersion = 4 }
        try parts.write(to: dir.file("v4.mfa"))
        try expectRefused(dir.file("v4.mfa"), trust: key.publicKey, in: dir, stage: .signature, kind: .format,
                          saying: "archive format version 4 is not supported")
    }

    /// Version 3 is a volume of a set (format-spec 13.1): a version 3 statement without its `volume` member is refused.
    @Test func aVersion3StatementWithoutItsVolumeIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.archiveVersion = 3 }
        try parts.write(to: dir.file("v3.mfa"))
        try expectRefused(dir.file("v3.mfa"), trust: key.publicKey, in: dir, stage: .signature, kind: .format,
                          saying: "a version 3 archive without a volume member")
    }

    @Test func anotherArchiveFormatNameIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        try parts.restate(with: key) { $0.archiveFormat = "something-else" }
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .signature, kind: .format,
                          saying: "not a MailFerry archive")
    }

    @Test func aSignedStatementThatIsNotJSONIsRefusedAsFormat() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        parts.statement = Array("not json\n".utf8)
        try parts.resign(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .signature, kind: .format,
                          at: EntryPath.statement, saying: "not a valid statement")
    }

    @Test func aManifestRecordThatDisagreesWithTheStatementIsRefused() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        var parts = try ArchiveParts.sample(key: key, in: dir)
        var lines = try parts.manifestLines
        guard case .archive(var header) = lines[0] else { Issue.record("no archive line"); return }
        header.version = 1
        lines[0] = .archive(header)
        try parts.setManifest(lines)
        try parts.seal(with: key)
        try parts.write(to: dir.file("a.mfa"))
        try expectRefused(dir.file("a.mfa"), trust: key.publicKey, in: dir, stage: .manifest,
                          at: EntryPath.manifest, saying: "does not agree with the signed statement")
    }
}
