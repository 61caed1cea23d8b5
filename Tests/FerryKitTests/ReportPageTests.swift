import Connectors
import FerryArchive
import FerryKit
import Foundation
import MailModel
import Reporting
import Testing

/// The HTML report page: built from a real import whose target was damaged afterwards, with hostile names
/// everywhere a user or a server can put text; and a report of 100,000 differences.
@Suite struct ReportPageTests {
    let scratch: Scratch
    let keyPath: String
    let pubPath: String

    static let user = "o'hara&co@example.com"
    static let hostileSubject = "<script>alert(\"x\")</script> & 'quoted' \u{202E}gnp.exe"

    init() throws {
        scratch = try Scratch()
        let keys = try KeyGenerator.generate(prefix: scratch.file("key"))
        keyPath = keys.privatePath
        pubPath = keys.publicPath
    }

    /// A user whose folders are named `Q&A <b>`, `Résumé` and one starting with a right-to-left override, and
    /// whose messages have subjects with markup, quotes and the override.
    func makeHostileStore() throws -> String {
        let maildir = "src/\(Self.user)/Maildir"
        // Maildir++ folder names are modified UTF-7: & is "&-", é is "&AOk-", U+202E is "&IC4-".
        for folder in ["", ".Q&-A <b>", ".R&AOk-sum&AOk-", ".&IC4-fdp-exe"] {
            for sub in ["cur", "new", "tmp"] { try scratch.mkdir("\(maildir)/\(folder)/\(sub)") }
        }
        var n = 0
        func message(_ folder: String, _ flags: String, subject: String) throws {
            n += 1
            let text = "From: \"Eve <evil>\" <eve@example.com>\nTo: \(Self.user)\nSubject: \(subject)\nMessage-ID: <m\(n)@example.com>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nbody \(n)\n"
            try scratch.write("\(maildir)/\(folder)/cur/\(1_700_000_000 + n).M\(n).host:2,\(flags)", text, mtime: 1_600_000_000 + Int64(n) * 3600)
        }
        try message("", "S", subject: Self.hostileSubject)
        try message("", "S", subject: "flags will change")
        try message("", "", subject: "bytes will change")
        try message(".Q&-A <b>", "S", subject: "will be lost")
        try message(".R&AOk-sum&AOk-", "F", subject: "Résumé 日本語 ✓")
        try message(".&IC4-fdp-exe", "S", subject: "in the override folder")
        return scratch.file("src")
    }

