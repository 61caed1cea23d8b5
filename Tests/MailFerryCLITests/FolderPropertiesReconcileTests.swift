import Foundation
import Testing
import TestSupport

/// Folders' ACLs, subscriptions and special uses, from a real Dovecot through an archive into another Dovecot or a
/// Maildir: the reconcile compares them per folder, reports each, fails on a difference the target could hold, and
/// lists what the target cannot hold. Python's imaplib gives the source its ACLs and subscriptions and changes the
/// target afterwards, so MailFerry never checks only itself.
@Suite(.serialized, .blocking) struct FolderPropertiesReconcileTests {
    static let password = "alice-Props-2718"
    static let bobPassword = "bob-Props-3141"
    static let helper = CLI.repositoryRoot + "/Tests/MailFerryCLITests/folder_properties.py"

    /// A source Dovecot whose alice has `folder_properties.py prepare`'s folders, exported with bob renamed to
    /// robert (`--map`), and a target Dovecot (without the ACL extension unless `targetACL`).
    final class Stations {
        let work: Workspace
        let source: DovecotIMAPServer
        let target: DovecotIMAPServer
        let credentials: String
        let archive: String

        init(targetACL: Bool = true) throws {
            work = try Workspace()
            let users: [DovecotIMAPServer.User] = [
                .init("alice@example.com", FolderPropertiesReconcileTests.password),
                .init("bob@example.com", FolderPropertiesReconcileTests.bobPassword),
            ]
            source = try DovecotIMAPServer(users: users)
            target = try DovecotIMAPServer(users: users, acl: targetACL)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write("alice@example.com\t\(FolderPropertiesReconcileTests.password)\n", to: credentials)
            archive = work.file("a.mfa")
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
            let prepared = try helper(["prepare"], on: source)
            #expect(prepared.status == 0, "\(prepared.stderr)")
            let map = work.file("map.csv")
            try "source,target\nbob@example.com,robert@example.com\n".write(toFile: map, atomically: true, encoding: .utf8)
            let export = try CLI.run([
                "export", "--source", "imap://127.0.0.1:\(source.imapPort)", "--user", "alice@example.com",
                "--credentials", credentials, "--ca-file", source.caFile, "--sign-key", work.file("k.key.pem"),
                "--map", map, "--out", archive,
            ])
            #expect(export.status == 0, "\(export.stdout) \(export.stderr)")
        }

        /// Runs `folder_properties.py COMMAND` for alice on `server`, with `extra` arguments after the connection's.
        func helper(_ command: [String], on server: DovecotIMAPServer, _ extra: [String] = []) throws -> CLI.Result {
            try Python.run([FolderPropertiesReconcileTests.helper] + command + [
                "127.0.0.1", "\(server.imapPort)", "alice@example.com", FolderPropertiesReconcileTests.password, server.caFile,
            ] + extra)
        }

        /// `import` or `reconcile` of the archive into `target` (the target Dovecot by default).
        func run(_ command: String, target: String? = nil, _ extra: [String] = []) throws -> CLI.Result {
            var arguments = [command, archive, "--trust", work.file("k.pub.pem")]
            if let target {
                arguments += ["--target", target, "--user", "alice@example.com"]
            } else {
                arguments += [
                    "--target", "imap://127.0.0.1:\(self.target.imapPort)", "--credentials", credentials,
                    "--ca-file", self.target.caFile, "--journal", work.file("journal"),
                ]
            }
            return try CLI.run(arguments + extra)
        }
    }

