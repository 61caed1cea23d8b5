import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real Dovecot IMAP server for tests, started from its own configuration in a temporary root
/// (`/tmp/mf-imap-XXXXXXXX`) and stopped at the end: a plain port (STARTTLS offered when TLS is on) and an
/// implicit-TLS port on 127.0.0.1, passwd-file users with `{PLAIN}` passwords, an optional master user
/// (`user*master` logins and SASL PLAIN with an authorization identity), Maildir mail written as `nobody`
/// (Dovecot refuses uid 0, and tests may run as root), the ACL plugin (unless `acl` is false), special-use folders,
/// and a test CA made with `openssl` whose certificate is `caFile`. With `lmtp`, LMTP too, on a loopback port and a
/// Unix socket (for the same users; Dovecot stores what it is given in the user's Maildir). With `sieve`,
/// Pigeonhole's ManageSieve (RFC 5804) too, on a loopback port (`sievePort`), STARTTLS when TLS is on; each user's
/// scripts live in `sieve/` under the user's home, the active one linked from `.dovecot.sieve`.
public final class DovecotIMAPServer {
    public struct User: Sendable {
        public var name: String
        public var password: String
        public init(_ name: String, _ password: String) {
            self.name = name
            self.password = password
        }
    }

    public let root: String
    public let imapPort: Int
    public let imapsPort: Int
    /// The LMTP port (0 without `lmtp`), and the LMTP Unix socket.
    public let lmtpPort: Int
    /// The ManageSieve port (0 without `sieve`).
    public let sievePort: Int
    /// Pigeonhole's largest script (`sieve_max_script_size`), with `sieve`.
    public let maxScriptSize: String
    /// Pigeonhole's `sieve_extensions` (e.g. `-imap4flags`: a server that cannot run scripts needing it), or nil.
    public let sieveExtensions: String?
    public var lmtpSocket: String { root + "/run/lmtp" }
    public let tls: Bool
    public let allowPlaintextAuth: Bool
    public let users: [User]
    public let masterUser: User?
    /// The server certificate's subjectAltName.
    public let subjectAltName: String
    /// The folder with the `\\Sent` special use (RFC 6154), created and subscribed for every user.
    public let sentFolder: String
    /// With a size (`"100k"`), the quota plugin refuses larger messages (`quota_max_mail_size`): a server that
    /// refuses items, for bad-item tests.
    public let maxMailSize: String?
    /// Whether the ACL plugin is loaded (RFC 4314 GETACL and SETACL); false for a server without the ACL extension.
    public let acl: Bool
    var process: SpawnedProcess?

    public var caFile: String { root + "/ca.pem" }
    /// The Dovecot master's process id (also its process group), or 0 when stopped.
    public var masterPID: Int32 { process.map { $0.isRunning ? $0.pid : 0 } ?? 0 }
    public var config: String { root + "/dovecot.conf" }
    public func maildir(_ user: String) -> String { root + "/mail/\(user)/Maildir" }

    /// Dovecot's log and its standard error, for failure messages.
    public var log: String {
        ((try? String(contentsOfFile: root + "/dovecot.log", encoding: .utf8)) ?? "(no dovecot.log)") + "\n"
            + ((try? String(contentsOfFile: root + "/stderr.log", encoding: .utf8)) ?? "")
    }

