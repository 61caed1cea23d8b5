import Foundation
import Testing
import TestSupport

/// A full pass and a delta from one real Dovecot into another through the built binary; between them the mailbox
/// changes through Python's imaplib (new mail, flags set and cleared, a deletion, a UID MOVE, a RENAME). After the
/// delta the target must equal the source again, as imaplib sees both.
@Suite(.serialized, .blocking) struct IMAPDeltaTests {
    @Test func aDeltaBetweenTwoDovecotsCarriesNewMailFlagsMovesDeletionsAndRenames() throws {
        let s = try IMAPRoundTripTests.Stations()
        try s.load(s.source, seed: 11, count: 45)
        let full = s.work.file("full.mfa"), delta = s.work.file("d1.mfa")
        let exported = try s.export(out: full)
        #expect(exported.status == 0, "\(exported.stderr)")
        let imported = try CLI.run(s.importArguments(full))
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(try s.dump(s.source) == s.dump(s.target))

        let changed = try Python.run([IMAPRoundTripTests.fixture, "change", "127.0.0.1", "\(s.source.imapPort)", "alice@example.com",
                                      IMAPRoundTripTests.password, s.source.caFile])
        #expect(changed.status == 0, "\(changed.stderr)")

        let second = try CLI.run(["export", "--source", s.sourceURL, "--user", "alice@example.com", "--credentials", s.credentials,
                                  "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("1 new items") && second.stdout.contains("1 deleted") && second.stdout.contains("1 folders renamed"), "\(second.stdout)")
        // Only the new message's bytes were fetched: the delta holds one entry. Dovecot offers CONDSTORE: the folders
        // nobody touched were not fetched at all, and the full archive recorded each folder's HIGHESTMODSEQ.
        #expect(second.stdout.contains("messages 1 "), "\(second.stdout)")
        #expect(second.stdout.contains("vouched unchanged by the server (CONDSTORE)"), "\(second.stdout)")
        let manifest = Process()
        manifest.executableURL = URL(fileURLWithPath: "/bin/tar")
        manifest.arguments = ["--zstd", "-xOf", full, "mailferry/manifest.jsonl"]
        let pipe = Pipe()
        manifest.standardOutput = pipe
        try manifest.run()
        let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        manifest.waitUntilExit()
        #expect(lines.contains("\"highestModSeq\":"), "the folders carry HIGHESTMODSEQ")
        let fullSize = try FileManager.default.attributesOfItem(atPath: full)[.size] as! Int
        let deltaSize = try FileManager.default.attributesOfItem(atPath: delta)[.size] as! Int
        #expect(deltaSize * 5 < fullSize, "delta \(deltaSize) bytes, full \(fullSize) bytes")

        let applied = try CLI.run(s.importArguments(delta))
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        #expect(applied.stdout.contains("verdict: PASS"), "\(applied.stdout)")
        #expect(applied.stdout.contains("imported: 1 items written") && applied.stdout.contains("3 items moved or reflagged")
            && applied.stdout.contains("1 deleted, 1 folders renamed"), "\(applied.stdout)")
        let source = try s.dump(s.source), target = try s.dump(s.target)
        #expect(!source.isEmpty && source == target, "source:\n\(source.prefix(4000))\ntarget:\n\(target.prefix(4000))")

        let replay = try CLI.run(s.importArguments(delta))
        #expect(replay.status == 1 && replay.stderr.contains("replay"), "\(replay.stderr)")
    }
}

extension IMAPDeltaTests {
    /// kill -9 while a delta is being imported into Dovecot (new mail going in, then moves, flags and deletions), then
    /// the same import again: the target ends equal to the source, nothing doubled.
    @Test func aDeltaImportIntoDovecotKilledWithSIGKILLFinishesWhenRunAgain() throws {
        let s = try IMAPRoundTripTests.Stations()
        try s.load(s.source, seed: 5, count: 30)
        let full = s.work.file("full.mfa"), delta = s.work.file("d1.mfa")
        #expect(try s.export(out: full).status == 0)
        #expect(try CLI.run(s.importArguments(full)).status == 0)
        try s.load(s.source, seed: 6, count: 400)
        let changed = try Python.run([IMAPRoundTripTests.fixture, "change", "127.0.0.1", "\(s.source.imapPort)", "alice@example.com",
                                      IMAPRoundTripTests.password, s.source.caFile])
        #expect(changed.status == 0, "\(changed.stderr)")
        let second = try CLI.run(["export", "--source", s.sourceURL, "--user", "alice@example.com", "--credentials", s.credentials,
                                  "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta])
        #expect(second.status == 0, "\(second.stderr)")

        let process = try CLI.start(s.importArguments(delta))
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            if try s.count(s.target) >= 30 + 120 { break }
            usleep(20_000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()

        let resumed = try CLI.run(s.importArguments(delta))
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        #expect(resumed.stdout.contains("verdict: PASS"), "\(resumed.stdout)")
        let source = try s.dump(s.source), target = try s.dump(s.target)
        #expect(!source.isEmpty && source == target, "killed: \(killed)")
    }
}

extension IMAPDeltaTests {
    /// A folder deleted and made again with the same messages has a new UIDVALIDITY: the delta carries it whole
    /// again (and deletes what the target had from before), and the target still ends equal to the source.
    @Test func aFolderWithANewUIDValidityIsCarriedWholeAgain() throws {
        let s = try IMAPRoundTripTests.Stations()
        try s.load(s.source, seed: 9, count: 32)
        let full = s.work.file("full.mfa"), delta = s.work.file("d1.mfa")
        #expect(try s.export(out: full).status == 0)
        #expect(try CLI.run(s.importArguments(full)).status == 0)
        let recreated = try Python.run([IMAPRoundTripTests.fixture, "recreate", "127.0.0.1", "\(s.source.imapPort)", "alice@example.com",
                                        IMAPRoundTripTests.password, s.source.caFile, "Archive"])
        #expect(recreated.status == 0, "\(recreated.stderr)")
        let second = try CLI.run(["export", "--source", s.sourceURL, "--user", "alice@example.com", "--credentials", s.credentials,
                                  "--ca-file", s.source.caFile, "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta])
        #expect(second.status == 0, "\(second.stderr)")
        // The fixture puts every eighth message into Archive: 4 of 32.
        #expect(second.stdout.contains("1 folders have a new UIDVALIDITY") && second.stdout.contains("4 new items")
            && second.stdout.contains("4 deleted"), "\(second.stdout)")
        let applied = try CLI.run(s.importArguments(delta))
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        let source = try s.dump(s.source), target = try s.dump(s.target)
        let sourceLines = source.split(separator: "\n"), targetLines = target.split(separator: "\n")
        #expect(!source.isEmpty && source == target,
                "only at the source: \(sourceLines.filter { !targetLines.contains($0) }); only at the target: \(targetLines.filter { !sourceLines.contains($0) })")
    }
}

extension IMAPDeltaTests {
    /// The target lost every message after the import (the folders stay): a second run is refused as a replay and
    /// says --reimport; --reimport must not trust the import journal's record of what it placed, but find what is
    /// gone and put it back, and pass.
    @Test func reimportIntoAnEmptiedDovecotPutsEverythingBack() throws {
        let s = try IMAPRoundTripTests.Stations()
        try s.load(s.source, seed: 13, count: 24)
        let full = s.work.file("full.mfa")
        #expect(try s.export(out: full).status == 0)
        #expect(try CLI.run(s.importArguments(full)).status == 0)
        let before = try s.dump(s.target)
        let emptied = try Python.run([IMAPRoundTripTests.fixture, "empty", "127.0.0.1", "\(s.target.imapPort)", "alice@example.com",
                                      IMAPRoundTripTests.password, s.target.caFile])
        #expect(emptied.status == 0, "\(emptied.stderr)")
        #expect(try s.count(s.target) == 0)
        let replay = try CLI.run(s.importArguments(full))
        #expect(replay.status == 1 && replay.stderr.contains("--reimport"), "\(replay.stderr)")
        let again = try CLI.run(s.importArguments(full) + ["--reimport"])
        #expect(again.status == 0 && again.stdout.contains("verdict: PASS"), "\(again.stdout) \(again.stderr)")
        #expect(try s.dump(s.target) == before)
        // Run once more: everything is there now, nothing is added.
        let idle = try CLI.run(s.importArguments(full) + ["--reimport"])
        #expect(idle.status == 0 && idle.stdout.contains("imported: 0 items written"), "\(idle.stdout) \(idle.stderr)")
        #expect(try s.dump(s.target) == before)
    }
}
