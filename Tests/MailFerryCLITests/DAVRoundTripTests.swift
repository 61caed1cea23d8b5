import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// CalDAV/CardDAV (`davs://`, `dav://`) as source and target between two different real servers: Radicale over
/// HTTPS as the source, Xandikos over plain HTTP as the target, both started by the tests. An independent Python
/// client on raw `http.client` (`dav_client.py`) puts the objects in and reads both servers back with PROPFIND and
/// GET, comparing each object's bytes and each collection's properties.
@Suite(.serialized, .blocking) struct DAVRoundTripTests {
    static let user = "alice@example.com"
    static let password = "alice-DAV-4711"
    static let client = CLI.repositoryRoot + "/Tests/MailFerryCLITests/dav_client.py"

    final class Stations {
        let work: Workspace
        let source: DAVTestServer
        let target: DAVTestServer
        let credentials: String

        init() throws {
            work = try Workspace()
            source = try DAVTestServer.radicale(users: [(DAVRoundTripTests.user, DAVRoundTripTests.password)])
            target = try DAVTestServer.xandikos(principal: DAVRoundTripTests.user)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("\(DAVRoundTripTests.user)\t\(DAVRoundTripTests.password)\n", to: credentials)
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        var sourceURL: String { "davs://127.0.0.1:\(source.port)" }
        var targetURL: String { "dav://127.0.0.1:\(target.port)" }

        func python(_ server: DAVTestServer, _ arguments: [String]) throws -> CLI.Result {
            try ProcessRunner.run(
                "/usr/bin/python3", [DAVRoundTripTests.client, server.base, DAVRoundTripTests.user, DAVRoundTripTests.password] + arguments,
                adding: ["DAV_CA": server.caFile])
        }

        /// Every collection of the user with its properties and each object's SHA-256, as the Python client reads it.
        func dump(_ server: DAVTestServer) throws -> [String: [String: Any]] {
            let r = try python(server, ["dump"])
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
        }

        func export(out: String) throws -> CLI.Result {
            try CLI.run([
                "export", "--source", sourceURL, "--user", DAVRoundTripTests.user, "--credentials", credentials,
                "--ca-file", source.caFile, "--sign-key", work.file("k.key.pem"), "--out", out,
            ])
        }

        func importArguments(_ archive: String) -> [String] {
            ["import", archive, "--trust", work.file("k.pub.pem"), "--target", targetURL, "--allow-plaintext",
             "--credentials", credentials, "--journal", work.file("journal")]
        }
    }

    static func report(_ output: CLI.Result) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Each object's SHA-256 (or another of the dump's fields, `lines`: the content lines' digest) by name.
    static func objects(_ collection: [String: Any]?, _ field: String = "sha256") -> [String: String] {
        ((collection?["objects"] as? [String: [String: Any]]) ?? [:]).mapValues { $0[field] as? String ?? "" }
    }

    /// Contacts with a contact group, a calendar with events and properties, and a task list go from Radicale into
    /// the archive and from there into Xandikos. Each object arrives with the bytes Radicale's GET gives, except
    /// where Xandikos stores an iCalendar object in its own property order: then its content lines are the same and
    /// the import said so. Each collection arrives with the properties Xandikos keeps, the others named in a notice.
    /// The reconcile passes; a second import writes nothing.
    @Test func radicaleToXandikosByteForByteWithCollectionProperties() throws {
        let s = try Stations()
        let seeded = try s.python(s.source, ["seed"])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let before = try s.dump(s.source)
        #expect(Set(before.keys) == ["contacts", "work", "tasks"], "\(before.keys)")
        #expect(Self.objects(before["contacts"]).count == 3 && Self.objects(before["work"]).count == 5 && Self.objects(before["tasks"]).count == 3)

        let archive = s.work.file("a.mfa")
        let export = try s.export(out: archive)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("contacts 3 in 3 files, events 5, tasks 3"), "\(export.stdout)")
        #expect(!export.stdout.contains(Self.password) && !export.stderr.contains(Self.password))

