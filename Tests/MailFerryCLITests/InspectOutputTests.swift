import Foundation
import Testing
import TestSupport

/// What `inspect` shows comes from an archive, which may come from anyone: names and subjects must not act on the
/// terminal, every mode must say when nothing was verified, a large item shown as JSON must stream, and a FIFO
/// given as the archive must not block (issue 13, "Output that misleads or misbehaves").
@Suite(.blocking) struct InspectOutputTests {
    let work: Workspace

    init() throws {
        work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
    }

    /// One user in the `dir:` layout: a folder named with a right-to-left override, a message whose encoded-word
    /// subject decodes to escape sequences (set the window title, clear the screen), and one plain message of
    /// `bigMB` megabytes when asked.
    func hostileStore(bigMB: Int = 0) throws -> String {
        let user = work.file("store/mallory@example.com/Maildir")
        for folder in ["", "/.R&IC4-evil"] {
            for sub in ["cur", "new", "tmp"] { try FileManager.default.createDirectory(atPath: user + folder + "/" + sub, withIntermediateDirectories: true) }
        }
        let subject = "Subject: =?utf-8?q?title=1B]0;pwned=07clear=1B[2J?=\r\n"
        try Data(("From: m@example.com\r\n" + subject + "Message-ID: <evil@example.com>\r\n\r\nhello\r\n").utf8)
            .write(to: URL(fileURLWithPath: user + "/.R&IC4-evil/cur/1700000000.M1P1.host:2,S"))
        if bigMB > 0 {
            var big = Data("From: m@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n\r\n".utf8)
            let line = Data((String(repeating: "0123456789abcdef", count: 4) + "\r\n").utf8)
            while big.count < bigMB << 20 { big.append(line) }
            try big.write(to: URL(fileURLWithPath: user + "/cur/1700000001.M2P1.host:2,S"))
        }
        let archive = work.file("m.mfa")
        let export = try CLI.run(["export", "--source", "dir:" + work.file("store"), "--sign-key", work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")
        return archive
    }

    static func actsOnTerminal(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }
    }

    @Test func namesAndSubjectsFromAnArchiveAreShownEscaped() throws {
        let archive = try hostileStore()
        let summary = try CLI.run(["inspect", archive])
        let list = try CLI.run(["inspect", archive, "--list"])
        let show = try CLI.run(["inspect", archive, "--show", "<evil@example.com>"])
        for (name, out) in [("summary", summary), ("list", list)] {
            #expect(out.status == 0, "\(name): \(out.stderr)")
            #expect(!Self.actsOnTerminal(out.stdout) && !Self.actsOnTerminal(out.stderr), "\(name): \(out.stdout)")
        }
        #expect(summary.stdout.contains("R\\u{202E}evil"), "\(summary.stdout)")
        #expect(list.stdout.contains("title\\u{1B}]0;pwned\\u{7}clear\\u{1B}[2J"), "\(list.stdout)")
        // --show prints the item's exact bytes on standard output (the user asked for them); the metadata on
        // standard error is escaped.
        #expect(show.status == 0)
        #expect(!Self.actsOnTerminal(show.stderr), "\(show.stderr)")
        #expect(show.stderr.contains("title: title\\u{1B}]0;pwned"), "\(show.stderr)")
        // JSON keeps every value: the same characters as JSON escapes, and the document parses.
        let json = try CLI.run(["inspect", archive, "--list", "--json"])
        #expect(!Self.actsOnTerminal(json.stdout))
        let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(items?.contains { ($0["title"] as? String) == "title\u{1B}]0;pwned\u{7}clear\u{1B}[2J" } == true)
        #expect(items?.contains { ($0["container"] as? String) == "R\u{202E}evil" } == true)
    }

    @Test func everyOutputModeSaysNothingWasVerifiedWithoutTrust() throws {
        let archive = try hostileStore()
        let modes: [[String]] = [[], ["--json"], ["--list"], ["--list", "--json"], ["--show", "<evil@example.com>"], ["--show", "<evil@example.com>", "--json"]]
        for mode in modes {
            let unchecked = try CLI.run(["inspect", archive] + mode)
            #expect(unchecked.status == 0, "\(mode): \(unchecked.stderr)")
            #expect(unchecked.stderr.contains("NOT checked") || unchecked.stdout.contains("NOT checked"), "\(mode): \(unchecked.stderr)")
            let checked = try CLI.run(["inspect", archive, "--trust", work.file("k.pub.pem")] + mode)
            #expect(checked.status == 0, "\(mode): \(checked.stderr)")
            #expect(!checked.stderr.contains("NOT checked") && !checked.stdout.contains("NOT checked"), "\(mode): \(checked.stderr)")
            if mode.contains("--json") && mode.count > 1 {
                #expect(unchecked.stdout.contains("\"signatureChecked\":false") || unchecked.stdout.contains("\"signatureChecked\" : false"), "\(mode)")
                #expect(checked.stdout.contains("\"signatureChecked\":true") || checked.stdout.contains("\"signatureChecked\" : true"), "\(mode)")
            }
        }
    }

    /// A 150 MB item as JSON: its base64 streams out (it once built the item and its base64 in memory, 5 times
    /// the item), and decodes to the item's bytes.
    @Test func showJSONStreamsALargeItemWithinTheMemoryBound() throws {
        let archive = try hostileStore(bigMB: 150)
        let measure = #"""
            import resource, subprocess, sys
            with open(sys.argv[1], 'wb') as out:
                status = subprocess.run(sys.argv[2:], stdout=out).returncode
            print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
            """#
        let output = work.file("shown.json")
        let run = try ProcessRunner.run("/usr/bin/python3", ["-c", measure, output, CLI.binary, "inspect", archive, "--show", "<big@example.com>", "--json"])
        let figures = run.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(figures.count == 2 && figures[0] == 0, "\(run.stdout) \(run.stderr)")
        #expect(figures.count == 2 && figures[1] < 100, "peak RSS \(figures.last ?? -1) MB")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        let encoded = try #require(object["contentBase64"] as? String)
        let content = try #require(Data(base64Encoded: encoded))
        let original = try Data(contentsOf: URL(fileURLWithPath: work.file("store/mallory@example.com/Maildir/cur/1700000001.M2P1.host:2,S")))
        #expect(content == original)
        #expect((object["item"] as? [String: Any])?["size"] as? Int == original.count)
    }

    @Test func aFIFOOrAFolderGivenAsTheArchiveIsRefusedAtOnce() throws {
        let fifo = work.file("archive.mfa")
        #expect(mkfifo(fifo, 0o600) == 0)
        // The limit only keeps a regression from hanging the suite; the refusal is immediate.
        let refused = try ProcessRunner.run(CLI.binary, ["inspect", fifo], limit: 60)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(fifo): is a FIFO, not a regular file"), "\(refused.stderr)")
        let folder = try CLI.run(["verify", work.path, "--trust", work.file("k.pub.pem")])
        #expect(folder.status == 3 && folder.stderr.contains("is a folder, not a regular file"), "\(folder.stderr)")
        let config = try CLI.run(["buffer", "status", "--config", work.path])
        #expect(config.status == 2 && config.stderr.contains("it is a folder, not a configuration file"), "\(config.stderr)")
        #expect(!config.stderr.contains("NSCocoaErrorDomain"))
    }
}
