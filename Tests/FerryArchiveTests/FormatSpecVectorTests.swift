import Foundation
import TestSupport
import MailModel
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import FerryArchive
import SystemLayer

/// The test vectors of `format-spec/vectors/`.
///
/// Normal runs check the committed vectors. `MAILFERRY_WRITE_VECTORS=1 swift test --filter
/// FormatSpecVectorTests` rewrites them instead (and skips the checks, which a second, normal run
/// then performs). The archive bytes depend on the zstd version, so only the extracted manifest,
/// statement and signature are compared byte for byte; `tiny.mfa` itself must still verify.
@Suite(.serialized, .blocking) struct FormatSpecVectorTests {
    static let writeMode = ProcessInfo.processInfo.environment["MAILFERRY_WRITE_VECTORS"] == "1"

    /// `format-spec/vectors`, found from this file's place in the repository.
    static let vectors: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FerryArchiveTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("format-spec/vectors")

    static func vector(_ name: String) -> String { vectors.appendingPathComponent(name).path }

    static let privateKeyFile = "TEST-ONLY-DO-NOT-USE.key.pem"
    static let publicKeyFile = "TEST-ONLY-DO-NOT-USE.pub.pem"
    static let extracted = ["manifest.jsonl", "statement.json", "statement.sig"]

    static let hasJSONSchema: Bool = {
        guard !writeMode, let result = try? run(["python3", "-c", "import jsonschema"]) else { return false }
        return result.status == 0
    }()

    // MARK: The fixed inputs

    static func crlf(_ lines: [String]) -> MemoryBody {
        MemoryBody(Array(lines.map { $0 + "\r\n" }.joined().utf8))
    }

    /// Writes the vector archive: one user, two folders, three messages, a contact, a calendar
    /// resource with an event and a task, and an active Sieve script.
    static func writeTinyArchive(to path: String, key: SigningKey) throws {
        let writer = try ArchiveWriter(
            path: path, signingKey: key,
            options: ArchiveOptions(
                station: "vector-station", tool: "mailferry-vectors",
                fixedArchiveID: "00112233445566778899aabbccddeeff", fixedCreated: 1_700_000_000))
        try writer.beginUser(UserInfo(address: "vector@example.com"))

        let inbox = try writer.folder(FolderInfo(
            path: ["INBOX"], separator: "/", specialUse: "\\Inbox", subscribed: true,
            guid: "5f1c2a9e8b7d4c3a0000000000000001", uidValidity: 1_699_000_000,
            acl: [ACLEntry(identifier: "vector@example.com", rights: "lrswipkxtecda")]))
        let resume = try writer.folder(FolderInfo(
            path: ["Archive", "Résumé"], separator: "/", specialUse: nil, subscribed: true, uidValidity: 1_699_000_001))

        try writer.message(
            MessageInfo(
                flags: [.seen, .answered], keywords: ["$Forwarded", "Work"],
                internalDate: InternalDate(epochSeconds: 1_699_990_000, nanoseconds: 250_000_000, utcOffsetMinutes: 60),
                guid: "a1b2c3d4e5f60718293a4b5c6d7e8f90", uid: 1, subject: "Vector one",
                from: "Alice <alice@example.com>", messageID: "<v1@example.com>"),
            inFolder: inbox,
            body: crlf([
                "From: Alice <alice@example.com>", "To: vector@example.com", "Subject: Vector one",
                "Date: Tue, 14 Nov 2023 20:26:40 +0100", "Message-ID: <v1@example.com>", "",
                "The first test message.",
            ]))
        try writer.message(
            MessageInfo(
                flags: [.flagged], keywords: [],
                internalDate: InternalDate(epochSeconds: 1_699_995_000, nanoseconds: 0, utcOffsetMinutes: nil),
                uid: 2, subject: "Café ☕ / naïve", from: "bob@example.com", messageID: "<v2@example.com>"),
            inFolder: inbox,
            body: crlf([
                "From: bob@example.com", "To: vector@example.com",
                "Subject: =?UTF-8?Q?Caf=C3=A9_=E2=98=95_/_na=C3=AFve?=", "Message-ID: <v2@example.com>", "",
                "Second message.",
            ]))
        try writer.message(
            MessageInfo(
                flags: [.seen, .draft, .deleted], keywords: ["Résumé"],
                internalDate: InternalDate(epochSeconds: 1_600_000_000, nanoseconds: 1, utcOffsetMinutes: -300),
                uid: 7, subject: "CV draft", from: "vector@example.com", messageID: nil),
            inFolder: resume,
            body: crlf(["From: vector@example.com", "Subject: CV draft", "", "Draft."]))

        let book = try writer.addressBook(AddressBookInfo(name: "Contacts"))
        try writer.contact(
            ContactInfo(resourceName: "ada.vcf", cards: [CardSummary(version: "4.0", uid: "urn:uuid:ada", formattedName: "Ada Lovelace")]),
            inAddressBook: book,
            body: crlf(["BEGIN:VCARD", "VERSION:4.0", "UID:urn:uuid:ada", "FN:Ada Lovelace", "EMAIL:ada@example.com", "END:VCARD"]))

        let calendar = try writer.calendar(CalendarInfo(name: "Personal"))
        try writer.calendarItem(
            CalendarItemInfo(resourceName: "plans.ics", components: [
                ComponentSummary(kind: "VEVENT", uid: "event-1@example.com", summary: "Meeting"),
                ComponentSummary(kind: "VTODO", uid: "todo-1@example.com", summary: "Write the spec"),
            ]),
            inCalendar: calendar,
            body: crlf([
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//MailFerry//vectors//EN",
                "BEGIN:VEVENT", "UID:event-1@example.com", "DTSTAMP:20231114T220000Z",
                "DTSTART:20231115T090000Z", "DTEND:20231115T100000Z", "SUMMARY:Meeting", "END:VEVENT",
                "BEGIN:VTODO", "UID:todo-1@example.com", "DTSTAMP:20231114T220000Z", "SUMMARY:Write the spec", "END:VTODO",
                "END:VCALENDAR",
            ]))

        try writer.sieveScript(
            SieveScriptInfo(name: "main", active: true),
            body: crlf(["require \"fileinto\";", "if header :contains \"subject\" \"CV\" { fileinto \"Archive/Résumé\"; }"]))
        try writer.endUser(settings: UserSettings(vacation: VacationReply(enabled: false, subject: "Away", body: "Back on Monday.", days: 7)))
        _ = try writer.finish()
    }