        // Without --json, so the notices show.
        let imported = try CLI.run(s.importArguments(archive))
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        #expect(imported.stdout.contains("11 items written") && imported.stdout.contains("verdict: PASS"), "\(imported.stdout.prefix(3000))")
        // What Xandikos does not keep is named, not passed over in silence.
        #expect(imported.stderr.contains("does not keep calendar-description, calendar-timezone"), "\(imported.stderr)")
        #expect(imported.stderr.contains("5 objects of") && imported.stderr.contains("server's own serialisation"), "\(imported.stderr)")

        let after = try s.dump(s.target)
        #expect(Set(after.keys) == Set(before.keys), "\(after.keys)")
        // Contacts (the group with its MEMBERs too) and tasks byte for byte; events with the same content lines.
        for name in ["contacts", "tasks"] { #expect(Self.objects(after[name]) == Self.objects(before[name]), "\(name)") }
        #expect(Self.objects(after["work"], "lines") == Self.objects(before["work"], "lines"))
        #expect(Set(Self.objects(after["work"]).keys) == Set(Self.objects(before["work"]).keys))
        for name in before.keys {
            for property in ["kind", "displayname", "color"] {
                #expect("\(after[name]?[property] ?? "nil")" == "\(before[name]?[property] ?? "nil")", "\(name) \(property)")
            }
        }
        #expect(after["contacts"]?["description"] as? String == "Freunde & Kollegen")
        #expect(before["work"]?["color"] as? String == "#FF8800FF" && before["work"]?["timezone"] is String)
        #expect(before["work"]?["description"] as? String == "Termine im Büro")

        // Again: everything is there with the same bytes, so nothing is written.
        let again = try CLI.run(s.importArguments(archive) + ["--reimport", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let counts = try Self.report(again)["imported"] as? [String: Any]
        #expect(counts?["written"] as? Int == 0 && counts?["alreadyPresent"] as? Int == 11, "\(String(describing: counts))")
        #expect(Self.objects(try s.dump(s.target)["contacts"]) == Self.objects(before["contacts"]))

        // Xandikos as a source: its log shows multiget REPORTs and not one GET while the export reads it.
        let gets = s.target.log.components(separatedBy: "\"GET ").count
        let reports = s.target.log.components(separatedBy: "\"REPORT ").count
        let back = try CLI.run([
            "export", "--source", s.targetURL, "--allow-plaintext", "--user", Self.user, "--credentials", s.credentials,
            "--sign-key", s.work.file("k.key.pem"), "--out", s.work.file("back.mfa"),
        ])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout.contains("contacts 3 in 3 files, events 5, tasks 3"), "\(back.stdout)")
        #expect(s.target.log.components(separatedBy: "\"GET ").count == gets)
        #expect(s.target.log.components(separatedBy: "\"REPORT ").count >= reports + 3)
    }

    /// The other way round: Xandikos (plain HTTP) as the source, Radicale (HTTPS) as the target, which stores vCards
    /// and iCalendar objects in its own serialisation; the content lines arrive, the reconcile passes.
    @Test func xandikosToRadicaleTheOtherWayRound() throws {
        let s = try Stations()
        let seeded = try s.python(s.target, ["seed"])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let before = try s.dump(s.target)
        #expect(Self.objects(before["contacts"]).count == 3 && Self.objects(before["work"]).count == 5)
        let archive = s.work.file("x.mfa")
        let export = try CLI.run([
            "export", "--source", s.targetURL, "--allow-plaintext", "--user", Self.user, "--credentials", s.credentials,
            "--sign-key", s.work.file("k.key.pem"), "--out", archive,
        ])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("contacts 3 in 3 files, events 5, tasks 3"), "\(export.stdout)")
        let imported = try CLI.run([
            "import", archive, "--trust", s.work.file("k.pub.pem"), "--target", s.sourceURL, "--credentials", s.credentials,
            "--ca-file", s.source.caFile, "--journal", s.work.file("journal"),
        ])
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        #expect(imported.stdout.contains("11 items written") && imported.stdout.contains("verdict: PASS"), "\(imported.stdout.prefix(3000))")
        let after = try s.dump(s.source)
        for name in ["contacts", "work", "tasks"] {
            #expect(Self.objects(after[name], "lines") == Self.objects(before[name], "lines"), "\(name)")
            #expect(after[name]?["displayname"] as? String == before[name]?["displayname"] as? String, "\(name)")
        }
    }

