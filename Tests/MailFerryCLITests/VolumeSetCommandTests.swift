import Foundation
import SystemLayer
import Testing
import TestSupport

/// Volume sets as a user runs them: `export --volume-size`, then `verify` and `inspect` of the volumes in any order or
/// of their folder, each volume verified on its own, and the set's refusals with their exit statuses.
@Suite(.blocking) struct VolumeSetCommandTests {
    /// The sample store with 30 barely compressible 12 KB messages added to each user's INBOX: several 256K volumes.
    final class Setup {
        let work: Workspace
        let store: String
        init() throws {
            work = try Workspace()
            store = try work.sampleStore()
            #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
            var random = SplitMix64(seed: 11)
            for user in ["alice@example.com", "bob@example.com"] {
                let cur = store + "/\(user)/Maildir/cur"
                try FileManager.default.createDirectory(atPath: cur, withIntermediateDirectories: true)
                for i in 0..<30 {
                    let body = (0..<12_000).map { n in n % 77 == 76 ? UInt8(10) : UInt8(33 + random.next() % 90) }
                    let message = Data("From: s\(i)@example.org\nSubject: volume \(i)\nMessage-ID: <v\(i)@example.org>\n\n".utf8) + Data(body)
                    try message.write(to: URL(fileURLWithPath: cur + "/\(1_700_000_000 + i).M\(i)P9.host:2,S"))
                }
            }
        }

        func export(_ extra: [String], out: String = "june.mfa") throws -> ProcessOutput {
            try CLI.run(["export", "--source", "dir:\(store)", "--sign-key", work.file("a.key.pem"), "--out", work.file(out)] + extra)
        }

