import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// The reconcile report as one self-contained HTML page for people: no scripts, no fonts, images or style sheets
/// fetched, so it opens the same from a USB stick on an offline station. It shows the verdict, a table of every
/// user with the archive's counts against the target's, and per user the counts per type and container, every
/// missing, different, extra and refused item with its subject, date, size and reason, the folders' ACLs,
/// subscriptions and special uses that differ or that the target cannot hold, and the receipt status.
///
/// Pure: users' reports in, bytes out. It takes a list of users with a title and summary lines, so that a report
/// of a whole plan (many archives, many users) renders the same way as one import. Lists are cut at `rowLimit`
/// rows per section with a count of the rest (the JSON report has them all); bytes go to the sink in chunks of
/// about 64 KiB, so a report of 100,000 differences is written in linear time and small memory.
public struct ReportPage: Sendable {
    /// One user's part of the page: the reconcile result and where it came from.
    public struct User: Sendable {
        public var report: ReconcileReport.UserReport
        /// The archive file and id the user was reconciled against, and the target.
        public var archive: String
        public var archiveID: String
        public var target: String
        /// Items of this user that the target refused during the import, with its reasons.
        public var badItems: [BadItem]
        /// The user's receipt, when one was written or found; nil when there is none.
        public var receipt: ReceiptStatus?
        /// Where the import put each folder and message (an import's page only).
        public var identityMap: IdentityMap?

        public init(
            report: ReconcileReport.UserReport, archive: String, archiveID: String, target: String,
            badItems: [BadItem] = [], receipt: ReceiptStatus? = nil, identityMap: IdentityMap? = nil
        ) {
            self.identityMap = identityMap
            self.report = report
            self.archive = archive
            self.archiveID = archiveID
            self.target = target
            self.badItems = badItems
            self.receipt = receipt
        }
    }

    /// A signed receipt for a user (see `Receipt`).
    public struct ReceiptStatus: Sendable {
        public var path: String
        public var verdict: ReconcileReport.Verdict
        public var signerKeyID: String

        public init(path: String, verdict: ReconcileReport.Verdict, signerKeyID: String) {
            self.path = path
            self.verdict = verdict
            self.signerKeyID = signerKeyID
        }
    }

    /// A label and its value in the page's summary (archive, target, time, counts).
    public struct Fact: Sendable {
        public var label: String
        public var value: String

        public init(_ label: String, _ value: String) {
            self.label = label
            self.value = value
        }
    }

    public var title: String
    public var summary: [Fact]
    public var users: [User]
    /// Rows listed per section (missing, different, extra, refused) of each user before the rest is only counted.
    public var rowLimit: Int

    public static let defaultRowLimit = 1000

    public init(title: String, summary: [Fact], users: [User], rowLimit: Int = ReportPage.defaultRowLimit) {
        self.title = title
        self.summary = summary
        self.users = users
        self.rowLimit = max(rowLimit, 0)
    }

    /// The page of one import or reconcile. `receipts` are the receipts written for it, by user address.
    public init(report: ReconcileReport, receipts: [String: ReceiptStatus] = [:], rowLimit: Int = ReportPage.defaultRowLimit) {
        var facts = [
            Fact("Archive", report.archive), Fact("Archive id", report.archiveID), Fact("Signed by key", report.signerKeyID),
            Fact("Manifest SHA-256", report.manifestSHA256), Fact("Target", report.target), Fact("Reconciled", report.created),
        ]
        if let volumes = report.volumes {
            // A volume set reconciled whole: its statement, its id, and each volume's archive id.
            facts[0] = Fact("Volume set", report.archive)
            facts[1] = Fact("Set id", report.archiveID)
            facts[3] = Fact("Set statement SHA-256", report.manifestSHA256)
            facts.insert(Fact("Volumes", volumes.enumerated().map { "\($0.offset + 1): \($0.element)" }.joined(separator: ", ")), at: 2)
        }
        if let i = report.imported {
            facts.append(Fact("Imported", "\(i.written) items written (\(Format.bytes(i.bytesWritten))), \(i.alreadyPresent) already present, \(String(format: "%.1f", i.seconds)) s"))
            if !i.badItems.isEmpty { facts.append(Fact("Refused by the target", "\(i.badItems.count) items")) }
        }
        let users = report.users.map { u in
            let refused = Set(u.containers.flatMap(\.refused))
            return User(
                report: u, archive: report.archive, archiveID: report.archiveID, target: report.target,
                badItems: report.imported?.badItems.filter { refused.contains($0.entry) } ?? [],
                receipt: receipts[u.address], identityMap: report.identityMaps[u.address])
        }
        let what = report.imported == nil ? "Reconcile" : "Import"
        let name = (report.archive as NSString).lastPathComponent
        self.init(title: "\(what) report: \(name)", summary: facts, users: users, rowLimit: rowLimit)
    }