    /// The reconcile reads the target back: an object changed there behind the import's back fails the user.
    @Test func theReconcileReadsTheTargetBack() throws {
        let s = try Stations()
        #expect(try s.python(s.source, ["seed"]).status == 0)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)
        #expect(try CLI.run(s.importArguments(archive)).status == 0)
        let changed = try s.python(s.target, ["replace", "contacts", "bob.vcf"])
        #expect(changed.status == 0, "\(changed.stderr)")
        let reconcile = try CLI.run([
            "reconcile", archive, "--trust", s.work.file("k.pub.pem"), "--target", s.targetURL, "--allow-plaintext",
            "--credentials", s.credentials, "--json",
        ])
        #expect(reconcile.status == 1, "\(reconcile.stdout.prefix(2000)) \(reconcile.stderr)")
        #expect(try Self.report(reconcile)["verdict"] as? String == "fail")
        // bob.vcf is the address book's first object.
        #expect(reconcile.stdout.contains("\"difference\" : \"bytes changed: 106 B"), "\(reconcile.stdout.prefix(3000))")
        #expect(reconcile.stdout.contains("\"entry\" : \"u/1/c/1/1.vcf\""))
    }

    /// The reconcile compares each collection's own properties too: display names, the colour and the components
    /// match on Xandikos; the calendar's description and time zone, which Xandikos does not keep, are listed as not
    /// held (not a failure). A display name changed at the target afterwards fails the user, named.
    @Test func theReconcileComparesEachCollectionsProperties() throws {
        let s = try Stations()
        #expect(try s.python(s.source, ["seed"]).status == 0)
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)
        let imported = try CLI.run(s.importArguments(archive) + ["--json"])
        #expect(imported.status == 0, "\(imported.stdout.suffix(2000)) \(imported.stderr)")
        func properties(_ output: CLI.Result) throws -> [String: [String: String]] {
            var found: [String: [String: String]] = [:]
            for user in try Self.report(output)["users"] as? [[String: Any]] ?? [] {
                for c in user["containers"] as? [[String: Any]] ?? [] {
                    for p in c["folderProperties"] as? [[String: Any]] ?? [] {
                        found["\(c["name"] ?? "")", default: [:]]["\(p["property"] ?? "")"] = "\(p["outcome"] ?? "")"
                    }
                }
            }
            return found
        }
        let compared = try properties(imported)
        #expect(compared["contacts"]?["displayName"] == "match", "\(compared)")
        #expect(compared["work"]?["displayName"] == "match" && compared["work"]?["color"] == "match", "\(compared)")
        // Xandikos sets its own component set, a superset of the archived one: extra, not a failure.
        #expect(compared["work"]?["components"] == "extra" && compared["tasks"]?["components"] == "extra", "\(compared)")
        #expect(compared["work"]?["description"] == "notHeld" && compared["work"]?["timeZone"] == "notHeld", "\(compared)")

        let renamed = try s.python(s.target, ["rename", "work", "Freizeit"])
        #expect(renamed.status == 0, "\(renamed.stderr)")
        let check = try CLI.run([
            "reconcile", archive, "--trust", s.work.file("k.pub.pem"), "--target", s.targetURL, "--allow-plaintext",
            "--credentials", s.credentials,
        ])
        #expect(check.status == 1, "\(check.stdout.suffix(2000)) \(check.stderr)")
        #expect(check.stdout.contains("DIFFERENT display name: Arbeit in the archive, Freizeit at the target"), "\(check.stdout.suffix(2000))")
        #expect(check.stdout.contains("not held by this target, in 1 folder: time zone: the target's collection shows no time zone"), "\(check.stdout.suffix(2000))")
    }

