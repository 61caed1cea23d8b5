import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `postgres` on a free loopback port
/// (its unix socket in the same folder), one database made for the test; stopped and removed on `stop(remove:)`
/// or deinit. initdb refuses to run as root, so as root the cluster belongs to `nobody` (its folder is chowned to
/// it and every server program runs through `setpriv` as `nobody`); as anyone else it runs as that user.
///
/// The binaries are looked up in /usr/lib/postgresql/*/bin (Debian's `postgresql` package), the newest first.
public final class PostgresTestServer: @unchecked Sendable {
    public let root: String
    /// Chosen when the server first starts; a restart (`stop()`, `start()`) keeps it.
    public private(set) var port: Int
    public let user = "mailferry"
    public let database: String
    /// `postgres://mailferry@127.0.0.1:PORT/DB`: trust authentication on loopback, so no password.
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }
    public var dataDirectory: String { root + "/data" }
    private let bin: String
    private var process: SpawnedProcess?

    /// Where the server programs are; nil when PostgreSQL is not installed.
    public static var binDirectory: String? {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .filter { FileManager.default.isExecutableFile(atPath: "\(base)/\($0)/bin/postgres") }
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.first.map { "\(base)/\($0)/bin" }
    }

    public static var isInstalled: Bool { binDirectory != nil }

    /// With TLS, where the CA that signed the server's certificate is (`ca.pem`), for `sslrootcert`.
    public let certificateAuthority: String?

    /// `tls`: the server takes TCP connections over TLS only (its certificate signed by a throwaway CA for
    /// 127.0.0.1, `certificateAuthority`); a connection without TLS is rejected by pg_hba.conf.
    public init(database: String = "spool", tls: Bool = false) throws {
        guard let bin = Self.binDirectory else {
            throw FixtureError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): apt-get install postgresql")
        }
        self.bin = bin
        self.database = database
        var template = Array("/tmp/mailferry-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed: \(errno)") }
        root = String(cString: made)
        certificateAuthority = tls ? root + "/tls/ca.pem" : nil
        port = try FreePort.make()
        if getuid() == 0 {
            guard chown(root, Self.nobody.uid, Self.nobody.gid) == 0 else { throw FixtureError("chown \(root) failed: \(errno)") }
        }
        chmod(root, 0o700)
        let initdb = try runAsOwner(
            "initdb", ["-D", dataDirectory, "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        guard initdb.status == 0 else { throw FixtureError("initdb failed: \(initdb.stderr)\(initdb.stdout)") }
        if tls {
            // The certificate and key inside the data folder, which belongs to the server's user: PostgreSQL
            // refuses a key that others can read or that belongs to somebody else.
            let folder = root + "/data"
            let made = root + "/tls"
            try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
            try TestCertificateAuthority.make(in: made)
            for name in ["server.pem", "server.key"] {
                try FileManager.default.copyItem(atPath: made + "/" + name, toPath: folder + "/" + name)
                if getuid() == 0 { chown(folder + "/" + name, Self.nobody.uid, Self.nobody.gid) }
            }
            chmod(folder + "/server.key", 0o600)
            try "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
                .write(toFile: folder + "/pg_hba.conf", atomically: false, encoding: .utf8)
            try "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n"
                .write(toFile: folder + "/postgresql.auto.conf", atomically: false, encoding: .utf8)
        }
        // The port is chosen again just before the first start: initdb takes seconds, in which any client's
        // ephemeral port may become the one chosen above. One taken meanwhile is replaced by another.
        for attempt in 1... {
            port = try FreePort.make()
            do {
                try start()
                break
            } catch let error as FixtureError where attempt < 5 && error.description.contains("Address already in use") {
                continue
            }
        }
        let created = try runAsOwner(
            "createdb", ["-h", root, "-p", String(port), "-U", user, database])
        guard created.status == 0 else { throw FixtureError("createdb failed: \(created.stderr)") }
    }

    deinit {
        stop(remove: true)
    }

    /// Starts the server (again, after `stop()`) in the foreground as a child of the test (spawned as
    /// `DovecotIMAPServer` spawns Dovecot, with a clean signal mask) and waits until it accepts connections.
    public func start() throws {
        let server = bin + "/postgres"
        let arguments = [
            "-D", dataDirectory, "-p", String(port), "-k", root, "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=200", "-c", "shared_buffers=32MB",
        ]
        process = try getuid() == 0
            ? SpawnedProcess("/usr/bin/setpriv", arguments: Self.asNobody + [server] + arguments, outputFile: root + "/server.log")
            : SpawnedProcess(server, arguments: arguments, outputFile: root + "/server.log")
        let deadline = Date().addingTimeInterval(60)
        // Which way the wait ended and pg_isready's last answer go into the failure: CI once reported a server
        // whose log said it was ready as not started, and the message could not tell why.
        var ended = "no answer from pg_isready within 60 s"
        var lastAnswer = "pg_isready never ran: the port never accepted a connection"
        while Date() < deadline {
            guard let process, process.isRunning else {
                ended = "the server process ended (\(process?.ending ?? "no process"))"
                break
            }
            if FreePort.accepts(port) {
                do {
                    let ready = try runAsOwner(
                        "pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres"])
                    if ready.status == 0 { return }
                    lastAnswer = "pg_isready exited \(ready.status): \(ready.stdout)\(ready.stderr)"
                } catch {
                    lastAnswer = "pg_isready could not run: \(error)"
                }
            }
            usleep(50_000)
        }
        let log = (try? String(contentsOfFile: root + "/server.log", encoding: .utf8)) ?? ""
        stop()
        throw FixtureError(
            "postgres did not start on 127.0.0.1:\(port): \(ended); \(lastAnswer)\nits log:\n\(log.suffix(2000))")
    }

    /// Stops the server at once (SIGQUIT, PostgreSQL's immediate shutdown: clients see their connections cut, as
    /// when a database host fails) and waits until it has exited; `remove` also deletes its folder.
    public func stop(remove: Bool = false) {
        if let process {
            process.signal(SIGQUIT)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.signal(SIGKILL) }
            while process.isRunning { usleep(20_000) }
            self.process = nil
        }
        if remove { try? FileManager.default.removeItem(atPath: root) }
    }

    /// Runs one SQL command with psql and returns its output (unaligned, tuples only).
    public func psql(_ sql: String) throws -> String {
        let output = try runAsOwner(
            "psql", ["-h", root, "-p", String(port), "-U", user, "-d", database, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard output.status == 0 else { throw FixtureError("psql failed: \(output.stderr)") }
        return output.stdout
    }

    /// setpriv's arguments that run the rest as `nobody` (it execs the program: no extra process in between).
    private static var asNobody: [String] {
        let (uid, gid) = nobody
        return ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"]
    }

    private func runAsOwner(_ program: String, _ arguments: [String]) throws -> ProcessOutput {
        if getuid() == 0 {
            return try ProcessRunner.run(
                "/usr/bin/setpriv", Self.asNobody + [bin + "/" + program] + arguments, directory: root, limit: 120)
        }
        return try ProcessRunner.run(bin + "/" + program, arguments, directory: root, limit: 120)
    }

    private static var nobody: (uid: uid_t, gid: gid_t) {
        guard let entry = getpwnam("nobody") else { return (65534, 65534) }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }
}

/// A fixture could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