    /// The manifest, statement and signature inside `archive`, read the way a verifier reads them
    /// (signature checked first, manifest checked against the statement).
    static func extract(_ archive: String, trust key: PublicKey) throws -> [String: [UInt8]] {
        let reader = try ArchiveReader(path: archive)
        try reader.verifySignature(with: key)
        let manifest = try reader.loadManifest()
        let manifestBytes = try manifest.file.read(count: Int(manifest.size), at: 0)
        return ["manifest.jsonl": manifestBytes, "statement.json": reader.statementBytes, "statement.sig": reader.signature]
    }

    /// The encrypted vector (section 13.2), made by `age -R`: MailFerry's reader and `age -d` both give back
    /// `tiny.mfa` byte for byte, and it verifies as the plain one does.
    @Test func theEncryptedVectorDecryptsToTheTinyArchive() throws {
        let identities = try AgeKeyFile.identities(Self.vector("TEST-ONLY-DO-NOT-USE.age.key"))
        let file = try AgeDecryptingFile(file: OwnedFile(path: Self.vector("tiny.mfa.age"), flags: O_RDONLY), identities: identities)
        let plain = try Self.read(Self.vector("tiny.mfa"))
        #expect(try file.read(count: Int(file.size), at: 0) == plain)
        let dir = try TemporaryDirectory()
        let out = dir.file("tiny.mfa")
        let decrypted = try run(["age", "-d", "-i", Self.vector("TEST-ONLY-DO-NOT-USE.age.key"), "-o", out, Self.vector("tiny.mfa.age")])
        #expect(decrypted.status == 0, "\(decrypted.output)")
        #expect(try Self.read(out) == plain)
        let reader = try ArchiveReader(path: Self.vector("tiny.mfa.age"), identities: identities)
        let key = try PublicKey(pemFile: Self.vector("TEST-ONLY-DO-NOT-USE.pub.pem"))
        let result = try ArchiveVerifier.verify(path: Self.vector("tiny.mfa.age"), trust: key, identities: identities)
        #expect(result.entries == 6)
        #expect(reader.isEncrypted)
    }

    // MARK: The volume set (format-spec 13.1)

    static let setFolder = "set"
    static let setID = "ffeeddccbbaa99887766554433221100"