    /// Starts Dovecot; throws with its log if it does not listen within 15 s.
    public init(
        users: [User], masterUser: User? = nil, allowPlaintextAuth: Bool = false, tls: Bool = true,
        subjectAltName: String = "IP:127.0.0.1,DNS:localhost", sentFolder: String = "Sent", maxMailSize: String? = nil,
        lmtp: Bool = false, acl: Bool = true, sieve: Bool = false, maxScriptSize: String = "1M",
        sieveExtensions: String? = nil
    ) throws {
        self.maxScriptSize = maxScriptSize
        self.sieveExtensions = sieveExtensions
        self.acl = acl
        self.subjectAltName = subjectAltName
        self.sentFolder = sentFolder
        self.maxMailSize = maxMailSize
        root = "/tmp/mf-imap-\(UUID().uuidString.prefix(8))"
        self.users = users
        self.masterUser = masterUser
        self.allowPlaintextAuth = allowPlaintextAuth
        self.tls = tls
        try FileManager.default.createDirectory(atPath: root + "/mail", withIntermediateDirectories: true)
        chmod(root, 0o755)
        chmod(root + "/mail", 0o777)  // Dovecot writes mail as `nobody`
        imapPort = try FreePort.make()
        var other = try FreePort.make()
        while other == imapPort { other = try FreePort.make() }
        imapsPort = other
        var lmtpPort = 0
        if lmtp {
            lmtpPort = try FreePort.make()
            while [imapPort, imapsPort].contains(lmtpPort) { lmtpPort = try FreePort.make() }
        }
        self.lmtpPort = lmtpPort
        var sievePort = 0
        if sieve {
            sievePort = try FreePort.make()
            while [imapPort, imapsPort, lmtpPort].contains(sievePort) { sievePort = try FreePort.make() }
        }
        self.sievePort = sievePort
        do {
            if tls { try makeCertificates() }
            try writeConfiguration()
            try start()
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

    /// Stops and starts Dovecot on the same ports with the same mail.
    public func restart() throws {
        stop()
        try start()
    }

    /// Ends every Dovecot process, sessions included, as a system restart does (by default Dovecot's own
    /// shutdown leaves TLS sessions running in their login processes): SIGTERM to the process group, SIGKILL if
    /// the master has not gone after 5 s; then waits until the ports are free.
    public func stop() {
        guard let master = process else { return }
        defer { master.signal(SIGKILL) }  // stragglers of the group, if any
        for signal in [SIGTERM, SIGKILL] {
            master.signal(signal)
            let deadline = Date().addingTimeInterval(5)
            while master.isRunning && Date() < deadline { usleep(20_000) }
            if !master.isRunning { break }
        }
        // Login and imap processes exit once the master is gone.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && listeningPorts.contains(where: FreePort.accepts) { usleep(20_000) }
    }

    func start() throws {
        let master: SpawnedProcess
        do {
            master = try SpawnedProcess(
                "/usr/sbin/dovecot", arguments: ["-F", "-c", config], outputFile: root + "/stderr.log")
        } catch {
            throw DovecotIMAPFailure(message: "cannot run /usr/sbin/dovecot (install dovecot-imapd): \(error)")
        }
        process = master
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if !master.isRunning { break }
            if listeningPorts.allSatisfy(FreePort.accepts) { return }
            usleep(20_000)
        }
        stop()
        throw DovecotIMAPFailure(message: "Dovecot did not start listening on 127.0.0.1:\(imapPort). Log:\n\(log)")
    }

    /// The TCP ports this server listens on.
    var listeningPorts: [Int] {
        [imapPort] + (tls ? [imapsPort] : []) + (lmtpPort != 0 ? [lmtpPort] : []) + (sievePort != 0 ? [sievePort] : [])
    }

    /// A user's home (the userdb's), where Pigeonhole keeps `sieve/` and `.dovecot.sieve`.
    public func home(_ user: String) -> String { root + "/mail/\(user)" }

    func writeConfiguration() throws {
        let passwords = users.map { "\($0.name):{PLAIN}\($0.password)::::::" }.joined(separator: "\n") + "\n"
        try passwords.write(toFile: root + "/users", atomically: true, encoding: .utf8)
        var masterPassdb = ""
        if let masterUser {
            try "\(masterUser.name):{PLAIN}\(masterUser.password)::::::\n"
                .write(toFile: root + "/masters", atomically: true, encoding: .utf8)
            masterPassdb = """
                passdb {
                  driver = passwd-file
                  args = \(root)/masters
                  master = yes
                  pass = yes
                }

                """
        }
        let ssl =
            tls
            ? """
            ssl = yes
            ssl_cert = <\(root)/server.pem
            ssl_key = <\(root)/server.key
            """ : "ssl = no"
        try """
            base_dir = \(root)/run
            state_dir = \(root)/state
            log_path = \(root)/dovecot.log
            protocols = imap\(lmtpPort != 0 ? " lmtp" : "")\(sievePort != 0 ? " sieve" : "")
            listen = 127.0.0.1
            lmtp_save_to_detail_mailbox = no
            \(ssl)
            disable_plaintext_auth = \(allowPlaintextAuth ? "no" : "yes")
            auth_mechanisms = plain login
            auth_master_user_separator = *
            default_internal_user = nobody
            default_internal_group = nogroup
            default_login_user = nobody
            mail_uid = nobody
            mail_gid = nogroup
            first_valid_uid = 1
            mail_location = maildir:\(root)/mail/%u/Maildir
            mail_plugins =\(acl ? " acl" : "")\(maxMailSize == nil ? "" : " quota")
            protocol imap {
              mail_plugins = $mail_plugins\(acl ? " imap_acl" : "")
            }
            plugin {
              acl = vfile
              # A master login acts with the user's own rights (by default the ACL identity is the master user).
              acl_user = %u
            \(maxMailSize.map { "  quota = maildir:User quota\n  quota_rule = *:storage=10G\n  quota_max_mail_size = \($0)" } ?? "")
            \(sievePort == 0 ? "" : "  sieve = file:~/sieve;active=~/.dovecot.sieve\n  sieve_max_script_size = \(maxScriptSize)\(sieveExtensions.map { "\n  sieve_extensions = \($0)" } ?? "")")
            }
            namespace inbox {
              inbox = yes
              separator = /
              mailbox "\(sentFolder)" {
                special_use = \\Sent
                auto = subscribe
              }
              mailbox Drafts {
                special_use = \\Drafts
                auto = subscribe
              }
              mailbox Trash {
                special_use = \\Trash
                auto = create
              }
              mailbox Junk {
                special_use = \\Junk
                auto = no
              }
            }
            \(masterPassdb)
            passdb {
              driver = passwd-file
              args = \(root)/users
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(root)/mail/%u
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = \(imapPort)
              }
              inet_listener imaps {
                address = 127.0.0.1
                port = \(tls ? imapsPort : 0)
                ssl = yes
              }
            }
            \(lmtpPort == 0 ? "" : "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = \(lmtpPort)\n  }\n  unix_listener lmtp {\n    mode = 0666\n  }\n}")
            \(sievePort == 0 ? "" : "service managesieve-login {\n  inet_listener sieve {\n    address = 127.0.0.1\n    port = \(sievePort)\n  }\n}")
            service stats {
              unix_listener stats-reader {
                mode = 0666
              }
              unix_listener stats-writer {
                mode = 0666
              }
            }

            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// A CA, and a server certificate it signs for CN=localhost with `subjectAltName` (by default
    /// IP:127.0.0.1,DNS:localhost).
    func makeCertificates() throws {
        try TestCertificateAuthority.make(in: root, subjectAltName: subjectAltName)
    }
}

public struct DovecotIMAPFailure: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Ports on 127.0.0.1 for servers the tests start.
public enum FreePort {
    /// A port nothing listens on right now (bound to port 0 and read back, then released).
    public static func make() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard bound else { throw DovecotIMAPFailure(message: "cannot bind a port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                connect(fd, p, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A child process started with every signal unblocked and at its default action. Foundation's `Process` passes
/// on the spawning thread's signal mask, and test runner threads block SIGTERM, so a Dovecot started that way
/// ignores SIGTERM and can only be killed.
public final class SpawnedProcess {
    public let pid: pid_t
    private var exited = false

    /// Runs `path` with `arguments`, standard output and error appended to `outputFile`.
    public init(_ path: String, arguments: [String], outputFile: String) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)  // its own process group, so `signal` reaches its children too
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let result = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw DovecotIMAPFailure(message: "posix_spawn \(path): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// How the child ended, once `isRunning` has found it gone: its exit status or signal, or that it was no
    /// longer this process's child to wait for.
    public private(set) var ending: String?

    /// Whether the child still runs; reaps it once it has exited.
    public var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exited = true
            let signal = status & 0x7f
            ending = signal == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(signal)"
        } else if result < 0 && errno == ECHILD {
            exited = true
            ending = "not a child to wait for (ECHILD); kill(pid, 0) says it \(kill(pid, 0) == 0 ? "runs" : "is gone")"
        }
        return !exited
    }

    /// Signals the process and every process in its group (the children it started).
    public func signal(_ signal: Int32) {
        kill(-pid, signal)
    }

    deinit {
        if isRunning {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
