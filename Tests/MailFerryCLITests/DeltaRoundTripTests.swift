import FerryArchive
import Foundation
import Testing
import SystemLayer
import TestSupport

/// Incremental passes through the built binary: a full archive, changes at the source, a delta, and the target
/// must then equal the source, byte for byte, flag for flag, date for date. The ledger refuses a replay, a delta
/// without its base and one out of order; a delta import killed with -9 finishes when run again.
@Suite(.serialized, .blocking) struct DeltaRoundTripTests {
    static let user = "u@example.com"
    /// Text that does not compress away, so archive sizes follow the number of messages carried.
    static func filler(_ seed: String) -> String {
        var lines: [String] = []
        var state = Array(seed.utf8)
        for _ in 0..<24 {
            let hasher = SystemLayer.SHA256()
            hasher.update(state)
            let hex = hasher.finalizeHex()
            lines.append(hex + hex.prefix(12))
            state = Array(hex.utf8)
        }
        return lines.joined(separator: "\r\n")
    }

    /// A Maildir++ tree: INBOX, Work and Old, `count` messages of about 2.5 KB, some flagged, one with a keyword.
    static func makeMaildir(_ root: String, count: Int) throws {
        for folder in ["", ".Work", ".Old"] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)/\(sub)", withIntermediateDirectories: true)
            }
        }
        try "0 $Label1\n".write(toFile: "\(root)/dovecot-keywords", atomically: true, encoding: .utf8)
        for n in 0..<count {
            let folder = ["", ".Work", ".Old"][n % 3]
            let flags = n == 9 ? "Sa" : n % 4 == 0 ? "S" : n % 4 == 1 ? "FS" : ""
            try writeMessage(root: root, folder: folder, name: "\(1_700_000_000 + n).M\(n)P1.src", flags: flags, body: "\(n)")
        }
    }

    static func writeMessage(root: String, folder: String, name: String, flags: String, body: String, into sub: String = "cur") throws {
        let text = "From: s@example.com\r\nSubject: message \(body)\r\nMessage-ID: <\(body)@delta.test>\r\n\r\n\(body)\r\n\(filler(body))\r\n"
        let path = "\(root)/\(folder)/\(sub)/\(name)" + (sub == "cur" ? ":2,\(flags)" : "")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let seconds = 1_600_000_000 + (Int(body.filter(\.isNumber)) ?? 7) * 3600
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(seconds))], ofItemAtPath: path)
    }

    /// Every message of a Maildir++ tree as `folder|SHA-256|system flags|keywords|mtime seconds`, sorted: what
    /// must be equal between source and target (file names differ; keyword letters are mapped to names per folder).
    static func dump(_ root: String) throws -> [String] {
        let fm = FileManager.default
        var lines: [String] = []
        let folders = [""] + (try fm.contentsOfDirectory(atPath: root)).filter { $0.hasPrefix(".") && !$0.hasPrefix(".mailferry") }
        for folder in folders {
            let directory = folder.isEmpty ? root : "\(root)/\(folder)"
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            var keywords: [Character: String] = [:]
            if let text = try? String(contentsOfFile: "\(directory)/dovecot-keywords", encoding: .utf8) {
                for line in text.split(separator: "\n") {
                    let parts = line.split(separator: " ", maxSplits: 1)
                    if parts.count == 2, let n = UInt8(parts[0]) { keywords[Character(UnicodeScalar(UInt8(ascii: "a") + n))] = String(parts[1]) }
                }
            }
            for sub in ["cur", "new"] {
                for name in (try? fm.contentsOfDirectory(atPath: "\(directory)/\(sub)")) ?? [] {
                    let path = "\(directory)/\(sub)/\(name)"
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                    let hasher = SystemLayer.SHA256()
                    hasher.update([UInt8](bytes))
                    let hash = hasher.finalizeHex()
                    let letters = name.range(of: ":2,").map { String(name[$0.upperBound...]) } ?? ""
                    let system = String(letters.filter { $0.isUppercase }.sorted())
                    let names = letters.filter { $0.isLowercase }.map { keywords[$0] ?? "?\($0)" }.sorted().joined(separator: ",")
                    let mtime = Int((try fm.attributesOfItem(atPath: path)[.modificationDate] as! Date).timeIntervalSince1970)
                    lines.append("\(folder.isEmpty ? "INBOX" : folder)|\(hash)|\(system)|\(names)|\(mtime)")
                }
            }
        }
        return lines.sorted()
    }

    /// The target equals the source; a failure lists what only one side has.
    static func expectSame(_ s: Setup, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let source = try dump(s.source), target = try dump(s.target)
        let onlySource = source.filter { !target.contains($0) }, onlyTarget = target.filter { !source.contains($0) }
        #expect(onlySource.isEmpty && onlyTarget.isEmpty && source.count == target.count, "only at the source: \(onlySource); only at the target: \(onlyTarget)", sourceLocation: sourceLocation)
    }

    static func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    }

    static func archiveID(_ path: String, identity: String? = nil) throws -> String {
        let statement = try CLI.run(["inspect", path, "--json"] + (identity.map { ["--identity", $0] } ?? []))
        let object = try JSONSerialization.jsonObject(with: Data(statement.stdout.utf8)) as? [String: Any]
        if let id = object?["archiveID"] as? String { return id }
        if let header = object?["header"] as? [String: Any], let id = header["archiveID"] as? String { return id }
        Issue.record("no archive id in inspect --json: \(statement.stdout.prefix(300))")
        return "?"
    }

    struct Setup {
        let work: Workspace
        var source: String { work.file("src") }
        var target: String { work.file("dst") }
        var journal: String { work.file("state") }

        func export(_ out: String, since: String? = nil) throws -> CLI.Result {
            var args = ["export", "--source", "maildir:" + source, "--user", DeltaRoundTripTests.user, "--sign-key",
                        work.file("k.key.pem"), "--out", work.file(out)]
            if let since { args += ["--since", work.file(since)] }
            return try CLI.run(args)
        }

        func importArguments(_ archive: String, into target: String? = nil) -> [String] {
            ["import", work.file(archive), "--trust", work.file("k.pub.pem"), "--target", "maildir:" + (target ?? self.target),
             "--user", DeltaRoundTripTests.user, "--journal", journal]
        }

        func importArchive(_ archive: String, into target: String? = nil, extra: [String] = []) throws -> CLI.Result {
            try CLI.run(importArguments(archive, into: target) + extra)
        }
    }

    static func setUp(count: Int) throws -> Setup {
        let s = Setup(work: try Workspace())
        #expect(try CLI.run(["keygen", "--out", s.work.file("k")]).status == 0)
        try makeMaildir(s.source, count: count)
        let full = try s.export("full.mfa")
        #expect(full.status == 0, "\(full.stderr)")
        let imported = try s.importArchive("full.mfa")
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        try expectSame(s)
        return s
    }

    /// New mail, a flag change, a keyword set, a deletion, a move between folders and a renamed folder.
    static func change(_ root: String) throws {
        let fm = FileManager.default
        try writeMessage(root: root, folder: "", name: "1800000000.M1P1.new", flags: "", body: "9001", into: "new")
        try writeMessage(root: root, folder: ".Work", name: "1800000001.M2P1.new", flags: "S", body: "9002")
        try fm.moveItem(atPath: "\(root)/cur/1700000000.M0P1.src:2,S", toPath: "\(root)/cur/1700000000.M0P1.src:2,FRS")
        try fm.moveItem(atPath: "\(root)/cur/1700000003.M3P1.src:2,", toPath: "\(root)/cur/1700000003.M3P1.src:2,a")
        try fm.removeItem(atPath: "\(root)/cur/1700000006.M6P1.src:2,")
        try fm.moveItem(atPath: "\(root)/.Work/cur/1700000001.M1P1.src:2,FS", toPath: "\(root)/cur/1700000001.M1P1.src:2,FS")
        try fm.moveItem(atPath: "\(root)/.Old", toPath: "\(root)/.Renamed")
    }

    /// A delta written as a volume set (`--since` with `--volume-size`): every volume a delta of the same base. Its
    /// import waits for every volume (nothing is written while one is missing), then applies them in order, the set's
    /// folder rename first although it travels in the last volume; the target then equals the source, byte for byte,
    /// flag for flag, and the set imported again is a replay.
    @Test func aDeltaWrittenAsAVolumeSetIsAppliedWholeAndInOrder() throws {
        let s = try Self.setUp(count: 60)
        try Self.change(s.source)
        // Enough new mail for several 128K volumes, in every folder, the renamed one too.
        for n in 0..<90 {
            let folder = ["", ".Work", ".Renamed"][n % 3]
            try Self.writeMessage(root: s.source, folder: folder, name: "\(1_800_000_100 + n).M\(n)P2.new", flags: n % 2 == 0 ? "S" : "", body: "\(5000 + n)")
        }
        let delta = try CLI.run([
            "export", "--source", "maildir:" + s.source, "--user", Self.user, "--sign-key", s.work.file("k.key.pem"),
            "--out", s.work.file("d1.mfa"), "--since", s.work.file("full.mfa"), "--volume-size", "128K",
        ])
        #expect(delta.status == 0, "\(delta.stderr)")
        #expect(delta.stdout.contains("92 new items"), "\(delta.stdout)")
        #expect(delta.stdout.contains("1 deleted") && delta.stdout.contains("1 folders renamed"), "\(delta.stdout)")
        let volumes = try FileManager.default.contentsOfDirectory(atPath: s.work.path).filter { $0.hasPrefix("d1.") && $0.hasSuffix(".mfa") }.sorted()
        #expect(volumes.count >= 3, "\(volumes)")
        for name in volumes {
            #expect(try Self.fileSize(s.work.file(name)) <= 128 << 10, "\(name)")
            let inspected = try CLI.run(["inspect", s.work.file(name), "--json"])
            #expect(inspected.stdout.contains(try Self.archiveID(s.work.file("full.mfa"))), "\(name) is not a delta of full.mfa")
        }
        #expect(try CLI.run(["verify", s.work.file("d1.set"), "--trust", s.work.file("k.pub.pem")]).status == 0)

        // One volume missing: refused before anything is written.
        let stick = s.work.file("stick")
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        for name in ["d1.set"] + volumes where name != volumes[1] {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        let before = try Self.dump(s.target)
        let arguments = ["--trust", s.work.file("k.pub.pem"), "--target", "maildir:" + s.target, "--user", Self.user, "--journal", s.journal]
        let partial = try CLI.run(["import", stick] + arguments)
        #expect(partial.status == 2, "\(partial.stdout) \(partial.stderr)")
        #expect(partial.stderr.contains("is a delta (of archive "), "\(partial.stderr)")
        #expect(partial.stderr.contains("which is applied only whole, and it lacks volume 2 (\(volumes[1]), archive "), "\(partial.stderr)")
        #expect(try Self.dump(s.target) == before)

        try FileManager.default.copyItem(atPath: s.work.file(volumes[1]), toPath: stick + "/" + volumes[1])
        let imported = try CLI.run(["import", stick] + arguments)
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(imported.stdout.contains("verdict: PASS"), "\(imported.stdout)")
        #expect(imported.stdout.contains("1 deleted, 1 folders renamed"), "\(imported.stdout)")
        try Self.expectSame(s)
        #expect(FileManager.default.fileExists(atPath: s.target + "/.Renamed/cur"))
        #expect(!FileManager.default.fileExists(atPath: s.target + "/.Old"))

        let again = try CLI.run(["import", stick] + arguments)
        #expect(again.status == 1, "\(again.stderr)")
        #expect(again.stderr.contains("a replay is refused"), "\(again.stderr)")
    }

    @Test func aDeltaBringsTheTargetToTheSourceAndIsSmall() throws {
        let s = try Self.setUp(count: 60)
        try Self.change(s.source)
        let delta = try s.export("d1.mfa", since: "full.mfa")
        #expect(delta.status == 0, "\(delta.stderr)")
        #expect(delta.stdout.contains("2 new items"), "\(delta.stdout)")
        #expect(delta.stdout.contains("1 deleted") && delta.stdout.contains("1 folders renamed"), "\(delta.stdout)")
        // Two new messages against sixty: the delta is metadata and two bodies.
        let fullSize = try Self.fileSize(s.work.file("full.mfa")), deltaSize = try Self.fileSize(s.work.file("d1.mfa"))
        #expect(deltaSize * 3 < fullSize, "delta \(deltaSize) bytes, full \(fullSize) bytes")
        #expect(try CLI.run(["verify", s.work.file("d1.mfa"), "--trust", s.work.file("k.pub.pem")]).status == 0)
        let inspected = try CLI.run(["inspect", s.work.file("d1.mfa"), "--trust", s.work.file("k.pub.pem")])
        #expect(inspected.stdout.contains("keep 59, delete 1, renameFolder 1, deleteFolder 0"), "\(inspected.stdout)")

        let imported = try s.importArchive("d1.mfa")
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(imported.stdout.contains("verdict: PASS"), "\(imported.stdout)")
        try Self.expectSame(s)
        #expect(FileManager.default.fileExists(atPath: s.target + "/.Renamed/cur"))
        #expect(!FileManager.default.fileExists(atPath: s.target + "/.Old"))

        // Applied again on purpose (--reimport): nothing is added or changed.
        let before = try Self.dump(s.target)
        let again = try s.importArchive("d1.mfa", extra: ["--reimport"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("imported: 0 items written"), "\(again.stdout)")
        #expect(again.stdout.contains("0 items moved or reflagged") && again.stdout.contains("0 deleted"), "\(again.stdout)")
        #expect(try Self.dump(s.target) == before)

        // A delta of the delta: a flag cleared, a message deleted from the renamed folder.
        let renamed = try FileManager.default.contentsOfDirectory(atPath: s.source + "/.Renamed/cur").sorted()
        let gone = try Data(contentsOf: URL(fileURLWithPath: s.source + "/.Renamed/cur/" + renamed[0]))
        try FileManager.default.removeItem(atPath: s.source + "/.Renamed/cur/" + renamed[0])
        try FileManager.default.moveItem(atPath: "\(s.source)/cur/1700000000.M0P1.src:2,FRS", toPath: "\(s.source)/cur/1700000000.M0P1.src:2,")
        let second = try s.export("d2.mfa", since: "d1.mfa")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("sequence 3") && second.stdout.contains("0 new items"), "\(second.stdout)")
        let applied = try s.importArchive("d2.mfa")
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        try Self.expectSame(s)

        // reconcile on its own compares with the state after the delta: a message removed behind its back is missing.
        let victim = try FileManager.default.contentsOfDirectory(atPath: s.target + "/.Work/cur").sorted()[0]
        try FileManager.default.removeItem(atPath: s.target + "/.Work/cur/" + victim)
        let check = try CLI.run(["reconcile", s.work.file("d2.mfa"), "--trust", s.work.file("k.pub.pem"), "--target", "maildir:" + s.target,
                                 "--user", Self.user])
        #expect(check.status == 1, "\(check.stdout)")
        #expect(check.stdout.contains("MISSING 1"), "\(check.stdout)")

        // ... and a message the delta deleted that is back at the target is named.
        try gone.write(to: URL(fileURLWithPath: s.target + "/.Renamed/cur/1234.back.host:2,"))
        let resurrected = try CLI.run(["reconcile", s.work.file("d2.mfa"), "--trust", s.work.file("k.pub.pem"), "--target",
                                       "maildir:" + s.target, "--user", Self.user])
        #expect(resurrected.status == 1 && resurrected.stdout.contains("deleted at the source, is still at the target"), "\(resurrected.stdout)")
    }

    @Test func theLedgerRefusesReplaysDeltasWithoutTheirBaseAndDeltasOutOfOrder() throws {
        let s = try Self.setUp(count: 12)
        let fullID = try Self.archiveID(s.work.file("full.mfa"))
        let replay = try s.importArchive("full.mfa")
        #expect(replay.status == 1)
        #expect(replay.stderr.contains(fullID) && replay.stderr.contains("replay"), "\(replay.stderr)")

        try Self.change(s.source)
        #expect(try s.export("d1.mfa", since: "full.mfa").status == 0)
        let d1ID = try Self.archiveID(s.work.file("d1.mfa"))
        // Into a target that never had the full archive.
        let orphan = try s.importArchive("d1.mfa", into: s.work.file("other"))
        #expect(orphan.status == 1)
        #expect(orphan.stderr.contains(d1ID) && orphan.stderr.contains(fullID) && orphan.stderr.contains("not been imported"), "\(orphan.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.work.file("other") + "/cur"), "nothing is written before the refusal")

        // A second delta of the same base, made after d1 was imported: out of order.
        try Self.writeMessage(root: s.source, folder: "", name: "1800000009.M9P1.new", flags: "", body: "9009")
        #expect(try s.export("d1b.mfa", since: "full.mfa").status == 0)
        let d1bID = try Self.archiveID(s.work.file("d1b.mfa"))
        #expect(try s.importArchive("d1.mfa").status == 0)
        let outOfOrder = try s.importArchive("d1b.mfa")
        #expect(outOfOrder.status == 1)
        #expect(outOfOrder.stderr.contains(d1bID) && outOfOrder.stderr.contains(d1ID), "\(outOfOrder.stderr)")
        let replayedDelta = try s.importArchive("d1.mfa")
        #expect(replayedDelta.status == 1 && replayedDelta.stderr.contains("replay"), "\(replayedDelta.stderr)")
        // --reimport repairs with the last archive only: the full one would undo what d1 changed.
        let rollback = try s.importArchive("full.mfa", extra: ["--reimport"])
        #expect(rollback.status == 1 && rollback.stderr.contains("undo"), "\(rollback.stderr)")
        #expect(try s.importArchive("d1.mfa", extra: ["--reimport"]).status == 0)
    }

    /// Each refusal of the ledger says, in its own message, what to run instead, naming the archives involved;
    /// and what it says works.
    @Test func eachLedgerRefusalNamesTheWayForwardAndTheWayWorks() throws {
        let s = try Self.setUp(count: 12)
        let fullID = try Self.archiveID(s.work.file("full.mfa"))
        // A replay of the last archive imported: --reimport.
        let replay = try s.importArchive("full.mfa")
        #expect(replay.status == 1 && replay.stderr.contains(fullID) && replay.stderr.contains("--reimport"), "\(replay.stderr)")
        #expect(replay.stderr.contains("--journal"), "a deliberately fresh target is the other way: \(replay.stderr)")

        // A second full export into the same target: a delta against the last archive imported, or another journal.
        #expect(try s.export("full2.mfa").status == 0)
        let full2ID = try Self.archiveID(s.work.file("full2.mfa"))
        let second = try s.importArchive("full2.mfa")
        #expect(second.status == 1, "\(second.stdout)")
        #expect(second.stderr.contains(full2ID) && second.stderr.contains(fullID), "\(second.stderr)")
        #expect(second.stderr.contains("--since") && second.stderr.contains("--journal"), "\(second.stderr)")

        // The ways it names: a delta of the last archive imported goes in.
        try Self.change(s.source)
        #expect(try s.export("d1.mfa", since: "full.mfa").status == 0)
        let d1ID = try Self.archiveID(s.work.file("d1.mfa"))
        let d1 = try s.importArchive("d1.mfa")
        #expect(d1.status == 0, "\(d1.stdout) \(d1.stderr)")
        try Self.expectSame(s)
        // ... and the second full archive fills a fresh target (its own journal).
        let fresh = try CLI.run(s.importArguments("full2.mfa", into: s.work.file("fresh")) + ["--journal", s.work.file("state-fresh")])
        #expect(fresh.status == 0, "\(fresh.stdout) \(fresh.stderr)")

        // A replay of an archive a later delta built on: --reimport of the last one, named.
        let old = try s.importArchive("full.mfa")
        #expect(old.status == 1 && old.stderr.contains(fullID) && old.stderr.contains(d1ID) && old.stderr.contains("--reimport"), "\(old.stderr)")
        let rollback = try s.importArchive("full.mfa", extra: ["--reimport"])
        #expect(rollback.status == 1 && rollback.stderr.contains(d1ID) && rollback.stderr.contains("--reimport"), "\(rollback.stderr)")

        // A delta of an archive that is no longer the last: a new delta against the last one.
        #expect(try s.export("d1b.mfa", since: "full.mfa").status == 0)
        let stale = try s.importArchive("d1b.mfa")
        #expect(stale.status == 1 && stale.stderr.contains(d1ID) && stale.stderr.contains("--since"), "\(stale.stderr)")
        #expect(try s.export("d2.mfa", since: "d1.mfa").status == 0)
        let d2 = try s.importArchive("d2.mfa")
        #expect(d2.status == 0, "\(d2.stdout) \(d2.stderr)")
        try Self.expectSame(s)

        // A delta whose base this target never had: import the base first (or every archive of the chain at once).
        let orphan = try s.importArchive("d1.mfa", into: s.work.file("other"))
        #expect(orphan.status == 1 && orphan.stderr.contains(fullID) && orphan.stderr.contains("first"), "\(orphan.stderr)")

        // import --help says what a second run does.
        let help = try CLI.run(["import", "--help"])
        #expect(!help.stdout.contains("adds nothing") && help.stdout.contains("replay") && help.stdout.contains("--reimport"), "\(help.stdout)")
    }

    /// --reimport after the target was emptied puts everything back and passes; when the last archive is a delta,
    /// which cannot bring back what earlier archives carried, the report says how to refill the target.
    @Test func reimportIntoAnEmptiedTargetPutsEverythingBack() throws {
        let s = try Self.setUp(count: 12)
        try FileManager.default.removeItem(atPath: s.target)
        let refilled = try s.importArchive("full.mfa", extra: ["--reimport"])
        #expect(refilled.status == 0 && refilled.stdout.contains("verdict: PASS"), "\(refilled.stdout) \(refilled.stderr)")
        #expect(refilled.stdout.contains("imported: 12 items written"), "\(refilled.stdout)")
        try Self.expectSame(s)

        try Self.change(s.source)
        #expect(try s.export("d1.mfa", since: "full.mfa").status == 0)
        #expect(try s.importArchive("d1.mfa").status == 0)
        try FileManager.default.removeItem(atPath: s.target)
        let partial = try s.importArchive("d1.mfa", extra: ["--reimport"])
        #expect(partial.status == 1, "\(partial.stdout)")
        #expect(partial.stdout.contains("NOT FOUND") && partial.stdout.contains("--journal"), "\(partial.stdout)")
        // What it says: the chain again, into the emptied target, with a journal of its own.
        let journal = ["--journal", s.work.file("state-refill")]
        #expect(try s.importArchive("full.mfa", extra: journal).status == 0)
        let chain = try s.importArchive("d1.mfa", extra: journal)
        #expect(chain.status == 0, "\(chain.stdout) \(chain.stderr)")
        try Self.expectSame(s)
    }

    @Test func aDeltaImportKilledWithSIGKILLFinishesWhenRunAgain() throws {
        let s = try Self.setUp(count: 30)
        try Self.change(s.source)
        // Enough new mail that the import is still running when it is killed.
        for n in 0..<1500 {
            try Self.writeMessage(root: s.source, folder: n % 2 == 0 ? "" : ".Work", name: "\(1_900_000_000 + n).K\(n)P1.new", flags: "S", body: "\(20000 + n)")
        }
        #expect(try s.export("d1.mfa", since: "full.mfa").status == 0)
        let process = try CLI.start(s.importArguments("d1.mfa"))
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            let written = (try? FileManager.default.contentsOfDirectory(atPath: s.target + "/cur").count) ?? 0
            if written >= 300 { break }
            usleep(2000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()

        let resumed = try s.importArchive("d1.mfa")
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        try Self.expectSame(s)
        #expect(try s.importArchive("d1.mfa").status == 1, "accepted once finished: a further run is a replay")
    }
}

/// A directory store (mail, contacts, calendars, Sieve) through a full pass and a delta in which contacts and events
/// change, vanish and appear; and the delta's manifest against the JSON Schema and check_schema.py.
@Suite(.serialized, .blocking) struct DirectoryDeltaTests {
    /// Every file of a user's folder outside the Maildir and MailFerry's own records, as `path|SHA-256`.
    static func files(_ home: String) throws -> [String] {
        let fm = FileManager.default
        var lines: [String] = []
        guard let walker = fm.enumerator(atPath: home) else { return [] }
        while let relative = walker.nextObject() as? String {
            if relative == "Maildir" { walker.skipDescendants(); continue }
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".mailferry") || name == ".dovecot.sieve" { continue }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: home + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let hasher = SystemLayer.SHA256()
            hasher.update([UInt8](try Data(contentsOf: URL(fileURLWithPath: home + "/" + relative))))
            lines.append("\(relative)|\(hasher.finalizeHex())")
        }
        return lines.sorted()
    }

    @Test func contactsAndEventsThatChangeVanishOrAppearFollowTheSource() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let store = try work.sampleStore(), target = work.file("dst"), state = work.file("state")
        func export(_ out: String, since: String? = nil) throws -> CLI.Result {
            try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("k.key.pem"), "--out", work.file(out)]
                + (since.map { ["--since", work.file($0)] } ?? []))
        }
        func importArchive(_ name: String) throws -> CLI.Result {
            try CLI.run(["import", work.file(name), "--trust", work.file("k.pub.pem"), "--target", "dir:" + target, "--journal", state])
        }
        #expect(try export("full.mfa").status == 0)
        let first = try importArchive("full.mfa")
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")

        let alice = store + "/alice@example.com"
        let carol = alice + "/contacts/carol-nguyen.vcf"
        let card = try String(contentsOfFile: carol, encoding: .utf8)
        try card.replacingOccurrences(of: "END:VCARD", with: "NOTE:moved to the Lisbon office\r\nEND:VCARD")
            .write(toFile: carol, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: alice + "/contacts/dave-lindqvist.vcf")
        try "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:erin\r\nFN:Erin Okafor\r\nEND:VCARD\r\n"
            .write(toFile: alice + "/contacts/erin-okafor.vcf", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: alice + "/calendars/work/weekly-standup.ics")

        let delta = try export("d1.mfa", since: "full.mfa")
        #expect(delta.status == 0, "\(delta.stderr)")
        #expect(delta.stdout.contains("2 new items") && delta.stdout.contains("2 deleted"), "\(delta.stdout)")

        // The delta's manifest and statement follow the schemas and the cross-line rules.
        let extract = Process()
        extract.executableURL = URL(fileURLWithPath: "/bin/tar")
        extract.currentDirectoryURL = URL(fileURLWithPath: work.path)
        extract.arguments = ["--zstd", "-xf", work.file("d1.mfa"), "mailferry/manifest.jsonl", "mailferry/statement.json"]
        try extract.run()
        extract.waitUntilExit()
        let checked = try Python.run([CLI.repositoryRoot + "/format-spec/check_schema.py", work.file("mailferry/manifest.jsonl"),
                                      work.file("mailferry/statement.json")])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")

        let applied = try importArchive("d1.mfa")
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        for user in ["alice@example.com", "bob@example.com"] {
            #expect(try Self.files(store + "/" + user) == Self.files(target + "/" + user), "\(user)")
            #expect(try DeltaRoundTripTests.dump(store + "/" + user + "/Maildir") == DeltaRoundTripTests.dump(target + "/" + user + "/Maildir"))
        }
        #expect(!FileManager.default.fileExists(atPath: target + "/alice@example.com/contacts/dave-lindqvist.vcf"))
    }
}
