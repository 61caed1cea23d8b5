import Foundation
import Testing
import TestSupport

/// kill -9 in the middle of an import or an export, then run it again: the import ends with every
/// archived message present exactly once, and a killed export never leaves a file under its final name.
@Suite(.serialized, .blocking) struct KillAndResumeTests {
    static let messageCount = 3000

    /// A Maildir of `messageCount` messages of a few KB each, in two folders.
    static func makeMaildir(_ root: String) throws {
        let fm = FileManager.default
        for folder in ["", ".Archive"] {
            for sub in ["cur", "new", "tmp"] { try fm.createDirectory(atPath: "\(root)/\(folder)/\(sub)", withIntermediateDirectories: true) }
        }
        let filler = String(repeating: "All work and no play makes a long message body. ", count: 60)
        for n in 0..<messageCount {
            let folder = n % 3 == 0 ? ".Archive" : ""
            let text = "From: s\(n)@example.com\nSubject: message \(n)\nMessage-ID: <\(n)@kill.test>\n\n\(n) \(filler)\n"
            let path = "\(root)/\(folder)/cur/\(1_600_000_000 + n).M\(n).host:2,\(n % 2 == 0 ? "S" : "FS")"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    static func messages(in root: String) throws -> [String] {
        var names: [String] = []
        for folder in ["", ".Archive"] {
            for sub in ["cur", "new"] {
                let dir = "\(root)/\(folder)/\(sub)"
                names += ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).map { "\(folder)/\(sub)/\($0)" }
            }
        }
        return names
    }

    @Test func importKilledAtSeveralPointsFinishesWithEveryMessageOnce() throws {
        let work = try Workspace()
        _ = try CLI.run(["keygen", "--out", work.file("k")])
        try Self.makeMaildir(work.file("src"))
        let archive = work.file("a.mfa")
        let export = try CLI.run(["export", "--source", "maildir:" + work.file("src"), "--user", "u@example.com", "--sign-key", work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")

        let target = work.file("dst")
        var interrupted = 0
        for fraction in [0.1, 0.5] {
            let process = try CLI.start(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "maildir:" + target, "--user", "u@example.com"])
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning && Date() < deadline {
                if try Self.messages(in: target).count >= Int(Double(Self.messageCount) * fraction) { break }
                usleep(2000)
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                interrupted += 1
            }
            process.waitUntilExit()
        }
        let partial = try Self.messages(in: target).count
        #expect(interrupted >= 1, "the import finished before it could be killed; the corpus is too small for this machine")
        #expect(partial < Self.messageCount || interrupted == 0)

        let resumed = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "maildir:" + target, "--user", "u@example.com", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any]
        #expect(report?["verdict"] as? String == "pass")
        let imported = report?["imported"] as? [String: Any]
        #expect((imported?["written"] as? Int ?? 0) + (imported?["alreadyPresent"] as? Int ?? 0) == Self.messageCount)
        // Exactly once: as many message files as the archive holds, with no two of the same content.
        let names = try Self.messages(in: target)
        #expect(names.count == Self.messageCount)
        var contents = Set<Data>()
        for name in names { contents.insert(try Data(contentsOf: URL(fileURLWithPath: target + "/" + name))) }
        #expect(contents.count == Self.messageCount)
        // Nothing from the killed runs is visible in tmp/ as a message, and a further run still adds nothing.
        let again = try CLI.run(["import", archive, "--trust", work.file("k.pub.pem"), "--target", "maildir:" + target, "--user", "u@example.com", "--reimport"])
        #expect(again.stdout.contains("imported: 0 items written"))
    }

    @Test func exportKilledMidwayLeavesNoFinalFileAndCanBeRunAgain() throws {
        let work = try Workspace()
        _ = try CLI.run(["keygen", "--out", work.file("k")])
        try Self.makeMaildir(work.file("src"))
        let archive = work.file("a.mfa")
        let args = ["export", "--source", "maildir:" + work.file("src"), "--user", "u@example.com", "--sign-key", work.file("k.key.pem"), "--out", archive]
        let process = try CLI.start(args)
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: archive + ".partial")[.size] as? Int) ?? 0
            if size > 0 { break }
            usleep(1000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if killed { #expect(!FileManager.default.fileExists(atPath: archive)) }
        let again = try CLI.run(args)
        #expect(again.status == 0)
        #expect(try CLI.run(["verify", archive, "--trust", work.file("k.pub.pem")]).status == 0)
    }
}