    /// Writes the two-volume vector set `tiny.001.mfa`, `tiny.002.mfa`, `tiny.set` into `folder`: one user, one folder,
    /// four messages of 20 000 bytes of text in volumes of 128 KiB (the writer's bound splits them two and two).
    static func writeTinySet(in folder: String, key: SigningKey) throws {
        let writer = try VolumeSetWriter(
            base: folder + "/tiny", volumeSize: 128 << 10, signingKey: key,
            options: ArchiveOptions(
                station: "vector-station", tool: "mailferry-vectors", fixedArchiveID: "00112233445566778899aabbccddeeff",
                fixedCreated: 1_700_000_000),
            fixedSetID: setID)
        try writer.beginUser(UserInfo(address: "vector@example.com"))
        let inbox = try writer.folder(FolderInfo(path: ["INBOX"], separator: "/", specialUse: "\\Inbox", subscribed: true))
        for m in 1...4 {
            var lines = ["From: alice@example.com", "To: vector@example.com", "Subject: Volume vector \(m)", "Message-ID: <set\(m)@example.com>", ""]
            var size = lines.joined(separator: "\r\n").utf8.count
            var n = 1
            while size < 19_900 {
                let line = "Line \(n) of message \(m) in the two-volume vector."
                lines.append(line)
                size += line.utf8.count + 2
                n += 1
            }
            try writer.message(
                MessageInfo(
                    flags: [.seen], keywords: [], internalDate: InternalDate(epochSeconds: 1_699_990_000 + Int64(m), nanoseconds: 0),
                    uid: UInt32(m), subject: "Volume vector \(m)", from: "alice@example.com", messageID: "<set\(m)@example.com>"),
                inFolder: inbox, body: crlf(lines))
        }
        try writer.endUser(settings: UserSettings())
        _ = try writer.finish()
    }

    @Test(.disabled(if: writeMode, "the vectors are being rewritten"))
    func committedVolumeSetVerifiesAsASetWithTheCommittedKey() throws {
        let key = try PublicKey(pemFile: Self.vector(Self.publicKeyFile))
        let folder = Self.vector(Self.setFolder)
        let set = try VolumeSet.open([folder], trusting: key, requireAll: true)
        #expect(set.statement.setID == Self.setID)
        #expect(set.statement.volumes.map(\.file) == ["tiny.001.mfa", "tiny.002.mfa"])
        #expect(set.statement.volumes.map(\.archiveID) == ["00112233445566778899aabbccddee01", "00112233445566778899aabbccddee02"])
        #expect(set.present == [folder + "/tiny.001.mfa", folder + "/tiny.002.mfa"])
        var subjects: [String] = []
        for (number, path) in set.present.enumerated() {
            let result = try ArchiveVerifier.verify(path: path, trust: key)
            #expect(result.statement.archiveVersion == 3 && result.header.version == 3)
            #expect(result.statement.volume == VolumeMembership(set: Self.setID, number: number + 1))
            #expect(result.entries == 2)
            let reader = try ArchiveReader(path: path)
            try reader.verifySignature(with: key)
            let stream = try reader.items(try reader.loadManifest())
            while let (record, body) = try stream.next() {
                try body.stream { _ in }
                try body.check()
                subjects.append(record.message?.subject ?? "")
            }
        }
        #expect(subjects == (1...4).map { "Volume vector \($0)" })
        // Volume 2 taken as a set (its set statement lies beside it) is refused: volume 1 is missing.
        #expect(throws: ArchiveError.self) { try VolumeSet.open([folder + "/tiny.002.mfa"], trusting: key, requireAll: true) }
    }

