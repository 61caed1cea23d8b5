import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `export --jobs N` reads users side by side into one archive that is the same as with one job: the same
/// manifest (entries, order, sizes, hashes, metadata, offsets and frames), only the archive id and time differ.
@Suite(.serialized, .blocking) struct ParallelExportTests {
    static let users = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    static func password(_ user: String) -> String { "pw-\(user.prefix(while: { $0 != "@" }))-Secret-31" }

    /// The manifest's lines, the archive line without its id and creation time.
    static func manifest(_ archive: String) throws -> [String] {
        let r = try Tool.run("/bin/tar", ["--zstd", "-xOf", archive, "mailferry/manifest.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        var lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count > 1)
        if !lines.isEmpty {
            lines[0] = lines[0]
                .replacingOccurrences(of: #""archiveID":"[0-9a-f]+""#, with: "", options: .regularExpression)
                .replacingOccurrences(of: #""created":"[^"]+""#, with: "", options: .regularExpression)
        }
        return lines
    }

    /// Names in `directory` other than `keep`: what an export left behind.
    static func leftovers(_ directory: String, keep: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { !keep.contains($0) }.sorted()
    }

    static func verify(_ archive: String, _ work: Workspace) throws {
        let v = try CLI.run(["verify", archive, "--trust", work.file("k.pub.pem")])
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
    }

    // MARK: dir: source

    /// A dir: store of five users: the two sample users, two copies of alice under other names, and one with
    /// 9 MB of mail, so that frames are cut inside users and where they fall depends on the users before.
    static func store(_ work: Workspace) throws -> String {
        let store = try work.sampleStore()
        for copy in ["carol@example.com", "dave@example.com"] {
            let r = try Tool.run("/bin/cp", ["-a", store + "/alice@example.com", store + "/" + copy])
            #expect(r.status == 0)
        }
        let maildir = store + "/big@example.com/Maildir"
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: maildir + "/" + sub, withIntermediateDirectories: true)
        }
        var random = SplitMix64(seed: 5)
        for i in 0..<90 {
            let size = 20_000 + Int(random.next() % 180_000)
            var body = [UInt8]()
            body.reserveCapacity(size)
            for n in 0..<size { body.append(n % 77 == 76 ? 10 : UInt8(33 + random.next() % 90)) }
            let message = Data("From: s\(i)@example.org\nSubject: big \(i)\nMessage-ID: <b\(i)@example.org>\n\n".utf8) + Data(body)
            try message.write(to: URL(fileURLWithPath: maildir + "/cur/\(1_700_000_000 + i).M\(i)P1.host:2,S"))
        }
        return store
    }

    @Test func aDirSourceOfSeveralUsersGivesTheSameArchiveWithAnyNumberOfJobs() throws {
        let work = try Workspace()
        let store = try Self.store(work)
        #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        let out = work.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func export(_ name: String, _ extra: [String]) throws -> [String] {
            let archive = out + "/" + name
            let r = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("k.key.pem"), "--out", archive] + extra)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
            #expect(r.stdout.contains("users: alice@example.com, big@example.com, bob@example.com, carol@example.com, dave@example.com"), "\(r.stdout)")
            try Self.verify(archive, work)
            return try Self.manifest(archive)
        }
        let one = try export("one.mfa", [])
        #expect(one.filter { $0.hasPrefix("{\"entry\"") }.count > 100)
        // Default spool limit; a limit of 0 (users ahead wait before their first item); a limit that a user ahead
        // reaches in the middle, so that it goes on straight into the archive after its spool is copied.
        for (name, extra) in [
            ("three.mfa", ["--jobs", "3"]), ("zero.mfa", ["--jobs", "3", "--spool-limit", "0"]),
            ("some.mfa", ["--jobs", "5", "--spool-limit", "600K"]),
        ] {
            let lines = try export(name, extra)
            #expect(lines == one, "\(extra): the manifest differs from one job's")
        }
        #expect(try Self.leftovers(out, keep: ["one.mfa", "three.mfa", "zero.mfa", "some.mfa"]).isEmpty)