    /// The verdict of the whole page: pass only if every user passes.
    public var verdict: ReconcileReport.Verdict {
        users.allSatisfy { $0.report.verdict == .pass } ? .pass : .fail
    }

    /// The whole page as a string (for tests and small reports; files go through `write(toFile:)`).
    public func render() -> String {
        var bytes: [UInt8] = []
        write { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the page atomically: a temporary name, fsync, then the final name.
    public func write(toFile path: String) throws {
        try FerryError.io {
            try AtomicReplace.write(to: path, mode: 0o644) { sink in
                try write { chunk in try chunk.withUnsafeBytes { try sink($0) } }
            }
        }
    }

    /// Produces the page, handing its bytes to `sink` in order, in chunks.
    public func write(_ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        var out = HTMLOutput()
        let verdict = self.verdict
        out.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        out.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        // No resource of any kind may be fetched: the page must read the same offline.
        out.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
        out.raw("<title>")
        out.text(title)
        out.raw("</title>\n<style>\n\(Self.styleSheet)</style>\n</head>\n<body>\n<header>\n<h1>")
        out.text(title)
        out.raw("</h1>\n")
        verdictBanner(&out, verdict, users: users.count, failing: users.filter { $0.report.verdict == .fail }.count)
        if !summary.isEmpty {
            out.raw("<dl class=\"facts\">\n")
            for fact in summary {
                out.raw("<dt>")
                out.text(fact.label)
                out.raw("</dt><dd><bdi>")
                out.text(fact.value)
                out.raw("</bdi></dd>\n")
            }
            out.raw("</dl>\n")
        }
        out.raw("</header>\n<main>\n")
        overview(&out)
        try out.flush(sink)
        for (index, user) in users.enumerated() {
            try section(&out, user, number: index + 1, sink)
        }
        out.raw("</main>\n<footer>Written by \(MailFerryVersion.tool). Every list is cut at ")
        out.number(rowLimit)
        out.raw(" rows; the JSON report (<code>--report</code>) lists everything.</footer>\n</body>\n</html>\n")
        try out.flush(sink)
    }

    // MARK: - Parts of the page

    private func verdictBanner(_ out: inout HTMLOutput, _ verdict: ReconcileReport.Verdict, users: Int, failing: Int) {
        if verdict == .pass {
            out.raw("<p class=\"verdict pass\" id=\"verdict\">PASS: the target holds everything the archive holds for ")
            out.number(users)
            out.raw(users == 1 ? " user.</p>\n" : " users.</p>\n")
        } else {
            out.raw("<p class=\"verdict fail\" id=\"verdict\">FAIL: ")
            out.number(failing)
            out.raw(" of ")
            out.number(users)
            out.raw(users == 1 ? " user" : " users")
            out.raw(" not as in the archive. The buffer will not release held mail for a failing user.</p>\n")
        }
    }

    /// The table of every user with the totals of the run.
    private func overview(_ out: inout HTMLOutput) {
        out.raw("<section id=\"overview\">\n<h2>Users</h2>\n<p class=\"note\">Counts are archive / target.</p>\n<div class=\"wide\">\n<table class=\"users\" id=\"users-table\">\n<thead><tr>")
        out.raw("<th>User</th><th>Verdict</th><th class=\"n\">Messages</th><th class=\"n\">Message<br>bytes</th>")
        out.raw("<th class=\"n\">Contacts</th><th class=\"n\">Events</th><th class=\"n\">Tasks</th><th class=\"n\">Sieve<br>scripts</th>")
        out.raw("<th class=\"n\">Matched</th><th class=\"n\">Missing</th><th class=\"n\">Different</th><th class=\"n\">Extra</th><th class=\"n\">Refused</th><th>Receipt</th></tr></thead>\n<tbody>\n")
        var archive = Counts()
        var target = Counts()
        var total = Tally()
        for (index, user) in users.enumerated() {
            let u = user.report
            let tally = Tally(u)
            archive.merge(u.archive)
            target.merge(u.target)
            total.add(tally)
            out.raw("<tr class=\"\(u.verdict.rawValue)\"><td><a href=\"#user-\(index + 1)\"><bdi>")
            out.text(u.address)
            out.raw("</bdi></a></td><td>")
            verdictCell(&out, u.verdict)
            out.raw("</td>")
            countCells(&out, u.archive, u.target, tally)
            out.raw("<td>")
            receiptCell(&out, user.receipt)
            out.raw("</td></tr>\n")
        }
        out.raw("</tbody>\n")
        if users.count > 1 {
            out.raw("<tfoot><tr><th>All \(users.count) users</th><td>")
            verdictCell(&out, verdict)
            out.raw("</td>")
            countCells(&out, archive, target, total)
            out.raw("<td>\(users.filter { $0.receipt != nil }.count) of \(users.count)</td></tr></tfoot>\n")
        }
        out.raw("</table>\n</div>\n</section>\n")
    }

    private func countCells(_ out: inout HTMLOutput, _ a: Counts, _ t: Counts, _ tally: Tally) {
        func pair(_ x: Int, _ y: Int) {
            out.raw("<td class=\"n\(x == y ? "" : " differs")\">")
            out.number(x)
            out.raw(" / ")
            out.number(y)
            out.raw("</td>")
        }
        pair(a.messages, t.messages)
        out.raw("<td class=\"n\(a.messageBytes == t.messageBytes ? "" : " differs")\">\(Format.bytes(a.messageBytes)) / \(Format.bytes(t.messageBytes))</td>")
        pair(a.contacts, t.contacts)
        pair(a.events, t.events)
        pair(a.tasks, t.tasks)
        pair(a.sieveScripts, t.sieveScripts)
        for (value, bad) in [(tally.matched, false), (tally.missing, true), (tally.different, true), (tally.extra, false), (tally.refused, true)] {
            out.raw("<td class=\"n\(bad && value > 0 ? " bad" : "")\">")
            out.number(value)
            out.raw("</td>")
        }
    }

    private func verdictCell(_ out: inout HTMLOutput, _ verdict: ReconcileReport.Verdict) {
        out.raw(verdict == .pass ? "<span class=\"tag pass\">PASS</span>" : "<span class=\"tag fail\">FAIL</span>")
    }

    private func receiptCell(_ out: inout HTMLOutput, _ receipt: ReceiptStatus?) {
        guard let receipt else {
            out.raw("<span class=\"muted\">none</span>")
            return
        }
        out.raw(receipt.verdict == .pass ? "pass: release allowed" : "fail: release refused")
    }

    /// One user: counts per type, per container, then every difference.
    private func section(_ out: inout HTMLOutput, _ user: User, number: Int, _ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        let u = user.report
        out.raw("<section class=\"user\" id=\"user-\(number)\">\n<h2><bdi>")
        out.text(u.address)
        out.raw("</bdi> ")
        verdictCell(&out, u.verdict)
        out.raw("</h2>\n<dl class=\"facts\"><dt>Archive</dt><dd><bdi>")
        out.text(user.archive)
        out.raw("</bdi> (")
        out.text(user.archiveID)
        out.raw(")</dd><dt>Target</dt><dd><bdi>")
        out.text(user.target)
        out.raw("</bdi></dd><dt>Receipt</dt><dd>")
        if let r = user.receipt {
            out.raw("<bdi>")
            out.text(r.path)
            out.raw("</bdi>, verdict \(r.verdict.rawValue), signed by key ")
            out.text(r.signerKeyID)
            out.raw(r.verdict == .pass ? " (the buffer may release held mail)" : " (the buffer refuses to release held mail)")
        } else {
            out.raw("none written")
        }
        out.raw("</dd></dl>\n")
        typeTable(&out, u)
        containerTable(&out, u)
        if !u.problems.isEmpty {
            out.raw("<h3>Problems</h3>\n<ul class=\"problems\">\n")
            for p in u.problems.prefix(rowLimit) {
                out.raw("<li><bdi>")
                out.text(p)
                out.raw("</bdi></li>\n")
            }
            out.raw("</ul>\n")
            more(&out, u.problems.count - rowLimit)
        }
        try out.flushIfFull(sink)
        let details = Dictionary(u.containers.flatMap { $0.details ?? [] }.compactMap { d in d.entry.map { ($0, d) } }, uniquingKeysWith: { a, _ in a })
        try missingList(&out, u, details, sink)
        try differentList(&out, u, details, sink)
        try folderPropertyList(&out, u, sink)
        try extraList(&out, u, sink)
        try refusedList(&out, user, details, sink)
        if let map = user.identityMap { try identityMapTable(&out, map, sink) }
        out.raw("</section>\n")
        try out.flush(sink)
    }

    private func typeTable(_ out: inout HTMLOutput, _ u: ReconcileReport.UserReport) {
        out.raw("<h3>Counts per type</h3>\n<table class=\"types\">\n<thead><tr><th>Type</th><th class=\"n\">Archive (source)</th><th class=\"n\">Target</th></tr></thead>\n<tbody>\n")
        let rows: [(String, Int64, Int64, Bool)] = [
            ("Messages", Int64(u.archive.messages), Int64(u.target.messages), false),
            ("Message bytes", u.archive.messageBytes, u.target.messageBytes, true),
            ("Contact files", Int64(u.archive.contactFiles), Int64(u.target.contactFiles), false),
            ("Contacts", Int64(u.archive.contacts), Int64(u.target.contacts), false),
            ("Calendar files", Int64(u.archive.calendarFiles), Int64(u.target.calendarFiles), false),
            ("Events", Int64(u.archive.events), Int64(u.target.events), false),
            ("Tasks", Int64(u.archive.tasks), Int64(u.target.tasks), false),
            ("Sieve scripts", Int64(u.archive.sieveScripts), Int64(u.target.sieveScripts), false),
        ]
        for (label, a, t, isBytes) in rows {
            out.raw("<tr\(a == t ? "" : " class=\"differs\"")><td>\(label)</td><td class=\"n\">")
            if isBytes { out.raw(Format.bytes(a)) } else { out.number(a) }
            out.raw("</td><td class=\"n\">")
            if isBytes { out.raw(Format.bytes(t)) } else { out.number(t) }
            out.raw("</td></tr>\n")
        }
        out.raw("</tbody>\n</table>\n<p class=\"note\">The target column counts the archive's items found at the target with the same bytes; items only at the target are counted as extra below.</p>\n")
    }

    private func containerTable(_ out: inout HTMLOutput, _ u: ReconcileReport.UserReport) {
        out.raw("<h3>Counts per folder, address book and calendar</h3>\n<table class=\"containers\">\n<thead><tr><th>Kind</th><th>Name</th>")
        out.raw("<th class=\"n\">Archive items</th><th class=\"n\">Archive bytes</th><th class=\"n\">Matched at target</th><th class=\"n\">Missing</th>")
        out.raw("<th class=\"n\">Different</th><th class=\"n\">Refused</th><th class=\"n\">Extra at target</th>")
        out.raw("<th class=\"n\">Line endings made CRLF</th></tr></thead>\n<tbody>\n")
        for c in u.containers.prefix(rowLimit) {
            let bad = !c.missing.isEmpty || !c.mismatched.isEmpty || c.propertiesDiffer
            out.raw("<tr\(bad ? " class=\"fail\"" : "")><td>")
            out.text(c.kind)
            out.raw("</td><td><bdi>")
            out.text(c.name)
            out.raw("</bdi></td><td class=\"n\">")
            out.number(c.archiveItems)
            out.raw("</td><td class=\"n\">\(Format.bytes(c.archiveBytes))</td><td class=\"n\">")
            out.number(c.matched)
            for (value, isBad) in [(c.missing.count, true), (c.mismatched.count, true), (c.refused.count, true), (c.extra, false)] {
                out.raw("</td><td class=\"n\(isBad && value > 0 ? " bad" : "")\">")
                out.number(value)
            }
            out.raw("</td><td class=\"n\">")
            out.number(c.lineEndingsConverted ?? 0)
            out.raw("</td></tr>\n")
        }
        out.raw("</tbody>\n</table>\n")
        if u.containers.contains(where: { ($0.lineEndingsConverted ?? 0) > 0 }) {
            out.raw("<p class=\"note\">Line endings made CRLF: messages stored with LF (or CR) line endings at the source, which the target holds, as IMAP requires, with CRLF; matched in that form, every other byte the same.</p>\n")
        }
        more(&out, u.containers.count - rowLimit)
    }

    private func missingList(
        _ out: inout HTMLOutput, _ u: ReconcileReport.UserReport, _ details: [String: ReconcileReport.ItemDetail],
        _ sink: (ArraySlice<UInt8>) throws -> Void
    ) rethrows {
        try itemTable(
            &out, "Missing at the target", total: u.containers.reduce(0) { $0 + $1.missing.count }, id: "missing",
            note: "In the archive, not at the target (no item there with the same bytes).",
            columns: ["Entry", "Where", "Subject or name", "From", "Date", "Size"],
            rows: u.containers.lazy.flatMap { c in c.missing.lazy.map { (c, $0) } }, sink
        ) { out, c, entry in
            entryCell(&out, entry)
            whereCell(&out, c)
            itemCells(&out, details[entry])
        }
    }

    private func differentList(
        _ out: inout HTMLOutput, _ u: ReconcileReport.UserReport, _ details: [String: ReconcileReport.ItemDetail],
        _ sink: (ArraySlice<UInt8>) throws -> Void
    ) rethrows {
        var byAspect: [String: Int] = [:]
        for c in u.containers {
            for m in c.mismatched {
                for a in m.aspects ?? ["other"] { byAspect[a, default: 0] += 1 }
            }
        }
        let aspects = byAspect.sorted { $0.key < $1.key }.map { "\($0.value) \(Self.aspectName($0.key))" }.joined(separator: ", ")
        try itemTable(
            &out, "Different at the target", total: u.containers.reduce(0) { $0 + $1.mismatched.count }, id: "different",
            note: "At the target, but not as in the archive: " + aspects + ".",
            columns: ["Entry", "Where", "What differs", "Subject or name", "Date in the archive", "Size"],
            rows: u.containers.lazy.flatMap { c in c.mismatched.lazy.map { (c, $0) } }, sink
        ) { out, c, m in
            entryCell(&out, m.entry)
            whereCell(&out, c)
            out.raw("<td>")
            for a in m.aspects ?? [] {
                out.raw("<span class=\"aspect\">")
                out.text(Self.aspectName(a))
                out.raw("</span> ")
            }
            out.raw("<bdi>")
            out.text(m.difference)
            out.raw("</bdi></td>")
            itemCells(&out, details[m.entry], from: false)
        }
    }

    /// Folders' ACLs, subscriptions and special uses: a count of what matches, and a row for every property that
    /// differs, that the target cannot hold, or that the target has beyond the archive.
    private func folderPropertyList(_ out: inout HTMLOutput, _ u: ReconcileReport.UserReport, _ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        var byOutcome: [ReconcileReport.FolderProperty.Outcome: Int] = [:]
        for c in u.containers {
            for p in c.folderProperties ?? [] { byOutcome[p.outcome, default: 0] += 1 }
        }
        guard !byOutcome.isEmpty else { return }
        let listed = u.containers.lazy.flatMap { c in (c.folderProperties ?? []).lazy.filter { $0.outcome != .match }.map { (c, $0) } }
        let total = byOutcome.filter { $0.key != .match }.values.reduce(0, +)
        let note = "Compared per folder: ACL (rights letters as sets, with renamed users as the import wrote them), subscription and special use. "
            + "\(byOutcome[.match] ?? 0) match, \(byOutcome[.different] ?? 0) different (a failure), \(byOutcome[.notHeld] ?? 0) not held by this target, "
            + "\(byOutcome[.extra] ?? 0) only at the target (not a failure)."
        guard total > 0 else {
            out.raw("<h3>Folder properties: all as in the archive</h3>\n<p class=\"note\">")
            out.text(note)
            out.raw("</p>\n")
            return
        }
        try itemTable(
            &out, "Folder properties not as in the archive", total: total, id: "properties", note: note,
            columns: ["Where", "Property", "Outcome", "In the archive", "At the target", "Why"], rows: listed, sink
        ) { out, c, p in
            whereCell(&out, c)
            out.raw("<td>")
            out.text(p.property.displayName)
            if let folder = p.archiveFolder {
                out.raw(" <span class=\"muted\">(archive folder <bdi>")
                out.text(folder)
                out.raw("</bdi>)</span>")
            }
            out.raw("</td><td>")
            switch p.outcome {
            case .different: out.raw("<span class=\"tag fail\">DIFFERENT</span>")
            case .notHeld: out.raw("not held by this target")
            case .extra: out.raw("only at the target")
            case .match: out.raw("match")
            }
            out.raw("</td><td><bdi>")
            out.text(p.archive)
            out.raw("</bdi></td><td><bdi>")
            out.text(p.target ?? "")
            out.raw("</bdi></td><td><bdi>")
            out.text(p.reason ?? "")
            out.raw("</bdi></td>")
        }
    }

    private func extraList(_ out: inout HTMLOutput, _ u: ReconcileReport.UserReport, _ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        try itemTable(
            &out, "Extra at the target", total: u.containers.reduce(0) { $0 + $1.extra }, id: "extra",
            note: "At the target, not in the archive. Not a failure: the target may have held mail before.",
            columns: ["Where", "Subject or name", "From", "Date", "Size", "SHA-256"],
            rows: u.containers.lazy.flatMap { c in (c.extraItems ?? []).lazy.map { (c, $0) } }, sink
        ) { out, c, item in
            whereCell(&out, c)
            itemCells(&out, item)
            out.raw("<td><code>")
            out.text(String(item.sha256.prefix(16)))
            out.raw("…</code></td>")
        }
    }

    private func refusedList(
        _ out: inout HTMLOutput, _ user: User, _ details: [String: ReconcileReport.ItemDetail],
        _ sink: (ArraySlice<UInt8>) throws -> Void
    ) rethrows {
        var reasons: [String: BadItem] = [:]
        for b in user.badItems where reasons[b.entry] == nil { reasons[b.entry] = b }
        try itemTable(
            &out, "Refused by the target (bad items)", total: user.report.containers.reduce(0) { $0 + $1.refused.count },
            id: "refused", note: "The target would not take these items; the import went on within --max-bad-items.",
            columns: ["Entry", "Where", "Reason the target gave", "Subject or name", "Date", "Size"],
            rows: user.report.containers.lazy.flatMap { c in c.refused.lazy.map { (c, $0) } }, sink
        ) { out, c, entry in
            entryCell(&out, entry)
            whereCell(&out, c)
            out.raw("<td><bdi>")
            out.text(reasons[entry]?.reason ?? "(no reason recorded)")
            out.raw("</bdi></td>")
            itemCells(&out, details[entry], from: false)
        }
    }

    /// One list of items: a heading with the total, a note, the column heads, a row per item up to `rowLimit` (the
    /// page is flushed to `sink` as it grows), and the count of the rest.
    private func itemTable<Rows: Sequence, Row>(
        _ out: inout HTMLOutput, _ heading: String, total: Int, id: String, note: String, columns: [String], rows: Rows,
        _ sink: (ArraySlice<UInt8>) throws -> Void, row: (inout HTMLOutput, ReconcileReport.ContainerReport, Row) -> Void
    ) rethrows where Rows.Element == (ReconcileReport.ContainerReport, Row) {
        guard total > 0 else { return }
        listHeading(&out, heading, total, id: id, note: note)
        out.raw("<thead><tr>" + columns.map { $0 == "Size" ? "<th class=\"n\">Size</th>" : "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n")
        var shown = 0
        for (c, item) in rows {
            if shown == rowLimit { break }
            shown += 1
            out.raw("<tr>")
            row(&out, c, item)
            out.raw("</tr>\n")
            try out.flushIfFull(sink)
        }
        out.raw("</tbody>\n</table>\n")
        more(&out, total - shown)
    }

    private func entryCell(_ out: inout HTMLOutput, _ entry: String) {
        out.raw("<td><code>")
        out.text(entry)
        out.raw("</code></td>")
    }

    // MARK: - Pieces

    private func listHeading(_ out: inout HTMLOutput, _ heading: String, _ total: Int, id: String, note: String) {
        out.raw("<h3>\(heading): ")
        out.number(total)
        out.raw("</h3>\n<p class=\"note\">")
        out.text(note)
        out.raw("</p>\n<table class=\"items \(id)\">\n")
    }

    private func whereCell(_ out: inout HTMLOutput, _ c: ReconcileReport.ContainerReport) {
        out.raw("<td>")
        out.text(c.kind)
        out.raw(" <bdi>")
        out.text(c.name)
        out.raw("</bdi></td>")
    }

    /// Subject or name, (with `from`) sender, date and size.
    private func itemCells(_ out: inout HTMLOutput, _ d: ReconcileReport.ItemDetail?, from: Bool = true) {
        out.raw("<td><bdi>")
        out.text(d?.title ?? "")
        if from {
            out.raw("</bdi></td><td><bdi>")
            out.text(d?.from ?? "")
        }
        out.raw("</bdi></td><td>")
        out.text(d?.date ?? "")
        out.raw("</td><td class=\"n\">")
        if let d { out.raw(Format.bytes(d.size)) }
        out.raw("</td>")
    }

    private func more(_ out: inout HTMLOutput, _ rest: Int) {
        guard rest > 0 else { return }
        out.raw("<p class=\"more\">… and ")
        out.number(rest)
        out.raw(" more not listed here (the JSON report lists every one).</p>\n")
    }

    private static func aspectName(_ aspect: String) -> String {
        switch aspect {
        case "bytes": return "bytes changed"
        case "flags": return "flags"
        case "keywords": return "keywords"
        case "date": return "internal date"
        case "name": return "file name"
        case "active": return "active script"
        default: return aspect
        }
    }

    /// Counts of one user's differences, summed over its containers.
    private struct Tally {
        var matched = 0
        var missing = 0
        var different = 0
        var extra = 0
        var refused = 0

        init() {}

        init(_ u: ReconcileReport.UserReport) {
            for c in u.containers {
                matched += c.matched
                missing += c.missing.count
                different += c.mismatched.count
                extra += c.extra
                refused += c.refused.count
            }
        }

        mutating func add(_ o: Tally) {
            matched += o.matched
            missing += o.missing
            different += o.different
            extra += o.extra
            refused += o.refused
        }
    }

    private static let styleSheet = """
        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; padding: 1.5rem 2rem; color: #1d2330; background: #ffffff; line-height: 1.4; }
        h1 { font-size: 1.6rem; margin: 0 0 .6rem; }
        h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-bottom: 2px solid #d4d9e3; padding-bottom: .2rem; }
        h3 { font-size: 1.05rem; margin: 1.4rem 0 .3rem; }
        .verdict { font-size: 1.15rem; font-weight: 600; padding: .7rem 1rem; border-radius: 6px; margin: .6rem 0 1rem; }
        .verdict.pass { background: #e3f4e8; color: #145a2c; border: 1px solid #8fcca2; }
        .verdict.fail { background: #fbe6e6; color: #8a1414; border: 1px solid #e19a9a; }
        .tag { display: inline-block; font-size: .8rem; font-weight: 700; padding: .05rem .45rem; border-radius: 4px; vertical-align: middle; }
        .tag.pass { background: #2e8b4f; color: #ffffff; }
        .tag.fail { background: #c0392b; color: #ffffff; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; font-size: .92rem; }
        dl.facts dt { color: #5a6375; }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        div.wide { overflow-x: auto; }
        table.users { font-size: .84rem; }
        table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .88rem; }
        th, td { border: 1px solid #d4d9e3; padding: .25rem .5rem; text-align: left; vertical-align: top; unicode-bidi: isolate; }
        thead th { background: #eef1f6; }
        tfoot th, tfoot td { background: #f6f7fa; font-weight: 600; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr.fail td:first-child { box-shadow: inset 4px 0 0 #c0392b; }
        td.bad { background: #fbe6e6; color: #8a1414; font-weight: 600; }
        td.differs, tr.differs td { background: #fff5d6; }
        table.items td { overflow-wrap: anywhere; max-width: 32rem; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; }
        .aspect { display: inline-block; background: #e8ecf4; border-radius: 3px; padding: 0 .3rem; margin-right: .2rem; font-size: .8em; }
        .cc { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .75em; color: #8a1414; background: #fbe6e6; border: 1px solid #e19a9a; border-radius: 3px; padding: 0 .15rem; }
        .muted { color: #8a93a5; }
        .note { color: #5a6375; font-size: .85rem; margin: .1rem 0 .3rem; }
        .more { font-style: italic; color: #5a6375; }
        ul.problems li { color: #8a1414; }
        footer { margin-top: 2.5rem; color: #8a93a5; font-size: .8rem; }
        @media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }

        """
}

extension Counts {
    /// Adds another user's counts (for the totals of a page).
    mutating func merge(_ o: Counts) {
        messages += o.messages
        messageBytes += o.messageBytes
        contactFiles += o.contactFiles
        contacts += o.contacts
        calendarFiles += o.calendarFiles
        events += o.events
        tasks += o.tasks
        sieveScripts += o.sieveScripts
        otherBytes += o.otherBytes
    }
}
