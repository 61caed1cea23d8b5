import Foundation
import Synchronization
import TestSupport
import Testing

/// A plan kept in PostgreSQL, exported by three worker processes at once from one real Dovecot, one of them killed
/// (SIGKILL) with an archive written and its lease held: the others take its user over once the lease expires, and in
/// the end every user is recorded exported exactly once, in an archive that verifies and holds that user alone.
@Suite(.serialized, .blocking) struct PlanWorkersTests {
    static let password = "worker-Secret-2026"
    static let users = (1...30).map { String(format: "user%02d@example.com", $0) }

    /// Runs the CLI on a thread of its own; `result` waits for it.
    final class Running: Sendable {
        private let outcome = Mutex<CLI.Result?>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(_ arguments: [String], environment: [String: String] = [:]) {
            Thread { [self] in
                let result =
                    (try? CLI.run(arguments, environment: environment))
                    ?? CLI.Result(status: -1, stdout: "", stderr: "could not run \(arguments)", stdoutBytes: Data())
                outcome.withLock { $0 = result }
                done.signal()
            }.start()
        }

        var isFinished: Bool { outcome.withLock { $0 != nil } }

        var result: CLI.Result {
            done.wait()
            done.signal()
            return outcome.withLock { $0! }
        }
    }

    @Test func threeWorkersOneKilledExportEveryUserExactlyOnce() throws {
        let work = try Workspace()
        let postgres = try PostgresTestServer(database: "plan")
        let source = try DovecotIMAPServer(users: Self.users.map { .init($0, Self.password) })
        for (n, user) in Self.users.enumerated() {
            let r = try Python.run([
                IMAPRoundTripTests.fixture, "load", "127.0.0.1", "\(source.imapPort)", user, Self.password,
                source.caFile, "\(n + 1)", "3",
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try CredentialsFile.write(Self.users.map { "\($0)\t\(Self.password)\n" }.joined(), to: work.file("source.tsv"))
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        try (Self.users.joined(separator: "\n") + "\n").write(
            toFile: work.file("users.csv"), atomically: true, encoding: .utf8)
        let initialized = try CLI.run([
            "plan", "init", "--users", work.file("users.csv"), "--source", "imap://127.0.0.1:\(source.imapPort)",
            "--target", "dir:" + work.file("target"), "--station-a", work.file("plan-a"), "--store", postgres.url,
            "--sign-key", work.file("a.key.pem"), "--archives", work.file("archives"), "--credentials",
            work.file("source.tsv"),
            "--ca-file", source.caFile,
        ])
        #expect(initialized.status == 0, "\(initialized.stdout) \(initialized.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.file("plan-a/plan.json")))

        // Each worker as on a machine of its own: a plan directory joined with the database's URL.
        func worker(_ name: String, environment: [String: String] = [:]) -> Running {
            Running(
                [
                    "plan", "export", "--plan", work.file("plan-" + name), "--store", postgres.url, "--worker",
                    "--worker-name", name, "--lease", "2s",
                ],
                environment: environment)
        }
        // w1 dies (SIGKILL) with its third user's archive written, before recording it; the others start once w1 has
        // recorded two users, so that w1 is surely mid-way when it dies.
        let w1 = worker("w1", environment: ["MAILFERRY_TEST_KILL_WORKER_AT": "3"])
        func recordedByW1() throws -> Int {
            Int(try postgres.psql("SELECT count(*) FROM plan_event WHERE worker = 'w1'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        var recorded = 0
        // A guard against a hang, not a measurement: w1 alone exports 30 users, and recording two takes moments.
        for _ in 0..<6000 where recorded < 2 && !w1.isFinished {
            recorded = try recordedByW1()
            if recorded < 2 { usleep(50_000) }
        }
        // w1 may record its second user and die at its third between two looks: counted again once it is done.
        if recorded < 2 { recorded = try recordedByW1() }
        #expect(recorded >= 2, "w1 recorded no two users")
        let (w2, w3) = (worker("w2"), worker("w3"))
        let (r1, r2, r3) = (w1.result, w2.result, w3.result)
        #expect(r1.status == SIGKILL, "w1 was to be killed: \(r1.status) \(r1.stdout) \(r1.stderr)")
        #expect(r2.status == 0, "\(r2.stdout) \(r2.stderr)")
        #expect(r3.status == 0, "\(r3.stdout) \(r3.stderr)")
        #expect((r2.stdout + r3.stdout).contains("taken over from worker w1"), "\(r2.stdout) \(r3.stdout)")

        // Every user recorded exported exactly once, by one of the three workers.
        let counts = try postgres.psql(
            "SELECT username, count(*), min(worker) FROM plan_event GROUP BY username ORDER BY username"
        )
        .split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
        #expect(counts.map { $0[0] } == Self.users.sorted())
        #expect(counts.allSatisfy { $0[1] == "1" }, "\(counts)")
        let byWorker = Dictionary(grouping: counts, by: { $0[2] }).mapValues(\.count)
        #expect(byWorker["w1"] == 2 && (byWorker["w2"] ?? 0) + (byWorker["w3"] ?? 0) == 28, "\(byWorker)")

        // plan status from the first machine: every user with one archive, nobody held; w1's archive named abandoned.
        let status = try CLI.run(["plan", "status", "--plan", work.file("plan-a"), "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let rows = try JSONSerialization.jsonObject(with: status.stdoutBytes) as? [[String: Any]] ?? []
        #expect(rows.count == 30)
        #expect(rows.allSatisfy { $0["archives"] as? Int == 1 && $0["holder"] == nil }, "\(status.stdout)")
        let abandoned = rows.compactMap { row in
            (row["abandoned"] as? [[String: Any]]).map { (row["user"] as! String, $0) }
        }
        #expect(abandoned.count == 1 && abandoned.first?.1.first?["holder"] as? String == "w1", "\(abandoned)")
        let abandonedPath = abandoned.first?.1.first?["path"] as? String
        #expect(
            abandonedPath?.contains("-w1") == true && FileManager.default.fileExists(atPath: abandonedPath ?? "/"),
            "\(abandoned)")
        let text = try CLI.run(["plan", "status", "--plan", work.file("plan-a")])
        #expect(text.stdout.contains("abandoned archive (worker w1 lost the lease"), "\(text.stdout)")

        // The report is complete.
        let report = try CLI.run(["plan", "report", "--plan", work.file("plan-a"), "--json", "-"])
        #expect(report.status == 0, "\(report.stderr)")
        let reported =
            (try JSONSerialization.jsonObject(with: report.stdoutBytes) as? [String: Any])?["users"] as? [[String: Any]]
            ?? []
        #expect(
            reported.compactMap { ($0["status"] as? [String: Any])?["user"] as? String }.sorted() == Self.users.sorted()
        )
        #expect(reported.allSatisfy { ($0["status"] as? [String: Any])?["archives"] as? Int == 1 })

        // The recorded archives verify, and together hold each user once.
        let paths = rows.compactMap { (($0["chain"] as? [[String: Any]])?.first?["path"]) as? String }
        #expect(Set(paths).count == 30 && !paths.contains(abandonedPath ?? ""))
        var seen: [String] = []
        for path in paths {
            let verify = try CLI.run(["verify", path, "--trust", work.file("a.pub.pem")])
            #expect(verify.status == 0, "\(path): \(verify.stdout) \(verify.stderr)")
            let inspect = try CLI.run(["inspect", path, "--json"])
            let users =
                (try JSONSerialization.jsonObject(with: inspect.stdoutBytes) as? [String: Any])?["users"]
                as? [[String: Any]] ?? []
            seen += users.compactMap { $0["address"] as? String }
        }
        #expect(seen.sorted() == Self.users.sorted(), "\(seen.sorted())")
    }

    /// Whether the process stands stopped (state T in /proc/PID/stat).
    static func isStopped(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("T")
    }

    @Test func aWorkerThatFrozePastItsLeaseDoesNotRecordAndRemovesItsArchive() throws {
        let work = try Workspace()
        let postgres = try PostgresTestServer(database: "plan")
        let store = try work.sampleStore()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        try "alice@example.com\nbob@example.com\n".write(
            toFile: work.file("users.csv"), atomically: true, encoding: .utf8)
        let initialized = try CLI.run([
            "plan", "init", "--users", work.file("users.csv"), "--source", "dir:" + store, "--target",
            "dir:" + work.file("new"),
            "--station-a", work.file("plan-a"), "--store", postgres.url, "--sign-key", work.file("a.key.pem"),
            "--archives", work.file("archives"),
        ])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        // w1 takes alice, exports her, and stops before recording: its lease (1 s) is not renewed.
        let output = work.file("w1.out")
        FileManager.default.createFile(atPath: output, contents: nil)
        let w1 = Process()
        w1.executableURL = URL(fileURLWithPath: CLI.binary)
        w1.arguments = [
            "plan", "export", "--plan", work.file("plan-1"), "--store", postgres.url, "--worker", "--worker-name", "w1",
            "--lease", "1s",
        ]
        w1.environment = ProcessInfo.processInfo.environment.merging(["MAILFERRY_TEST_STOP_WORKER_AT": "1"]) { $1 }
        w1.standardOutput = FileHandle(forWritingAtPath: output)
        w1.standardError = FileHandle.nullDevice
        try w1.run()
        defer {
            if w1.isRunning {
                kill(w1.processIdentifier, SIGKILL)
                kill(w1.processIdentifier, SIGCONT)
                w1.waitUntilExit()
            }
        }
        // A guard against a hang, not a measurement.
        for _ in 0..<6000 where w1.isRunning && !Self.isStopped(w1.processIdentifier) { usleep(20_000) }
        #expect(Self.isStopped(w1.processIdentifier), "w1 did not stop before recording")
        let written = try postgres.psql("SELECT lease_archive FROM plan_user WHERE holder = 'w1'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(written.contains("-w1") && FileManager.default.fileExists(atPath: written), "\(written)")

        // w2 exports bob, waits for w1's lease on alice to end, takes her over and records her.
        let w2 = try CLI.run([
            "plan", "export", "--plan", work.file("plan-2"), "--store", postgres.url, "--worker", "--worker-name", "w2",
            "--lease", "1s",
        ])
        #expect(
            w2.status == 0 && w2.stdout.contains("alice@example.com: pass")
                && w2.stdout.contains("taken over from worker w1"), "\(w2.stdout) \(w2.stderr)")

        // w1 goes on: its export is not recorded, its archive is removed, and it ends with nothing left to do.
        kill(w1.processIdentifier, SIGCONT)
        w1.waitUntilExit()
        let said = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(w1.terminationStatus == 0, "\(said)")
        #expect(said.contains("lost to other workers") && said.contains("alice@example.com"), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: written))
        let events = try postgres.psql("SELECT username, worker FROM plan_event ORDER BY username")
        #expect(events == "alice@example.com|w2\nbob@example.com|w2\n", "\(events)")
        let status = try CLI.run(["plan", "status", "--plan", work.file("plan-a"), "--json"])
        let rows = try JSONSerialization.jsonObject(with: status.stdoutBytes) as? [[String: Any]] ?? []
        #expect(
            rows.count == 2 && rows.allSatisfy { $0["archives"] as? Int == 1 && $0["abandoned"] == nil },
            "\(status.stdout)")
    }

    @Test func aWorkerOnAPlanKeptInItsJournalFileIsRefused() throws {
        let work = try Workspace()
        try "alice@example.com\n".write(toFile: work.file("users.csv"), atomically: true, encoding: .utf8)
        #expect(
            try CLI.run([
                "plan", "init", "--users", work.file("users.csv"), "--source", "dir:" + work.file("old"), "--target",
                "dir:" + work.file("new"),
                "--station-a", work.file("plan"),
            ]).status == 0)
        let refused = try CLI.run(["plan", "export", "--plan", work.file("plan"), "--worker"])
        #expect(refused.status == 2 && refused.stderr.contains("PostgreSQL"), "\(refused.stderr)")
    }
}
