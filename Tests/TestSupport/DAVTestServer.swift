import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real CalDAV/CardDAV server started for one test from a configuration in a temporary folder
/// (`/tmp/mf-dav-XXXXXXXX`) on a free port of 127.0.0.1, and killed at the end; never one assumed to be running.
///
/// - `radicale(users:)`: Radicale (Debian `radicale`), htpasswd users with plain passwords, each user's collections
///   under `/<user>/`, over HTTPS with a test CA made with `openssl` (`caFile`), so the client's `davs://` is tested.
/// - `xandikos(principal:)`: Xandikos (Debian `xandikos`), which has one user and no logins of its own, over plain
///   HTTP; its principal and home sets are made on first use (`--autocreate`), no collection in them.
public final class DAVTestServer {
    public let root: String
    public let port: Int
    public let tls: Bool
    private let process = Process()

    public var caFile: String { root + "/ca.pem" }
    /// `http://127.0.0.1:PORT` or `https://...`, for the Python client.
    public var base: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    public var log: String { (try? String(contentsOfFile: root + "/server.log", encoding: .utf8)) ?? "(no log)" }

    public static func radicale(users: [(String, String)]) throws -> DAVTestServer {
        try DAVTestServer(tls: true) { root, port in
            try users.map { "\($0.0):\($0.1)\n" }.joined().write(toFile: root + "/users", atomically: true, encoding: .utf8)
            try """
                [server]
                hosts = 127.0.0.1:\(port)
                ssl = True
                certificate = \(root)/server.pem
                key = \(root)/server.key
                [auth]
                type = htpasswd
                htpasswd_filename = \(root)/users
                htpasswd_encryption = plain
                [storage]
                filesystem_folder = \(root)/collections
                [rights]
                type = owner_only
                [logging]
                level = warning

                """.write(toFile: root + "/config", atomically: true, encoding: .utf8)
            return ["/usr/bin/radicale", "--config", root + "/config"]
        }
    }

    public static func xandikos(principal: String) throws -> DAVTestServer {
        try DAVTestServer(tls: false) { root, port in
            ["/usr/bin/xandikos", "-d", root + "/data", "--autocreate", "-l", "127.0.0.1", "-p", "\(port)",
             "--current-user-principal", "/\(principal)/"]
        }
    }

    /// Writes the configuration with `configure(root, port)`, which returns the command line; starts it and waits
    /// until the port accepts connections (at most 20 s).
    init(tls: Bool, configure: (String, Int) throws -> [String]) throws {
        root = "/tmp/mf-dav-\(UUID().uuidString.prefix(8))"
        self.tls = tls
        port = try FreePort.make()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        do {
            if tls { try makeCertificates() }
            let command = try configure(root, port)
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            FileManager.default.createFile(atPath: root + "/server.log", contents: nil)
            let log = FileHandle(forWritingAtPath: root + "/server.log")
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while !FreePort.accepts(port) {
                guard process.isRunning, Date() < deadline else {
                    throw DovecotIMAPFailure(message: "\(command[0]) did not listen on port \(port): \(self.log)")
                }
                usleep(50_000)
            }
        } catch {
            stop()
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    private func stop() {
        guard process.isRunning else { return }
        // SIGKILL: the test runner's blocked signals are inherited, so SIGTERM could wait.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A CA and a server certificate it signs for 127.0.0.1 and localhost.
    private func makeCertificates() throws {
        try TestCertificateAuthority.make(in: root)
    }
}
