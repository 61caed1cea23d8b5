import Foundation
import Reporting
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The HTML report opened in a real browser: a generated mailbox is exported and imported into a dir: target,
/// the target is damaged, and `reconcile --html` writes the page; headless Chromium (Debian's `chromium`, which
/// `.ci/install-deps` installs) must put the tables in its DOM and paint a screenshot that is a real render.
@Suite(.serialized, .blocking) struct ReportBrowserTests {
    static let chromium = "/usr/bin/chromium"
    static let pngCheck = CLI.repositoryRoot + "/Tests/MailFerryCLITests/png_check.py"

    /// Two users with a few folders and a dozen messages each, one folder with a hostile name.
    static func makeStore(_ root: String) throws {
        for (u, user) in ["alice@example.com", "bob@example.com"].enumerated() {
            let maildir = "\(root)/\(user)/Maildir"
            for folder in ["", ".Sent", ".Projects", ".Q&-A <script>"] {
                for sub in ["cur", "new", "tmp"] {
                    try FileManager.default.createDirectory(atPath: "\(maildir)/\(folder)/\(sub)", withIntermediateDirectories: true)
                }
            }
            for n in 1...12 {
                let folder = ["", ".Sent", ".Projects", ".Q&-A <script>"][n % 4]
                let flags = ["S", "FS", "", "RS"][n % 4]
                let text = "From: Sender \(n) <s\(n)@example.com>\nTo: \(user)\nSubject: Report test \(n) for \(user)\nMessage-ID: <\(n).\(u)@example.com>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n"
                    + String(repeating: "line \(n) of the body\n", count: n * 10)
                let path = "\(maildir)/\(folder)/cur/\(1_700_000_000 + n).M\(n)P\(u).host:2,\(flags)"
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_600_000_000 + Double(n) * 3600)], ofItemAtPath: path)
            }
        }
    }

    /// The message files under `root` whose bytes contain `text`.
    static func files(containing text: String, under root: String) throws -> [String] {
        let all = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.map { root + "/" + $0 }
        return try all.filter { path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
            return try String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).contains(text)
        }
    }

    @Test func theReportPageRendersWithItsTablesInHeadlessChromium() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium),
            "\(Self.chromium) is missing: install Debian's chromium package (.ci/install-deps does)")
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        let store = work.file("store")
        try Self.makeStore(store)
        let archive = work.file("r.mfa")
        let exported = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", archive])
        #expect(exported.status == 0, "\(exported.stderr)")

        // The import writes a passing page.
        let target = work.file("target")
        let imported = try CLI.run([
            "import", archive, "--trust", work.file("a.pub.pem"), "--target", "dir:" + target, "--html", work.file("import.html"),
        ])
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        #expect(imported.stdout.contains("(page: \(work.file("import.html")))"))
        let importPage = try String(contentsOfFile: work.file("import.html"), encoding: .utf8)
        #expect(importPage.contains("id=\"verdict\">PASS: the target holds everything the archive holds for 2 users."))

        // Damage alice's target: a message lost, one with other flags, one with other bytes.
        let home = target + "/alice@example.com/Maildir"
        try FileManager.default.removeItem(atPath: try #require(Self.files(containing: "Report test 5 for alice", under: home).first))
        let flagged = try #require(Self.files(containing: "Report test 6 for alice", under: home).first)
        try FileManager.default.moveItem(atPath: flagged, toPath: flagged + "T")
        let edited = try #require(Self.files(containing: "Report test 7 for alice", under: home).first)
        let date = try FileManager.default.attributesOfItem(atPath: edited)[.modificationDate] as! Date
        try Data("Subject: Report test 7 for alice\nMessage-ID: <7.0@example.com>\n\nreplaced\n".utf8).write(to: URL(fileURLWithPath: edited))
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: edited)

        // Station B signs a receipt per user: the page shows which allow a release.
        #expect(try CLI.run(["keygen", "--out", work.file("b")]).status == 0)
        let page = work.file("reconcile.html")
        let reconciled = try CLI.run([
            "reconcile", archive, "--trust", work.file("a.pub.pem"), "--target", "dir:" + target, "--html", page,
            "--report", work.file("reconcile.json"), "--receipt", work.file("receipts"), "--sign-key", work.file("b.key.pem"),
        ])
        #expect(reconciled.status == 1, "\(reconciled.stdout)\(reconciled.stderr)")
        #expect(!FileManager.default.fileExists(atPath: page + ".partial"))
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<h3>Missing at the target: 1</h3>"))
        #expect(html.contains("<h3>Different at the target: 2</h3>"))
        #expect(html.contains("Q&amp;A &lt;script&gt;"))
        #expect(!html.contains("<script"))

        // The DOM Chromium builds from the page holds the users table with both users and the lists.
        let dom = try Self.runChromium(["--dump-dom", "file://" + page], profile: work.file("profile-dom"))
        #expect(dom.status == 0, "\(dom.stderr)")
        #expect(dom.stdout.contains("<table class=\"users\" id=\"users-table\">"), "\(dom.stdout.prefix(2000))")
        #expect(dom.stdout.contains("<a href=\"#user-1\"><bdi>alice@example.com</bdi></a>"))
        #expect(dom.stdout.contains("<a href=\"#user-2\"><bdi>bob@example.com</bdi></a>"))
        #expect(dom.stdout.contains("<table class=\"items missing\">"))
        #expect(dom.stdout.contains("<table class=\"items different\">"))
        #expect(dom.stdout.contains("FAIL: 1 of 2 users not as in the archive"))
        #expect(dom.stdout.contains("Q&amp;A &lt;script&gt;"))
        #expect(dom.stdout.contains("fail: release refused"))
        #expect(dom.stdout.contains("pass: release allowed"))
        #expect(dom.stdout.contains(work.file("receipts") + "/alice@example.com.receipt.json</bdi>, verdict fail"))

        // The screenshot is a real render at the asked size: many colours, ink on many rows.
        let shot = work.file("report.png")
        let screenshot = try Self.runChromium(["--screenshot=" + shot, "--window-size=1280,900", "file://" + page], profile: work.file("profile-shot"))
        #expect(screenshot.status == 0, "\(screenshot.stderr)")
        let check = try Self.run("/usr/bin/python3", [Self.pngCheck, shot])
        #expect(check.status == 0, "\(check.stderr)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], "\(check.stdout)")
        #expect(facts["width"] as? Int == 1280)
        #expect(facts["height"] as? Int == 900)
        #expect((facts["colours"] as? Int ?? 0) > 16, "\(facts)")
        #expect((facts["nonBackground"] as? Double ?? 0) > 0.02, "\(facts)")
        #expect((facts["rowsWithInk"] as? Int ?? 0) > 300, "\(facts)")
        if let keep = ProcessInfo.processInfo.environment["MAILFERRY_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot, toPath: keep)
        }
    }

    /// Runs headless Chromium with its own profile folder and leaves nothing running: once the browser exits (or
    /// is stopped after two minutes, a guard against a hang, not a measurement), every process still naming
    /// the profile folder (renderers, the crash handler) is killed and waited for.
    static func runChromium(_ arguments: [String], profile: String) throws -> CLI.Result {
        var flags = ["--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                     "--disable-background-networking", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                     "--user-data-dir=" + profile]
        if getuid() == 0 { flags.append("--no-sandbox") }  // Chromium refuses to run as root with its sandbox
        defer { killProcesses(naming: profile) }
        return try run(chromium, flags + arguments, limit: 120)
    }

    static func run(_ executable: String, _ arguments: [String], limit: TimeInterval = 120) throws -> CLI.Result {
        try ProcessRunner.run(executable, arguments, limit: limit)
    }

    /// Kills (SIGKILL) every process whose command line contains `marker`, and waits until they are gone.
    static func killProcesses(naming marker: String) {
        for _ in 0..<50 {
            let pids = processes(naming: marker)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(100_000)
        }
    }

    static func processes(naming marker: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains(marker)
            else { return nil }
            return pid
        }
    }
}