    /// A delta export carries a changed, a new and a deleted contact and a changed and a deleted event; its import
    /// puts Xandikos in Radicale's state (events with the same content lines, as Xandikos orders them its way).
    @Test func aDeltaMovesChangedNewAndDeletedContactsAndEvents() throws {
        let s = try Stations()
        #expect(try s.python(s.source, ["seed"]).status == 0)
        let full = s.work.file("a.mfa")
        #expect(try s.export(out: full).status == 0)
        #expect(try CLI.run(s.importArguments(full)).status == 0)

        func put(_ collection: String, _ name: String, _ text: String) throws {
            let file = s.work.file("put-\(name)")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let r = try s.python(s.source, ["put", collection, name, file])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try put("contacts", "bob.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bob-1\r\nFN:Bob Builder Jr\r\nN:Bob Builder;;;;\r\nEND:VCARD\r\n")
        try put("contacts", "dave.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:dave-4\r\nFN:Dave\r\nN:Dave;;;;\r\nEND:VCARD\r\n")
        try put(
            "work", "event-3.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:event-3\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        for (collection, name) in [("contacts", "chloe.vcf"), ("work", "event-2.ics")] {
            let r = try s.python(s.source, ["delete", collection, name])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let after = try s.dump(s.source)
        #expect(Set(Self.objects(after["contacts"]).keys) == ["bob.vcf", "dave.vcf", "friends.vcf"])

        let delta = s.work.file("d.mfa")
        let export = try CLI.run([
            "export", "--source", s.sourceURL, "--user", Self.user, "--credentials", s.credentials, "--ca-file", s.source.caFile,
            "--sign-key", s.work.file("k.key.pem"), "--since", full, "--out", delta,
        ])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("3 new items") && export.stdout.contains("2 deleted"), "\(export.stdout)")
        let imported = try CLI.run(s.importArguments(delta))
        #expect(imported.status == 0, "\(imported.stdout.prefix(3000)) \(imported.stderr)")
        #expect(imported.stdout.contains("2 deleted") && imported.stdout.contains("verdict: PASS"), "\(imported.stdout.prefix(3000))")

        let target = try s.dump(s.target)
        #expect(Self.objects(target["contacts"]) == Self.objects(after["contacts"]))
        #expect(Self.objects(target["work"], "lines") == Self.objects(after["work"], "lines"))
        #expect(Set(Self.objects(target["work"]).keys) == Set(Self.objects(after["work"]).keys))
        #expect(Self.objects(target["tasks"]) == Self.objects(after["tasks"]))
    }

    /// A delta export reads only what changed. Xandikos offers sync-collection (RFC 6578), and the full archive
    /// recorded each collection's sync token (from the initial sync that listed it): the address book, where one
    /// contact changed, one was added and one removed, costs one sync-collection REPORT and one multiget of the two;
    /// each calendar, unchanged, one sync-collection with an empty answer. No collection is listed. Xandikos's log
    /// shows each request.
    @Test func aDeltaExportReadsOnlyTheObjectsWhoseTagChanged() throws {
        let s = try Stations()
        #expect(try s.python(s.target, ["seed"]).status == 0)
        func export(_ out: String, since: String? = nil) throws -> CLI.Result {
            try CLI.run([
                "export", "--source", s.targetURL, "--allow-plaintext", "--user", Self.user, "--credentials", s.credentials,
                "--sign-key", s.work.file("k.key.pem"), "--out", out,
            ] + (since.map { ["--since", $0] } ?? []))
        }
        let full = s.work.file("full.mfa")
        #expect(try export(full).status == 0)
        let manifest = try ProcessRunner.run(tool: "tar", ["--zstd", "-xOf", full, "mailferry/manifest.jsonl"])
        #expect(manifest.stdout.components(separatedBy: "\"syncToken\":").count - 1 == 3, "each collection's sync token: \(manifest.stdout.prefix(2000))")
        // The collections' properties and tokens follow the manifest's schema.
        let extracted = try ProcessRunner.run(tool: "tar", ["--zstd", "-xf", full, "-C", s.work.path, "mailferry/manifest.jsonl", "mailferry/statement.json"])
        #expect(extracted.status == 0, "\(extracted.stderr)")
        let checked = try Python.run([CLI.repositoryRoot + "/format-spec/check_schema.py", s.work.file("mailferry/manifest.jsonl"),
                                      s.work.file("mailferry/statement.json")])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")

        for (name, text) in [
            ("bob.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bob-1\r\nFN:Bob Builder Jr\r\nN:Bob Builder;;;;\r\nEND:VCARD\r\n"),
            ("erin.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:erin-5\r\nFN:Erin\r\nN:Erin;;;;\r\nEND:VCARD\r\n"),
        ] {
            let file = s.work.file(name)
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let put = try s.python(s.target, ["put", "contacts", name, file])
            #expect(put.status == 0, "\(put.stderr)")
        }
        let removed = try s.python(s.target, ["delete", "contacts", "chloe.vcf"])
        #expect(removed.status == 0, "\(removed.stderr)")
        let logBefore = s.target.log
        let delta = s.work.file("delta.mfa")
        let exported = try export(delta, since: full)
        #expect(exported.status == 0, "\(exported.stderr)")
        let requests = String(s.target.log.dropFirst(logBefore.count))
        #expect(Self.statuses(requests, "REPORT", "contacts/contacts/") == [207, 207], "a sync-collection and one multiget: \(requests)")
        #expect(Self.statuses(requests, "REPORT", "calendars/work/") == [207], "\(requests)")
        #expect(Self.statuses(requests, "REPORT", "calendars/tasks/") == [207], "\(requests)")
        // Discovery and the home sets' listings are PROPFINDs too; no collection's own objects are listed.
        for collection in ["contacts/contacts/", "calendars/work/", "calendars/tasks/"] {
            #expect(Self.statuses(requests, "PROPFIND", collection).isEmpty, "\(requests)")
        }
        #expect(exported.stdout.contains("2 new items") && exported.stdout.contains("1 deleted"), "\(exported.stdout)")
        let items = try JSONSerialization.jsonObject(with: Data(try CLI.run(["inspect", delta, "--list", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(items.count == 2, "\(items)")

        // The delta applied to a target built from the full archive gives the source's state.
        let fresh = try DAVTestServer.radicale(users: [(Self.user, Self.password)])
        let into = ["--trust", s.work.file("k.pub.pem"), "--target", "davs://127.0.0.1:\(fresh.port)", "--ca-file", fresh.caFile,
                    "--credentials", s.credentials, "--journal", s.work.file("journal-fresh")]
        #expect(try CLI.run(["import", full] + into).status == 0)
        let applied = try CLI.run(["import", delta] + into)
        #expect(applied.status == 0 && applied.stdout.contains("verdict: PASS"), "\(applied.stdout.suffix(2000)) \(applied.stderr)")
        let source = try s.dump(s.target)
        let target = try s.dump(fresh)
        #expect(Self.objects(target["contacts"], "lines") == Self.objects(source["contacts"], "lines"))
        #expect(Self.objects(target["work"], "lines") == Self.objects(source["work"], "lines"))
    }

    /// The statuses Xandikos's access log shows for `method` on the user's `collection` (e.g. `contacts/contacts/`),
    /// in order.
    static func statuses(_ log: String, _ method: String, _ collection: String) -> [Int] {
        let request = "\"\(method) /\(user.replacingOccurrences(of: "@", with: "%40"))/\(collection) HTTP/1.1\" "
        return log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: request) else { return nil }
            return Int(line[range.upperBound...].prefix(while: \.isNumber))
        }
    }

    /// A server that does not know the archived sync token (restored from a backup, or another server under the same
    /// name) refuses the sync-collection REPORT (Xandikos answers 500): the delta export lists the collection afresh
    /// (an initial sync), and the objects whose entity tags are the archived ones are kept unread. A second Xandikos seeded with the same objects (the
    /// same bytes, so the same tags) but for one contact plays that server: Xandikos's tokens name its states by
    /// content, and it never was in the archived state.
    @Test func aSyncTokenTheServerDoesNotKnowFallsBackToTheListing() throws {
        let s = try Stations()
        #expect(try s.python(s.target, ["seed"]).status == 0)
        let file = s.work.file("only-here.vcf")
        try Data("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:only-9\r\nFN:Only Here\r\nN:Here;Only;;;\r\nEND:VCARD\r\n".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try s.python(s.target, ["put", "contacts", "only-here.vcf", file]).status == 0)
        let full = s.work.file("full.mfa")
        func export(from url: String, _ out: String, since: String? = nil) throws -> CLI.Result {
            try CLI.run([
                "export", "--source", url, "--allow-plaintext", "--user", Self.user, "--credentials", s.credentials,
                "--sign-key", s.work.file("k.key.pem"), "--out", out,
            ] + (since.map { ["--since", $0] } ?? []))
        }
        #expect(try export(from: s.targetURL, full).status == 0)
        let other = try DAVTestServer.xandikos(principal: Self.user)
        #expect(try s.python(other, ["seed"]).status == 0)
        let logBefore = other.log
        let delta = s.work.file("delta.mfa")
        let exported = try export(from: "dav://127.0.0.1:\(other.port)", delta, since: full)
        #expect(exported.status == 0, "\(exported.stderr)")
        let requests = String(other.log.dropFirst(logBefore.count))
        // The address book's sync-collection is refused, then the book is listed by an initial sync; no multiget:
        // every tag there was the archived one. The calendars' states are the archived ones (Xandikos names a state
        // by its content), so their sync-collections answer with no change.
        #expect(Self.statuses(requests, "REPORT", "contacts/contacts/") == [500, 207], "\(requests)")
        #expect(Self.statuses(requests, "REPORT", "calendars/work/") == [207], "\(requests)")
        #expect(exported.stdout.contains("0 new items") && exported.stdout.contains("1 deleted"), "\(exported.stdout)")
    }

    /// Killed with SIGKILL part way, run again: every object exactly once.
    @Test func anImportKilledPartWayFinishesWithEveryObjectOnce() throws {
        let s = try Stations()
        let count = 400
        let seeded = try s.python(s.source, ["seed-many", "\(count)"])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let archive = s.work.file("a.mfa")
        #expect(try s.export(out: archive).status == 0)
        let before = Self.objects(try s.dump(s.source)["many"])
        #expect(before.count == count)

        // Xandikos keeps each object as a file of the collection's folder.
        let folder = s.target.root + "/data/\(Self.user)/contacts/many"
        func stored() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".vcf") }.count
        }
        let process = try CLI.start(s.importArguments(archive))
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline && stored() < count / 3 { usleep(1000) }
        let interrupted = process.isRunning
        if interrupted { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(interrupted, "the import finished before it could be killed")
        let partial = stored()
        #expect(partial > 0 && partial < count, "\(partial) of \(count) stored when killed")

        let resumed = try CLI.run(s.importArguments(archive) + ["--json"])
        #expect(resumed.status == 0, "\(resumed.stdout.prefix(2000)) \(resumed.stderr)")
        let report = try Self.report(resumed)
        #expect(report["verdict"] as? String == "pass")
        let counts = report["imported"] as? [String: Any]
        let written = counts?["written"] as? Int ?? -1, present = counts?["alreadyPresent"] as? Int ?? -1
        #expect(written + present == count && present >= partial - 1 && written < count, "written \(written), present \(present)")
        #expect(stored() == count)
        #expect(Self.objects(try s.dump(s.target)["many"]) == before)
    }

    /// An object the target refuses (Xandikos keeps one object per UID in a calendar and refuses a second one with
    /// 412 and its reason, "UID already in use") is a bad item with the server's reason: it stops the import unless
    /// --max-bad-items allows it; the others arrive.
    @Test func anObjectTheTargetRefusesIsABadItemWithTheServersReason() throws {
        let s = try Stations()
        let store = s.work.file("store")
        let calendar = "\(store)/\(Self.user)/calendars/work"
        try FileManager.default.createDirectory(atPath: calendar, withIntermediateDirectories: true)
        func event(_ summary: String) -> Data {
            Data("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:same-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:\(summary)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8)
        }
        try event("first").write(to: URL(fileURLWithPath: calendar + "/a.ics"))
        try event("second, same UID").write(to: URL(fileURLWithPath: calendar + "/b.ics"))
        let archive = s.work.file("a.mfa")
        let export = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", s.work.file("k.key.pem"), "--out", archive])
        #expect(export.status == 0, "\(export.stderr)")

        let stopped = try CLI.run(s.importArguments(archive))
        #expect(stopped.status == 3, "\(stopped.stdout) \(stopped.stderr)")
        #expect(stopped.stderr.contains("--max-bad-items"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("UID already in use"), "the server's own words: \(stopped.stderr)")

        let allowed = try CLI.run(s.importArguments(archive) + ["--max-bad-items", "1", "--json"])
        #expect(allowed.status == 0, "\(allowed.stdout.prefix(2000)) \(allowed.stderr)")
        let report = try Self.report(allowed)
        #expect(report["verdict"] as? String == "pass", "\(allowed.stdout.prefix(3000))")
        let bad = (report["imported"] as? [String: Any])?["badItems"] as? [[String: Any]] ?? []
        #expect(bad.count == 1 && (bad.first?["reason"] as? String)?.contains("UID already in use") == true, "\(bad)")
        #expect(Set(Self.objects(try s.dump(s.target)["work"]).keys) == ["a.ics"])
    }
}

/// Hostile DAV servers (`hostile_dav.py`): each is a clear error with a non-zero exit, no archive, and the export's
/// peak memory stays far below what the answer would take.
@Suite(.serialized, .blocking) struct HostileDAVTests {
    static let script = CLI.repositoryRoot + "/Tests/MailFerryCLITests/hostile_dav.py"
    static let peakRSS = CLI.repositoryRoot + "/Tests/MailFerryCLITests/peak_rss.py"

    @Test(arguments: [
        ("bomb", "document type declaration"),
        ("huge-length", "announces 1073741824 bytes"),
        ("huge-chunked", "passed 67108864 bytes"),
        ("other-host", "another server; refused"),
        ("outside", "outside that collection; refused"),
        ("loop", "a redirect loop"),
        ("away", "redirects to \"http://evil.example.org/dav/\", another server; refused"),
        ("chain", "more than 5 redirects"),
    ])
    func aHostileAnswerIsAClearErrorWithBoundedMemory(mode: String, words: String) throws {
        let work = try Workspace()
        let server = try ListeningScript(Self.script, [mode])
        let credentials = work.file("credentials.tsv")
        try CredentialsFile.write("alice\tsecret-DAV-1\n", to: credentials)
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let rss = work.file("rss")
        let out = work.file("a.mfa")
        let r = try ProcessRunner.run("/usr/bin/python3", [
            Self.peakRSS, rss, CLI.binary, "export", "--source", "dav://127.0.0.1:\(server.port)", "--allow-plaintext",
            "--user", "alice", "--credentials", credentials, "--sign-key", work.file("k.key.pem"), "--out", out,
        ])
        #expect(r.status == 3, "\(mode): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(words), "\(mode): \(r.stderr)")
        #expect(!r.stderr.contains("secret-DAV-1"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let kilobytes = Int((try? String(contentsOfFile: rss, encoding: .utf8)) ?? "") ?? -1
        #expect(kilobytes > 0 && kilobytes < 400_000, "\(mode): peak RSS \(kilobytes) kB")
    }
}