        var volumes: [String] {
            get throws {
                try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix("june.") && $0.contains(".mfa") }.sorted()
            }
        }
    }

    @Test func anExportIntoVolumesVerifiesAsASetInAnyOrderAndEachVolumeAlone() throws {
        let s = try Setup()
        let export = try s.export(["--volume-size", "256K"])
        #expect(export.status == 0, "\(export.stderr)")
        let volumes = try s.volumes
        #expect(volumes.count >= 3)
        #expect(volumes.first == "june.001.mfa")
        #expect(export.stdout.contains("set id "))
        #expect(export.stdout.contains("\(volumes.count) volumes"))
        #expect(export.stdout.contains("wrote \(volumes.count) volumes and their set statement \(s.work.file("june.set")):"), "\(export.stdout)")
        for name in volumes {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: s.work.file(name))[.size] as? Int)
            #expect(size <= 256 << 10)
            let alone = try CLI.run(["verify", s.work.file(name), "--trust", s.work.file("a.pub.pem")])
            #expect(alone.status == 0, "\(name): \(alone.stderr)")
        }

        var random = SplitMix64(seed: 3)
        let shuffled = volumes.map { s.work.file($0) }.shuffled(using: &random)
        let verify = try CLI.run(["verify"] + shuffled + ["--trust", s.work.file("a.pub.pem")])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("all \(volumes.count) volumes present and verified"), "\(verify.stdout)")
        let byFolder = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem"), "--json"])
        #expect(byFolder.status == 0, "\(byFolder.stderr)")
        let verdict = try #require(try JSONSerialization.jsonObject(with: Data(byFolder.stdout.utf8)) as? [String: Any])
        #expect(verdict["verdict"] as? String == "pass", "\(byFolder.stdout)")
        #expect((verdict["volumes"] as? [Any])?.count == volumes.count)

        // The whole set's items are the whole export's: the same counts as one archive of the same store.
        let single = try s.export([], out: "whole.mfa")
        #expect(single.status == 0, "\(single.stderr)")
        let whole = try CLI.run(["verify", s.work.file("whole.mfa"), "--trust", s.work.file("a.pub.pem")])
        let entries = try #require(whole.stdout.firstMatch(of: /and (\d+) entries/)?.1)
        #expect(verify.stdout.contains("present and verified, \(entries) entries"), "\(verify.stdout)")

        let inspect = try CLI.run(["inspect", s.work.path, "--trust", s.work.file("a.pub.pem")])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("(\(volumes.count) volumes, \(volumes.count) here)"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("signature checked"))
        #expect(inspect.stdout.contains("volume 1: \(s.work.file("june.001.mfa"))"))
    }

    @Test func aMissingVolumeIsNamedAndFailsVerify() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        try FileManager.default.removeItem(atPath: s.work.file("june.002.mfa"))
        let verify = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem")])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("missing: volume 2 (june.002.mfa, archive "), "\(verify.stderr)")
        // inspect shows what is there and what is not.
        let inspect = try CLI.run(["inspect", s.work.path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("missing:   volume 2 (june.002.mfa)"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("NOT HERE"))
        #expect(inspect.stderr.contains("the signature was NOT checked"))
    }

    @Test func aVolumeOfAnotherExportIsNamedAndFailsVerify() throws {
        let s = try Setup()
        try FileManager.default.createDirectory(atPath: s.work.file("other"), withIntermediateDirectories: true)
        // The other export is the later one: an earlier one would be named as older (aReplayedVolume... below).
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        #expect(try s.export(["--volume-size", "256K"], out: "other/june.mfa").status == 0)
        try FileManager.default.removeItem(atPath: s.work.file("june.002.mfa"))
        try FileManager.default.copyItem(atPath: s.work.file("other/june.002.mfa"), toPath: s.work.file("june.002.mfa"))
        let verify = try CLI.run(["verify", s.work.file("june.002.mfa"), s.work.file("june.001.mfa"), "--trust", s.work.file("a.pub.pem")])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("june.002.mfa: is volume 2 of another export"), "\(verify.stderr)")
        #expect(verify.stderr.contains("a foreign or replayed volume"))
    }

    @Test func aDuplicatedVolumeInTheFolderIsNamedAndFailsVerify() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        try FileManager.default.copyItem(atPath: s.work.file("june.002.mfa"), toPath: s.work.file("june-copy.002.mfa"))
        let verify = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem")])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("june.002.mfa: is volume 2 of set "), "\(verify.stderr)")
        #expect(verify.stderr.contains("a second time (also \(s.work.file("june-copy.002.mfa"))): a duplicated volume"), "\(verify.stderr)")
    }

    /// Last week's export to the same name, its volume 1 put back over this week's: refused before any volume is read.
    @Test func aReplayedVolumeOfAnEarlierExportFailsVerify() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        try FileManager.default.moveItem(atPath: s.work.file("june.001.mfa"), toPath: s.work.file("earlier-june.001.mfa"))
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        try FileManager.default.removeItem(atPath: s.work.file("june.001.mfa"))
        try FileManager.default.moveItem(atPath: s.work.file("earlier-june.001.mfa"), toPath: s.work.file("june.001.mfa"))
        let verify = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem")])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("june.001.mfa: is volume 1 of "), "\(verify.stderr)")
        #expect(verify.stderr.contains("a foreign or replayed volume; volume 1 of this set is june.001.mfa, archive "), "\(verify.stderr)")
    }

    @Test func aSetStatementSignedByAnotherKeyFailsVerify() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        #expect(try CLI.run(["keygen", "--out", s.work.file("x")]).status == 0)
        let verify = try CLI.run(["verify", s.work.path, "--trust", s.work.file("x.pub.pem")])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("june.set: the set statement's signature does not match under the trusted key"), "\(verify.stderr)")
    }

    @Test func anItemLargerThanTheVolumeSizeIsRefusedNamingItAndWritesNothing() throws {
        let s = try Setup()
        let big = s.store + "/bob@example.com/Maildir/cur/1700009999.M1P9.host:2,S"
        try (Data("Subject: big\n\n".utf8) + Data(repeating: 0x41, count: 400_000)).write(to: URL(fileURLWithPath: big))
        let export = try s.export(["--volume-size", "256K"])
        #expect(export.status == 2)
        #expect(export.stderr.contains("1700009999.M1P9.host:2,S"), "\(export.stderr)")
        #expect(export.stderr.contains("(user bob@example.com, 400014 bytes) does not fit a volume of 262144 bytes"), "\(export.stderr)")
        #expect(export.stderr.contains("--volume-size 1M or more"))
        #expect(try s.volumes.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: s.work.file("june.set")))
    }

    @Test func aVolumeAloneIsNotImported() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        let target = s.work.file("target")
        let result = try CLI.run(["import", s.work.file("june.001.mfa"), "--trust", s.work.file("a.pub.pem"), "--target", "dir:\(target)"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("june.001.mfa is volume 1 of volume set"), "\(result.stderr)")
        #expect(result.stderr.contains("does not take one volume alone"))
        #expect(!FileManager.default.fileExists(atPath: target + "/alice@example.com"))
    }

    /// (content SHA-256, Maildir flags) of every message file under `root`, for comparing two targets' mail.
    static func messages(under root: String) throws -> [String] {
        guard let walk = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        for case let relative as String in walk where relative.contains("/cur/") {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
            let flags = relative.split(separator: ":").last.map(String.init) ?? ""
            found.append(SHA256.hex([UInt8](data)) + " " + flags)
        }
        return found.sorted()
    }

    @Test func aSetImportedWithSomeVolumesFinishesWhenTheRestArrive() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        let volumes = try s.volumes
        let stick = s.work.file("stick")
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        for name in ["june.set", "june.001.mfa", "june.003.mfa"] {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        let target = "dir:" + s.work.file("target")
        let journal = s.work.file("journal")
        let first = try CLI.run(["import", stick, "--trust", s.work.file("a.pub.pem"), "--target", target, "--journal", journal])
        #expect(first.status == 2, "\(first.stderr)")
        #expect(first.stdout.contains("june.001.mfa: imported: "), "\(first.stdout)")
        #expect(first.stdout.contains("june.003.mfa: imported: "))
        #expect(first.stderr.contains("still lacks volume 2 (june.002.mfa, archive "), "\(first.stderr)")
        #expect(first.stderr.contains("The reconcile waits for the whole set"))
        #expect(!first.stdout.contains("verdict"))

        for name in volumes where !FileManager.default.fileExists(atPath: stick + "/" + name) {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        // This time the volumes one by one, in no particular order, and the set statement among them.
        var random = SplitMix64(seed: 5)
        let shuffled = (volumes + ["june.set"]).map { stick + "/" + $0 }.shuffled(using: &random)
        let rest = try CLI.run(["import"] + shuffled + ["--trust", s.work.file("a.pub.pem"), "--target", target, "--journal", journal])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.contains("all \(volumes.count) volumes imported; reconciled as one"), "\(rest.stdout)")
        #expect(rest.stdout.contains("verdict: PASS"), "\(rest.stdout)")
        #expect(!rest.stdout.contains("FAIL"))
        // What the first run committed is not written again.
        #expect(rest.stdout.contains("june.001.mfa: imported: 0 items written (0 B)"), "\(rest.stdout)")

        // The target holds what one archive of the same store brings: the same bytes with the same flags.
        #expect(try s.export([], out: "whole.mfa").status == 0)
        let whole = try CLI.run(["import", s.work.file("whole.mfa"), "--trust", s.work.file("a.pub.pem"), "--target", "dir:" + s.work.file("whole-target"), "--journal", s.work.file("journal-whole")])
        #expect(whole.status == 0, "\(whole.stderr)")
        let fromSet = try Self.messages(under: s.work.file("target"))
        #expect(fromSet.count == 80)
        #expect(fromSet == (try Self.messages(under: s.work.file("whole-target"))))

        // The set imported is in the ledger: again, it is a replay.
        let again = try CLI.run(["import", stick, "--trust", s.work.file("a.pub.pem"), "--target", target, "--journal", journal])
        #expect(again.status == 1)
        #expect(again.stderr.contains("was already imported into"), "\(again.stderr)")
        #expect(again.stderr.contains("a replay is refused"))
    }

    /// The set statement's id and its volumes' archive ids, read from `NAME.set` as any JSON reader would.
    static func setStatement(_ path: String) throws -> (setID: String, volumes: [String]) {
        let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let volumes = try #require(json["volumes"] as? [[String: Any]]).compactMap { $0["archiveID"] as? String }
        return (try #require(json["setID"] as? String), volumes)
    }

    /// `--report` and `--receipt` for a set: nothing while a volume is missing (exit 2, naming it); once the rest
    /// arrives, one report and one signed receipt per user covering the whole set, with the counts one archive of the
    /// same store gives and no item of one volume counted as extra in another's.
    @Test func aSetImportWritesOneReportAndOneReceiptPerUserOnlyOnceTheSetIsWhole() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        #expect(try CLI.run(["keygen", "--out", s.work.file("b")]).status == 0)
        let volumes = try s.volumes
        let stick = s.work.file("stick")
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        for name in ["june.set"] + volumes where name != "june.002.mfa" {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        let report = s.work.file("june.report.json"), page = s.work.file("june.report.html"), receipts = s.work.file("receipts")
        let arguments = [
            "--trust", s.work.file("a.pub.pem"), "--target", "dir:" + s.work.file("target"), "--journal", s.work.file("journal"),
            "--report", report, "--html", page, "--receipt", receipts, "--sign-key", s.work.file("b.key.pem"),
        ]
        let first = try CLI.run(["import", stick] + arguments)
        #expect(first.status == 2, "\(first.stderr)")
        #expect(first.stderr.contains("still lacks volume 2 (june.002.mfa, archive "), "\(first.stderr)")
        #expect(first.stderr.contains("nothing written yet of \(report), \(page), receipts in \(receipts)"), "\(first.stderr)")
        #expect(!FileManager.default.fileExists(atPath: report))
        #expect(!FileManager.default.fileExists(atPath: page))
        #expect(!FileManager.default.fileExists(atPath: receipts + "/alice@example.com.receipt.json"))

        try FileManager.default.copyItem(atPath: s.work.file("june.002.mfa"), toPath: stick + "/june.002.mfa")
        let rest = try CLI.run(["import", stick] + arguments)
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.contains("verdict: PASS (report: \(report)) (page: \(page))"), "\(rest.stdout)")

        // What one archive of the same store reports, for comparison.
        #expect(try s.export([], out: "whole.mfa").status == 0)
        let wholeReport = s.work.file("whole.report.json")
        let whole = try CLI.run([
            "import", s.work.file("whole.mfa"), "--trust", s.work.file("a.pub.pem"), "--target", "dir:" + s.work.file("whole-target"),
            "--journal", s.work.file("journal-whole"), "--report", wholeReport,
        ])
        #expect(whole.status == 0, "\(whole.stderr)")

        let statement = try Self.setStatement(s.work.file("june.set"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let wholeJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: wholeReport))) as? [String: Any])
        #expect(json["archiveID"] as? String == statement.setID)
        #expect(json["volumes"] as? [String] == statement.volumes)
        #expect(json["verdict"] as? String == "pass")
        let users = try #require(json["users"] as? [[String: Any]])
        let wholeUsers = try #require(wholeJSON["users"] as? [[String: Any]])
        #expect(users.map { $0["address"] as? String } == ["alice@example.com", "bob@example.com"])
        for (user, one) in zip(users, wholeUsers) {
            // The same counts per type, archive and target, as one archive of the same store.
            #expect((user["archive"] as? NSDictionary) == (one["archive"] as? NSDictionary), "\(user["address"] ?? "")")
            #expect((user["target"] as? NSDictionary) == (one["target"] as? NSDictionary), "\(user["address"] ?? "")")
            let containers = try #require(user["containers"] as? [[String: Any]])
            #expect(containers.allSatisfy { $0["extra"] as? Int == 0 }, "\(containers)")
            func matched(_ report: [String: Any]) -> Int {
                ((report["containers"] as? [[String: Any]]) ?? []).reduce(0) { $0 + ($1["matched"] as? Int ?? 0) }
            }
            #expect(matched(user) == matched(one) && matched(one) > 30)
        }
        // The second run wrote what the first could not (volume 2's items); both together are the whole archive's.
        let secondWritten = try #require((json["imported"] as? [String: Any])?["written"] as? Int)
        let firstWritten = try #require(first.stdout.matches(of: /imported: (\d+) items written/).map { Int($0.1)! }.reduce(0, +) as Int?)
        #expect(secondWritten + firstWritten == (wholeJSON["imported"] as? [String: Any])?["written"] as? Int)

        // One identity map per user over the whole set, as many rows as one archive's, its entries named by volume.
        let maps = try #require(json["identityMapFiles"] as? [String: String], "\(json.keys)")
        let wholeMaps = try #require(wholeJSON["identityMapFiles"] as? [String: String])
        #expect(Set(maps.keys) == ["alice@example.com", "bob@example.com"])
        for (address, path) in maps {
            // CSV lines end in CRLF (RFC 4180), one Character to Swift.
            let rows = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
            let wholeRows = try String(contentsOfFile: try #require(wholeMaps[address]), encoding: .utf8).split(whereSeparator: \.isNewline)
            #expect(rows.count == wholeRows.count && rows.count > 10, "\(address): \(rows.count) rows, one archive's \(wholeRows.count)")
            let named = Set(rows.compactMap { $0.firstMatch(of: /(june\.\d{3}\.mfa):u\//).map { String($0.1) } })
            #expect(named.count >= 2, "\(address)'s map names entries of \(named)")
        }

        for address in ["alice@example.com", "bob@example.com"] {
            let path = receipts + "/\(address).receipt.json"
            let check = try ProcessRunner.run("/usr/bin/openssl", [
                "pkeyutl", "-verify", "-pubin", "-inkey", s.work.file("b.pub.pem"), "-rawin", "-in", path, "-sigfile", path + ".sig",
            ])
            #expect(check.status == 0, "\(check.stderr)")
            let receipt = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            #expect(receipt["archiveID"] as? String == statement.setID)
            #expect(receipt["volumes"] as? [String] == statement.volumes)
            #expect(receipt["verdict"] as? String == "pass")
            #expect((receipt["counts"] as? [String: Any])?["extra"] as? Int == 0)
        }
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains(statement.setID))
    }

    /// A difference in an item of the first volume, made at the target between the two runs, fails its user in the
    /// set's one report and receipt (exit 1); the other user passes.
    @Test func aSetsReportAndReceiptFailAUserWhoseItemChangedAtTheTarget() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        #expect(try CLI.run(["keygen", "--out", s.work.file("b")]).status == 0)
        let stick = s.work.file("stick")
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        for name in ["june.set", "june.001.mfa"] {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        let target = s.work.file("target"), receipts = s.work.file("receipts"), report = s.work.file("r.json")
        let arguments = [
            "--trust", s.work.file("a.pub.pem"), "--target", "dir:" + target, "--journal", s.work.file("journal"),
            "--report", report, "--receipt", receipts, "--sign-key", s.work.file("b.key.pem"),
        ]
        #expect(try CLI.run(["import", stick] + arguments).status == 2)
        // Volume 1 holds alice's first messages: one of them flagged at the target behind the import's back.
        let cur = target + "/alice@example.com/Maildir/cur"
        let seen = try #require(try FileManager.default.contentsOfDirectory(atPath: cur).sorted().first { $0.hasSuffix(":2,S") })
        try FileManager.default.moveItem(atPath: cur + "/" + seen, toPath: cur + "/" + seen.dropLast() + "FS")
        for name in try s.volumes where name != "june.001.mfa" {
            try FileManager.default.copyItem(atPath: s.work.file(name), toPath: stick + "/" + name)
        }
        let rest = try CLI.run(["import", stick] + arguments)
        #expect(rest.status == 1, "\(rest.stdout)\(rest.stderr)")
        #expect(rest.stdout.contains("alice@example.com: FAIL"), "\(rest.stdout)")
        #expect(rest.stdout.contains("bob@example.com: PASS"), "\(rest.stdout)")
        #expect(rest.stdout.contains("DIFFERENT 1: june.001.mfa:u/1/"), "\(rest.stdout)")
        let alice = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: receipts + "/alice@example.com.receipt.json"))) as? [String: Any])
        #expect(alice["verdict"] as? String == "fail")
        #expect((alice["counts"] as? [String: Any])?["mismatched"] as? Int == 1)
        let bob = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: receipts + "/bob@example.com.receipt.json"))) as? [String: Any])
        #expect(bob["verdict"] as? String == "pass")
        #expect(FileManager.default.fileExists(atPath: report))
    }

    /// A maildir: target holds one user; the set's first volume holds only alice, a later one bob too: refused before
    /// the first volume is imported.
    @Test func aSetOfTwoUsersIntoAOneUserTargetIsRefusedBeforeAnythingIsWritten() throws {
        let s = try Setup()
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        let maildir = s.work.file("alice-maildir")
        let result = try CLI.run(["import", s.work.path, "--trust", s.work.file("a.pub.pem"), "--target", "maildir:" + maildir])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the volume set holds 2 users (alice@example.com, bob@example.com) but the target holds one: name it with --user"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: maildir))
    }

    @Test func aSetWithAForeignVolumeWritesNothing() throws {
        let s = try Setup()
        try FileManager.default.createDirectory(atPath: s.work.file("other"), withIntermediateDirectories: true)
        // The other export is the later one: an earlier one would be named as older (aReplayedVolume... below).
        #expect(try s.export(["--volume-size", "256K"]).status == 0)
        #expect(try s.export(["--volume-size", "256K"], out: "other/june.mfa").status == 0)
        try FileManager.default.removeItem(atPath: s.work.file("june.003.mfa"))
        try FileManager.default.copyItem(atPath: s.work.file("other/june.003.mfa"), toPath: s.work.file("june.003.mfa"))
        let target = s.work.file("target")
        let result = try CLI.run(["import", s.work.path, "--trust", s.work.file("a.pub.pem"), "--target", "dir:" + target])
        #expect(result.status == 1)
        #expect(result.stderr.contains("june.003.mfa: is volume 3 of another export"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func anEncryptedSetIsVerifiedWithTheIdentity() throws {
        let s = try Setup()
        #expect(try CLI.run(["keygen", "--encryption", "--out", s.work.file("b")]).status == 0)
        let export = try s.export(["--volume-size", "256K", "--encrypt-to", s.work.file("b.age.pub")])
        #expect(export.status == 0, "\(export.stderr)")
        let volumes = try s.volumes
        #expect(volumes.count >= 3 && volumes.allSatisfy { $0.hasSuffix(".mfa.age") })
        // age's header and tags are counted too: no encrypted volume is over the size.
        for name in volumes {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: s.work.file(name))[.size] as? Int)
            #expect(size <= 256 << 10, "\(name) is \(size) bytes")
        }
        let inspect = try CLI.run(["inspect", s.work.path, "--identity", s.work.file("b.age.key"), "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect((shown["present"] as? [[String: Any]])?.count == volumes.count)
        #expect((shown["present"] as? [[String: Any]])?.allSatisfy { $0["encrypted"] as? Bool == true } == true)
        #expect(shown["signatureChecked"] as? Bool == false)
        let verify = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem"), "--identity", s.work.file("b.age.key")])
        #expect(verify.status == 0, "\(verify.stderr)")
        let without = try CLI.run(["verify", s.work.path, "--trust", s.work.file("a.pub.pem")])
        #expect(without.status == 2)
        #expect(without.stderr.contains("--identity"))
    }
}