    /// The path of the one message file under `root` whose bytes contain `text`.
    func file(containing text: String, under root: String) throws -> String {
        let all = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.map { root + "/" + $0 }
        let found = try all.filter { path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
            return try String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).contains(text)
        }
        try #require(found.count == 1, "\(found)")
        return found[0]
    }

    /// Imports the hostile store into a dir: target, then damages the target: one message deleted, one with other
    /// flags (the one with the hostile subject), one with other bytes (same Message-ID, the one with a Unicode
    /// subject), and one extra message with a hostile subject.
    func damagedReport() throws -> ReconcileReport {
        let source = try makeHostileStore()
        let archive = scratch.file("a.mfa")
        _ = try Exporter(source: ConnectorSet(ConnectorURL(parsing: "dir:" + source)), users: [], signingKeyPath: keyPath, outputPath: archive, quiet: true).run { _ in }
        let target = scratch.file("dst")
        let imported = try Importer(archivePath: archive, trustedKeyPath: pubPath, target: ConnectorSet(ConnectorURL(parsing: "dir:" + target)), users: [], quiet: true).run()
        #expect(imported.verdict == .pass)

        let home = target + "/" + Self.user + "/Maildir"
        try FileManager.default.removeItem(atPath: try file(containing: "will be lost", under: home))
        let flagged = try file(containing: "alert(", under: home)
        try FileManager.default.moveItem(atPath: flagged, toPath: String(flagged.dropLast()) + "FS")
        let changed = try file(containing: "Résumé 日本語", under: home)
        let bytes = try String(contentsOfFile: changed, encoding: .utf8).replacingOccurrences(of: "body", with: "BODY, edited")
        let date = try FileManager.default.attributesOfItem(atPath: changed)[.modificationDate] as! Date
        try bytes.write(toFile: changed, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: changed)
        try scratch.write(
            "dst/\(Self.user)/Maildir/cur/1800000000.M99.host:2,S",
            "From: <script>@example.com\nSubject: extra </td></tr></table><img src=x onerror=alert(1)>\nMessage-ID: <extra@example.com>\n\nextra\n",
            mtime: 1_650_000_000)
        return try ReconcileCommand(archivePath: archive, trustedKeyPath: pubPath, target: ConnectorSet(ConnectorURL(parsing: "dir:" + target)), users: []).run()
    }

    @Test func anImportWritesEachUsersIdentityMapAsCSVAndOnThePage() throws {
        let source = try makeHostileStore()
        let archive = scratch.file("a.mfa")
        _ = try Exporter(source: ConnectorSet(ConnectorURL(parsing: "dir:" + source)), users: [], signingKeyPath: keyPath, outputPath: archive, quiet: true).run { _ in }
        var importer = Importer(archivePath: archive, trustedKeyPath: pubPath, target: try ConnectorSet(ConnectorURL(parsing: "dir:" + scratch.file("dst"))), users: [], quiet: true)
        importer.makesIdentityMaps = true
        importer.identityMapPrefix = scratch.file("june.report")
        let report = try importer.run()
        #expect(report.verdict == .pass)
        let messages = try #require(report.users.first).archive.messages
        let map = try #require(report.identityMaps[Self.user])
        #expect(map.folderCount == 4 && map.messageCount == messages)
        #expect(map.csvPath == scratch.file("june.report.\(Self.user).map.csv"))

        // One header line, a line per folder and per message; a Maildir target's file names hold commas and are
        // quoted; every message has the UID its folder's dovecot-uidlist gave it.
        let csv = try String(contentsOfFile: try #require(map.csvPath), encoding: .utf8)
        let lines = csv.components(separatedBy: "\r\n").dropLast()
        #expect(lines.count == 1 + 4 + messages)
        #expect(lines.first == IdentityMap.columns.joined(separator: ","))
        let messageLines = lines.filter { $0.hasPrefix("message,") }
        #expect(messageLines.count == messages)
        #expect(messageLines.allSatisfy { $0.contains(".mailferry,S=") && $0.hasSuffix("\"") })
        #expect(map.rows.filter { $0.kind == "message" }.allSatisfy { !$0.values[11].isEmpty && !$0.values[10].isEmpty })
        #expect(map.rows.filter { $0.kind == "message" }.allSatisfy { $0.values[12] == $0.values[13] })  // X-GUID = file
        #expect(IdentityMap.csvLine(["a,b", "say \"hi\"", "line\nbreak", "plain"]) == "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",plain\r\n")

        // The page lists the map, escaped like everything else.
        let page = ReportPage(report: report).render()
        #expect(page.contains("<h3>Identity map: 4 folders, \(messages) messages</h3>"))
        #expect(page.contains("Q&amp;A &lt;b&gt;"))
        #expect(!page.contains("<b>"))
    }

    @Test func aDamagedTargetIsReportedItemByItem() throws {
        let report = try damagedReport()
        #expect(report.verdict == .fail)
        let user = try #require(report.users.first)
        let missing = user.containers.flatMap(\.missing)
        let different = user.containers.flatMap(\.mismatched)
        #expect(missing.count == 1)
        #expect(Set(different.flatMap { $0.aspects ?? [] }) == ["bytes", "flags"], "\(different)")
        let bytesChanged = try #require(different.first { $0.aspects == ["bytes"] })
        #expect(bytesChanged.difference.hasPrefix("bytes changed: "))
        // The changed message is not also counted as extra: only the message put there by hand is.
        #expect(user.containers.reduce(0) { $0 + $1.extra } == 1)
        let extra = try #require(user.containers.flatMap { $0.extraItems ?? [] }.first)
        #expect(extra.title.hasPrefix("extra </td>"))
        let details = user.containers.flatMap { $0.details ?? [] }
        #expect(details.contains { $0.title == "will be lost" && $0.entry == missing[0] })
        let lostIn = try #require(user.containers.first { !$0.missing.isEmpty })
        #expect(lostIn.name == "Q&A <b>")
    }

    @Test func everythingFromMailboxesAndServersComesOutEscaped() throws {
        let report = try damagedReport()
        let page = ReportPage(report: report).render()
        // No markup from the mailbox survives: no script, image or other element appears, only its text.
        #expect(!page.contains("<script"))
        #expect(!page.contains("<img"))
        #expect(!page.contains("<b>"))
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; "))
        #expect(page.contains("extra &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.contains("o&#39;hara&amp;co@example.com"))
        #expect(page.contains("Q&amp;A &lt;b&gt;"))
        #expect(page.contains("&quot;Eve &lt;evil&gt;&quot; &lt;eve@example.com&gt;"))
        // The right-to-left override is shown as a visible mark, never passed through to reorder the row.
        #expect(!page.unicodeScalars.contains("\u{202E}"))
        #expect(page.contains("<span class=\"cc\" title=\"hidden character\">U+202E</span>gnp.exe"))
        #expect(page.contains("<span class=\"cc\" title=\"hidden character\">U+202E</span>fdp-exe"))
        // Other Unicode is kept as it is.
        #expect(page.contains("Résumé 日本語 ✓"))
        // Nothing is fetched: no URL, no script element, no external style.
        for fetching in ["http://", "https://", "src=\"", "href=\"http", "url(", "@import", "<link", "<object", "<iframe"] {
            #expect(!page.contains(fetching), "\(fetching)")
        }
        #expect(page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"))
        // The verdict and the sections are there.
        #expect(page.contains("id=\"verdict\">FAIL: 1 of 1 user not as in the archive"))
        #expect(page.contains("<h3>Missing at the target: 1</h3>"))
        #expect(page.contains("<h3>Different at the target: 2</h3>"))
        #expect(page.contains("<h3>Extra at the target: 1</h3>"))
        #expect(page.contains("<span class=\"aspect\">bytes changed</span>"))
        #expect(page.contains("<span class=\"aspect\">flags</span>"))
    }

    @Test func escapingCoversEveryHiddenOrSpecialCharacter() throws {
        let hostile = "a&b<c>d\"e'f\u{200F}g\u{2066}h\u{0007}i\u{FEFF}j\u{061C}k"
        let json = Self.reportJSON(address: hostile, folder: hostile, missing: ["u/1/m/1/1.eml"], title: hostile)
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(json.utf8))
        let page = ReportPage(report: report).render()
        let mark = { (hex: String) in "<span class=\"cc\" title=\"hidden character\">U+\(hex)</span>" }
        let escaped = "a&amp;b&lt;c&gt;d&quot;e&#39;f" + mark("200F") + "g" + mark("2066") + "h" + mark("0007") + "i" + mark("FEFF") + "j" + mark("061C") + "k"
        #expect(page.contains(escaped))
        #expect(!page.contains("a&b"))
        for scalar: Unicode.Scalar in ["\u{200F}", "\u{2066}", "\u{0007}", "\u{FEFF}", "\u{061C}"] {
            #expect(!page.unicodeScalars.contains(scalar))
        }
    }

    @Test func aHundredThousandDifferencesAreCutAndCountedAndStreamed() throws {
        let missing = (1...100_000).map { "u/1/m/1/\($0).eml" }
        let json = Self.reportJSON(address: "big@example.com", folder: "INBOX", missing: missing, title: "lost")
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(json.utf8))
        let page = ReportPage(report: report, rowLimit: 500)
        var chunks: [Int] = []
        var bytes: [UInt8] = []
        page.write { chunk in
            chunks.append(chunk.count)
            bytes.append(contentsOf: chunk)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("<h3>Missing at the target: 100\u{202F}000</h3>"))
        #expect(text.contains("… and 99\u{202F}500 more not listed here"))
        #expect(text.components(separatedBy: "<tr><td><code>u/1/m/1/").count - 1 == 500)
        #expect(text.contains("u/1/m/1/500.eml") && !text.contains("u/1/m/1/501.eml"))
        // Handed on in pieces, none much larger than the chunk size.
        #expect(chunks.count > 1)
        #expect(chunks.allSatisfy { $0 < (1 << 16) + 8192 }, "\(chunks.max() ?? 0)")
        #expect(text.hasSuffix("</html>\n"))
    }

    @Test func thePageIsWrittenAtomically() throws {
        let json = Self.reportJSON(address: "a@example.com", folder: "INBOX", missing: [], title: "")
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(json.utf8))
        let path = scratch.file("out/report.html")
        try scratch.mkdir("out")
        try ReportPage(report: report).write(toFile: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("out")) == ["report.html"])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("id=\"verdict\">PASS"))
        // A page that cannot be written leaves nothing behind.
        #expect(throws: FerryError.self) { try ReportPage(report: report).write(toFile: scratch.file("absent/report.html")) }
    }

    @Test func aPageOfManyUsersHasTheirTotalsAndReceipts() throws {
        let one = try JSONDecoder().decode(ReconcileReport.self, from: Data(Self.reportJSON(address: "a@example.com", folder: "INBOX", missing: [], title: "").utf8))
        let two = try JSONDecoder().decode(ReconcileReport.self, from: Data(Self.reportJSON(address: "b@example.com", folder: "INBOX", missing: ["u/1/m/1/1.eml"], title: "gone").utf8))
        let users = [
            ReportPage.User(report: one.users[0], archive: "june.mfa", archiveID: "id-1", target: "dir:/t",
                            receipt: .init(path: "r/a@example.com.receipt.json", verdict: .pass, signerKeyID: "k1")),
            ReportPage.User(report: two.users[0], archive: "july.mfa", archiveID: "id-2", target: "dir:/t"),
        ]
        let page = ReportPage(title: "Plan <north>", summary: [.init("Plan", "north & south")], users: users).render()
        #expect(page.contains("<title>Plan &lt;north&gt;</title>"))
        #expect(page.contains("<dd><bdi>north &amp; south</bdi></dd>"))
        #expect(page.contains("<tfoot><tr><th>All 2 users</th>"))
        #expect(page.contains("pass: release allowed"))
        #expect(page.contains("id=\"verdict\">FAIL: 1 of 2 users"))
        #expect(page.contains("id=\"user-2\""))
    }

    @Test func refusedItemsAreListedWithTheTargetsReason() throws {
        var json = Self.reportJSON(address: "r@example.com", folder: "INBOX", missing: [], title: "")
        json = json.replacingOccurrences(of: #""refused":[]"#, with: #""refused":["u/1/m/1/7.eml"]"#)
        json = json.replacingOccurrences(of: #""details":[]"#, with: #""details":[{"entry":"u/1/m/1/7.eml","title":"too big","size":99000000,"sha256":"00"}]"#)
        json = String(json.dropLast()) + #","imported":{"written":3,"alreadyPresent":0,"bytesWritten":300,"seconds":1.5,"placements":[],"badItems":[{"entry":"u/1/m/1/7.eml","folder":"INBOX","reason":"NO [LIMIT] <message too large>"}]}}"#
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(json.utf8))
        let page = ReportPage(report: report).render()
        #expect(page.contains("<title>Import report: a.mfa</title>"))
        #expect(page.contains("<h3>Refused by the target (bad items): 1</h3>"))
        #expect(page.contains("<td><bdi>NO [LIMIT] &lt;message too large&gt;</bdi></td><td><bdi>too big</bdi></td>"))
        #expect(page.contains("<dt>Refused by the target</dt><dd><bdi>1 items</bdi></dd>"))
    }

    /// A reconcile report as the JSON `--report` writes, with one user and one folder.
    static func reportJSON(address: String, folder: String, missing: [String], title: String) -> String {
        func quote(_ s: String) -> String {
            String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
        }
        let counts = "{\"messages\":\(missing.count),\"messageBytes\":\(missing.count * 100),\"contactFiles\":0,\"contacts\":0,\"calendarFiles\":0,\"events\":0,\"tasks\":0,\"sieveScripts\":0,\"otherBytes\":0}"
        let empty = "{\"messages\":0,\"messageBytes\":0,\"contactFiles\":0,\"contacts\":0,\"calendarFiles\":0,\"events\":0,\"tasks\":0,\"sieveScripts\":0,\"otherBytes\":0}"
        let details = missing.map { "{\"entry\":\(quote($0)),\"title\":\(quote(title)),\"size\":100,\"sha256\":\"\(String(repeating: "ab", count: 32))\"}" }
        let verdict = missing.isEmpty ? "pass" : "fail"
        return """
            {"format":"mailferry-reconcile-report","version":1,"archive":"/tmp/a.mfa","archiveID":"id","manifestSHA256":"00",
             "signerKeyID":"k","target":"dir:/t","created":"2026-01-01T00:00:00Z","verdict":"\(verdict)",
             "users":[{"address":\(quote(address)),"verdict":"\(verdict)","archive":\(counts),"target":\(empty),"problems":[],
               "containers":[{"kind":"folder","name":\(quote(folder)),"archiveItems":\(missing.count),"archiveBytes":\(missing.count * 100),
                 "matched":0,"extra":0,"missing":[\(missing.map(quote).joined(separator: ","))],"mismatched":[],"refused":[],
                 "details":[\(details.joined(separator: ","))]}]}]}
            """
    }
}