        // The parallel archive imports, and the target then holds what the single-job archive holds (file names
        // differ, since they carry the archive's id).
        let imported = try CLI.run(["import", out + "/some.mfa", "--trust", work.file("k.pub.pem"), "--target", "dir:" + work.file("t")])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        let check = try CLI.run(["reconcile", out + "/one.mfa", "--trust", work.file("k.pub.pem"), "--target", "dir:" + work.file("t")])
        #expect(check.status == 0 && check.stdout.contains("verdict: PASS"), "\(check.stdout) \(check.stderr)")
    }

    @Test func jobsAndSpoolLimitAreChecked() throws {
        let work = try Workspace()
        for bad in [["--jobs", "0"], ["--jobs", "65"], ["--jobs", "2", "--spool-limit", "12X"], ["--spool-limit", "-1"]] {
            let r = try CLI.run(["export", "--source", "dir:/nonexistent", "--sign-key", "k", "--out", work.file("x.mfa")] + bad)
            #expect(r.status == 64 || r.status == 2, "\(bad): \(r.status) \(r.stderr)")
        }
        // export --help shows only what export uses.
        let help = try CLI.run(["export", "--help"])
        #expect(help.stdout.contains("--jobs") && help.stdout.contains("--spool-limit") && help.stdout.contains("--credentials"))
        #expect(!help.stdout.contains("--journal") && !help.stdout.contains("--max-bad-items"), "\(help.stdout)")
        let importHelp = try CLI.run(["import", "--help"])
        #expect(importHelp.stdout.contains("--journal") && importHelp.stdout.contains("--max-bad-items"))
        let reconcileHelp = try CLI.run(["reconcile", "--help"])
        #expect(reconcileHelp.stdout.contains("--journal") && reconcileHelp.stdout.contains("--max-bad-items"))
    }

    // MARK: IMAP source

    final class Servers {
        let work: Workspace
        let source: DovecotIMAPServer
        let target: DovecotIMAPServer
        let credentials: String

        init() throws {
            work = try Workspace()
            let users = ParallelExportTests.users.map { DovecotIMAPServer.User($0, ParallelExportTests.password($0)) }
            source = try DovecotIMAPServer(users: users)
            target = try DovecotIMAPServer(users: users)
            credentials = work.file("credentials.tsv")
            try CredentialsFile.write(
                ParallelExportTests.users.map { "\($0)\t\(ParallelExportTests.password($0))\n" }.joined(), to: credentials)
            #expect(try CLI.run(["keygen", "--out", work.file("k")]).status == 0)
        }

        var sourceURL: String { "imap://127.0.0.1:\(source.imapPort)" }

        func load(_ user: String, seed: Int, count: Int, bigMB: Int = 0) throws {
            let r = try Python.run([IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(source.imapPort)", user, ParallelExportTests.password(user), source.caFile, "\(seed)", "\(count)", "\(bigMB)"])
            #expect(r.status == 0, "\(r.stderr)")
        }

        func dump(_ server: DovecotIMAPServer, _ user: String) throws -> String {
            let r = try Python.run([IMAPRoundTripTests.fixture, "dump", "127.0.0.1", "\(server.imapPort)", user, ParallelExportTests.password(user), server.caFile])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }

        func exportArguments(_ out: String, jobs: Int, credentials: String? = nil) -> [String] {
            ["export", "--source", sourceURL, "--users", usersFile, "--credentials", credentials ?? self.credentials,
             "--ca-file", source.caFile, "--sign-key", work.file("k.key.pem"), "--out", out, "--jobs", "\(jobs)"]
        }

        var usersFile: String {
            let path = work.file("users.txt")
            if !FileManager.default.fileExists(atPath: path) {
                try? ParallelExportTests.users.map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
            }
            return path
        }
    }

    @Test func threeIMAPJobsWriteTheSameArchiveAsOneAndItRoundTrips() throws {
        let s = try Servers()
        // Users of different sizes: large attachments, a few messages, many, and none at all.
        try s.load("alice@example.com", seed: 21, count: 120, bigMB: 3)
        try s.load("bob@example.com", seed: 22, count: 12)
        try s.load("carol@example.com", seed: 23, count: 300)
        try s.load("dave@example.com", seed: 24, count: 0)
        let out = s.work.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let one = try CLI.run(s.exportArguments(out + "/one.mfa", jobs: 1))
        #expect(one.status == 0, "\(one.stderr)")
        let three = try CLI.run(s.exportArguments(out + "/three.mfa", jobs: 3))
        #expect(three.status == 0, "\(three.stderr)")
        #expect(three.stdout.contains("messages 432"), "\(three.stdout)")
        let small = try CLI.run(s.exportArguments(out + "/small.mfa", jobs: 3) + ["--spool-limit", "1M"])
        #expect(small.status == 0, "\(small.stderr)")
        let reference = try Self.manifest(out + "/one.mfa")
        #expect(try Self.manifest(out + "/three.mfa") == reference)
        #expect(try Self.manifest(out + "/small.mfa") == reference)
        try Self.verify(out + "/three.mfa", s.work)
        try Self.verify(out + "/small.mfa", s.work)
        #expect(try Self.leftovers(out, keep: ["one.mfa", "three.mfa", "small.mfa"]).isEmpty)

        let imported = try CLI.run([
            "import", out + "/three.mfa", "--trust", s.work.file("k.pub.pem"), "--target", "imaps://127.0.0.1:\(s.target.imapsPort)",
            "--credentials", s.credentials, "--ca-file", s.target.caFile, "--journal", s.work.file("journal"), "--jobs", "2",
        ])
        #expect(imported.status == 0 && imported.stdout.contains("verdict: PASS"), "\(imported.stdout) \(imported.stderr)")
        for user in Self.users {
            let before = try s.dump(s.source, user), after = try s.dump(s.target, user)
            #expect(!before.isEmpty && before == after, "\(user): \(IMAPRoundTripTests.difference(before, after))")
        }
    }

    @Test func aFailingJobStopsTheExportNamingItsUserAndLeavesNothing() throws {
        let s = try Servers()
        try s.load("alice@example.com", seed: 31, count: 40, bigMB: 30)
        try s.load("bob@example.com", seed: 32, count: 30)
        try s.load("carol@example.com", seed: 33, count: 30)
        try s.load("dave@example.com", seed: 34, count: 30)
        let out = s.work.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let archive = out + "/a.mfa"

        // carol's password is wrong: the export stops with her error, whatever the other jobs were doing.
        let wrong = s.work.file("wrong.tsv")
        try CredentialsFile.write(Self.users.map { "\($0)\t\($0 == "carol@example.com" ? "not-her-password" : Self.password($0))\n" }.joined(), to: wrong)
        let denied = try CLI.run(s.exportArguments(archive, jobs: 3, credentials: wrong))
        #expect(denied.status == 3, "\(denied.stdout) \(denied.stderr)")
        #expect(denied.stderr.contains("export of carol@example.com failed"), "\(denied.stderr)")
        #expect(!denied.stderr.contains("not-her-password"))
        #expect(try Self.leftovers(out, keep: []).isEmpty)

        // Killed with SIGKILL while jobs read ahead: nothing under the final name, no spool left, only the partial
        // file, which the next run replaces.
        let killed = try CLI.start(s.exportArguments(archive, jobs: 3))
        while killed.isRunning, Self.size(archive + ".partial") < 3_000_000 { usleep(5_000) }
        #expect(killed.isRunning, "the export ended before it could be killed")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(try Self.leftovers(out, keep: ["a.mfa.partial"]).isEmpty)
        let again = try CLI.run(s.exportArguments(archive, jobs: 3))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.leftovers(out, keep: ["a.mfa"]).isEmpty)
        try Self.verify(archive, s.work)
        try FileManager.default.removeItem(atPath: archive)

        // The server stops in the middle: once the reconnects give up, the export stops naming a user, with no
        // final file and nothing else left.
        let log = s.work.file("export.stderr")
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = s.exportArguments(archive, jobs: 3)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        while process.isRunning, Self.size(archive + ".partial") < 3_000_000 { usleep(5_000) }
        #expect(process.isRunning, "the export ended before the server could be stopped")
        s.source.stop()
        process.waitUntilExit()
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 3, "\(said)")
        #expect(said.contains("export of ") && said.contains("@example.com failed"), "\(said)")
        #expect(try Self.leftovers(out, keep: []).isEmpty)
    }

    static func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}

/// Runs a program and collects its output.
enum Tool {
    static func run(_ program: String, _ arguments: [String]) throws -> CLI.Result { try ProcessRunner.run(program, arguments) }
}