    /// The JSON report's folder properties of alice, by folder name and property.
    static func properties(_ reportFile: String) throws -> [String: [String: [String: Any]]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: reportFile))
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let user = try #require((report["users"] as? [[String: Any]])?.first)
        var result: [String: [String: [String: Any]]] = [:]
        for container in user["containers"] as? [[String: Any]] ?? [] where container["kind"] as? String == "folder" {
            let name = try #require(container["name"] as? String)
            for p in container["folderProperties"] as? [[String: Any]] ?? [] {
                result[name, default: [:]][try #require(p["property"] as? String)] = p
            }
        }
        return result
    }

    static func verdict(_ reportFile: String) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: reportFile))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["verdict"] as? String
    }

    @Test func aclsSubscriptionsAndSpecialUseArriveAndTheReportShowsEachComparedPerFolder() throws {
        let s = try Stations()
        let report = s.work.file("r.json"), page = s.work.file("r.html")
        let imported = try s.run("import", ["--report", report, "--html", page])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        let folders = try Self.properties(report)

        let projects = try #require(folders["Projects"])
        // bob was renamed: the ACL the import wrote, and the reconcile expects, names robert.
        #expect(projects["acl"]?["outcome"] as? String == "match")
        #expect(projects["acl"]?["archive"] as? String == "alice@example.com acdeiklprstwx; carol@example.com lr; robert@example.com lrs")
        #expect(projects["acl"]?["target"] as? String == projects["acl"]?["archive"] as? String)
        #expect(projects["subscribed"]?["outcome"] as? String == "match")
        #expect(projects["subscribed"]?["archive"] as? String == "subscribed")
        #expect(projects["specialUse"]?["outcome"] as? String == "match")
        #expect(projects["specialUse"]?["archive"] as? String == "none")

        // Dovecot gives a new folder its parent's ACL (carol's entry, here); the import takes away what the archive's
        // folder does not have, or the reconcile would find it.
        let old = try #require(folders["Projects/Old"])
        #expect(old["acl"]?["outcome"] as? String == "match")
        #expect((old["acl"]?["target"] as? String)?.contains("carol") == false)
        #expect((old["acl"]?["target"] as? String)?.contains("robert@example.com lr") == true)
        #expect(old["subscribed"]?["archive"] as? String == "not subscribed" && old["subscribed"]?["outcome"] as? String == "match")

        let sent = try #require(folders["Sent"])
        #expect(sent["specialUse"]?["outcome"] as? String == "match" && sent["specialUse"]?["target"] as? String == "\\Sent")
        #expect(sent["subscribed"]?["outcome"] as? String == "match")
        // The inbox is compared on its ACL and subscription, not on a special use.
        #expect(folders["INBOX"]?["acl"] != nil && folders["INBOX"]?["specialUse"] == nil)
        for (folder, byProperty) in folders {
            for (property, p) in byProperty {
                #expect(p["outcome"] as? String == "match", "\(folder) \(property): \(p)")
            }
        }

        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Folder properties: all as in the archive"), "\(html)")

        // reconcile on its own says the same.
        let check = try s.run("reconcile", ["--report", s.work.file("again.json")])
        #expect(check.status == 0 && check.stdout.contains("verdict: PASS"), "\(check.stdout) \(check.stderr)")
    }

    @Test func aSubscriptionOrACLChangedAtTheTargetFailsTheReconcileNamingFolderAndProperty() throws {
        let s = try Stations()
        let imported = try s.run("import")
        #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        #expect(try s.helper(["unsubscribe"], on: s.target, ["Projects"]).status == 0)
        #expect(try s.helper(["setacl"], on: s.target, ["Projects/Old", "robert@example.com", "lrw"]).status == 0)

        let report = s.work.file("r.json"), page = s.work.file("r.html")
        let check = try s.run("reconcile", ["--report", report, "--html", page])
        #expect(check.status == 1, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("verdict: FAIL"), "\(check.stdout)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        func after(_ folder: String) -> String? {
            guard let index = lines.firstIndex(where: { $0.hasPrefix("  folder \(folder):") }), index + 1 < lines.count else { return nil }
            return lines[(index + 1)...].prefix { $0.hasPrefix("    ") }.joined(separator: "\n")
        }
        #expect(after("Projects")?.contains("DIFFERENT subscription: subscribed in the archive, not subscribed at the target") == true, "\(check.stdout)")
        #expect(after("Projects/Old")?.contains("DIFFERENT ACL:") == true, "\(check.stdout)")
        #expect(after("Projects/Old")?.contains("robert@example.com lrw at the target") == true, "\(check.stdout)")

        #expect(try Self.verdict(report) == "fail")
        let folders = try Self.properties(report)
        #expect(folders["Projects"]?["subscribed"]?["outcome"] as? String == "different")
        #expect(folders["Projects"]?["acl"]?["outcome"] as? String == "match")
        #expect(folders["Projects/Old"]?["acl"]?["outcome"] as? String == "different")
        #expect(folders["Projects/Old"]?["subscribed"]?["outcome"] as? String == "match")

        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Folder properties not as in the archive: 2"), "\(html)")
        #expect(html.contains("<span class=\"tag fail\">DIFFERENT</span>"))
    }

    @Test func aServerWithoutTheACLExtensionHoldsNoACLsAndTheImportStillPasses() throws {
        let s = try Stations(targetACL: false)
        let report = s.work.file("r.json")
        let imported = try s.run("import", ["--report", report])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        #expect(imported.stdout.contains("not held by this target, in 6 folders: ACL: the server does not offer the ACL extension (RFC 4314)"), "\(imported.stdout)")
        let folders = try Self.properties(report)
        #expect(folders["Projects"]?["acl"]?["outcome"] as? String == "notHeld")
        #expect(folders["Projects"]?["subscribed"]?["outcome"] as? String == "match")
        #expect(folders["Sent"]?["specialUse"]?["outcome"] as? String == "match")
    }

    @Test func intoAMaildirACLsAreNotHeldAndDoNotFailButASubscriptionDifferenceDoes() throws {
        let s = try Stations()
        let maildir = s.work.file("Maildir")
        let report = s.work.file("r.json")
        let imported = try s.run("import", target: "maildir:" + maildir, ["--report", report])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        // Said once per property on the command line (INBOX, Drafts, Projects, Projects/Old, Sent, Trash have ACLs)...
        #expect(imported.stdout.contains("not held by this target, in 6 folders: ACL: a Maildir target keeps no ACLs"), "\(imported.stdout)")
        // ...and per folder, with the archive's entries, in the report.
        #expect(try Self.properties(report)["Projects"]?["acl"]?["archive"] as? String == "alice@example.com acdeiklprstwx; carol@example.com lr; robert@example.com lrs")
        var folders = try Self.properties(report)
        let acl = try #require(folders["Projects"]?["acl"])
        #expect(acl["outcome"] as? String == "notHeld")
        #expect((acl["reason"] as? String)?.contains("Maildir") == true)
        #expect(acl["target"] == nil)
        #expect(folders["Sent"]?["specialUse"]?["outcome"] as? String == "notHeld")
        #expect(folders["Projects"]?["subscribed"]?["outcome"] as? String == "match")

        // Projects taken out of Dovecot's subscriptions file: a difference a Maildir can hold.
        let file = maildir + "/subscriptions"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.split(separator: "\n").contains("Projects"), "\(text)")
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0 != "Projects" }
        try kept.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let check = try s.run("reconcile", target: "maildir:" + maildir, ["--report", report])
        #expect(check.status == 1 && check.stdout.contains("verdict: FAIL"), "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("DIFFERENT subscription: subscribed in the archive, not subscribed at the target"), "\(check.stdout)")
        folders = try Self.properties(report)
        #expect(folders["Projects"]?["subscribed"]?["outcome"] as? String == "different")
        #expect(folders["Projects"]?["acl"]?["outcome"] as? String == "notHeld")
        #expect(try Self.verdict(report) == "fail")
    }
}