    /// The set written again from the same inputs is split the same way, with the same manifests and statements'
    /// identities (the file sizes, and so the set statement's bytes, depend on the zstd version).
    @Test(.disabled(if: writeMode, "the vectors are being rewritten"))
    func writingTheSameSetAgainGivesTheSameVolumes() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey(pemFile: Self.vector(Self.privateKeyFile))
        try Self.writeTinySet(in: dir.path, key: key)
        for name in ["tiny.001.mfa", "tiny.002.mfa"] {
            let fresh = try Self.extract(dir.file(name), trust: key.publicKey)
            let committed = try Self.extract(Self.vector(Self.setFolder + "/" + name), trust: key.publicKey)
            #expect(fresh == committed, "\(name) written now differs from format-spec/vectors/set/\(name)")
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // MARK: Writing (only on request)

    @Test(.enabled(if: writeMode, "set MAILFERRY_WRITE_VECTORS=1 to rewrite format-spec/vectors"))
    func rewriteVectors() throws {
        let key = try SigningKey(pemFile: Self.vector(Self.privateKeyFile))
        let archive = Self.vector("tiny.mfa")
        try Self.writeTinyArchive(to: archive, key: key)
        for (name, bytes) in try Self.extract(archive, trust: key.publicKey) {
            try Data(bytes).write(to: URL(fileURLWithPath: Self.vector(name)))
        }
        try FileManager.default.createDirectory(atPath: Self.vector(Self.setFolder), withIntermediateDirectories: true)
        try Self.writeTinySet(in: Self.vector(Self.setFolder), key: key)
    }

    // MARK: Checking the committed vectors

    @Test(.disabled(if: writeMode, "the vectors are being rewritten"))
    func committedArchiveVerifiesWithTheCommittedKey() throws {
        let key = try PublicKey(pemFile: Self.vector(Self.publicKeyFile))
        let result = try ArchiveVerifier.verify(path: Self.vector("tiny.mfa"), trust: key)
        #expect(result.entries == 6)
        #expect(result.header.archiveID == "00112233445566778899aabbccddeeff")
        #expect(result.users.map(\.address) == ["vector@example.com"])
        #expect(result.statement.signerKeyID == key.keyID)

        // The committed extracted files are exactly what the committed archive holds.
        let inside = try Self.extract(Self.vector("tiny.mfa"), trust: key)
        for name in Self.extracted {
            #expect(inside[name] == (try Self.read(Self.vector(name))), "\(name) differs from the one inside tiny.mfa")
        }
    }

    @Test(.disabled(if: writeMode, "the vectors are being rewritten"))
    func writingTheSameInputsAgainGivesTheSameSignedBytes() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey(pemFile: Self.vector(Self.privateKeyFile))
        let archive = dir.file("tiny.mfa")
        try Self.writeTinyArchive(to: archive, key: key)
        let fresh = try Self.extract(archive, trust: key.publicKey)
        for name in Self.extracted {
            #expect(fresh[name] == (try Self.read(Self.vector(name))), "\(name) written now differs from format-spec/vectors/\(name); if the format changed on purpose, change the spec and version, then rewrite the vectors with MAILFERRY_WRITE_VECTORS=1")
        }
    }

    @Test(.disabled(if: writeMode, "the vectors are being rewritten"))
    func keyIDIsTheHashPrefixOfTheRawPublicKey() throws {
        let key = try PublicKey(pemFile: Self.vector(Self.publicKeyFile))
        // The SubjectPublicKeyInfo of an Ed25519 key is a 12-byte prefix and the 32 raw bytes.
        let pem = String(decoding: try Self.read(Self.vector(Self.publicKeyFile)), as: UTF8.self)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = [UInt8](Data(base64Encoded: base64) ?? Data())
        #expect(der.count == 44)
        #expect(Array(der.suffix(32)) == key.raw)
        #expect(key.keyID == String(SHA256.hex(key.raw).prefix(16)))
        let statement = String(decoding: try Self.read(Self.vector("statement.json")), as: UTF8.self)
        #expect(statement.contains("\"signerKeyID\":\"\(key.keyID)\""))
    }

    @Test(
        .disabled(if: writeMode, "the vectors are being rewritten"),
        .enabled(if: hasJSONSchema, "python3 with the jsonschema module is not available (Debian: apt-get install python3-jsonschema)"))
    func manifestAndStatementMatchTheSchemas() throws {
        let script = Self.vectors.deletingLastPathComponent().appendingPathComponent("check_schema.py").path
        let (status, output) = try run(["python3", script, Self.vector("manifest.jsonl"), Self.vector("statement.json")])
        #expect(status == 0, "check_schema.py: \(output)")

        // A fresh archive with more kinds of content validates too.
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let archive = dir.file("sample.mfa")
        try SampleArchive.write(to: archive, key: key)
        let files = try Self.extract(archive, trust: key.publicKey)
        for name in ["manifest.jsonl", "statement.json"] {
            try Data(files[name]!).write(to: URL(fileURLWithPath: dir.file(name)))
        }
        let again = try run(["python3", script, dir.file("manifest.jsonl"), dir.file("statement.json")])
        #expect(again.status == 0, "check_schema.py on a fresh sample archive: \(again.output)")

        // A volume of the vector set (version 3) validates too.
        let volume = try Self.extract(Self.vector(Self.setFolder + "/tiny.001.mfa"), trust: try PublicKey(pemFile: Self.vector(Self.publicKeyFile)))
        for name in ["manifest.jsonl", "statement.json"] {
            try Data(volume[name]!).write(to: URL(fileURLWithPath: dir.file("volume-" + name)))
        }
        let volumeCheck = try run(["python3", script, dir.file("volume-manifest.jsonl"), dir.file("volume-statement.json")])
        #expect(volumeCheck.status == 0, "check_schema.py on a volume: \(volumeCheck.output)")
    }
}
