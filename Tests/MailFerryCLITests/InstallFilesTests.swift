import Foundation
import Testing
import TestSupport

/// The files that install and run MailFerry outside the build folder: `.ci/install-deps` (which `samples/demo.sh`
/// and `contrib/install.sh` run first) needs no root when nothing is missing, and the systemd unit with its
/// release-targets drop-in is one systemd accepts.
@Suite(.blocking) struct InstallFilesTests {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CLI.Result {
        try ProcessRunner.run(executable, arguments, environment: environment)
    }

    static var runsAsRootWithRunuser: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")
    }

    /// As `nobody` (no sudo either): with every package present it says so and exits 0; with one missing it says
    /// which and how to install them. It used to refuse at once, "not root and no sudo", whatever was present.
    @Test(.enabled(if: InstallFilesTests.runsAsRootWithRunuser)) func installDepsNeedsNoRootWhenNothingIsMissing() throws {
        let work = try Workspace()
        chmod(work.path, 0o755)
        let script = work.file("install-deps")
        try FileManager.default.copyItem(atPath: CLI.repositoryRoot + "/.ci/install-deps", toPath: script)
        chmod(script, 0o755)
        let result = try Self.run(
            "/usr/sbin/runuser", ["-u", "nobody", "--", "/bin/bash", script],
            environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/nonexistent"])
        if result.status == 0 {
            #expect(result.stdout.contains("==> all packages present"), "\(result.stdout)")
        } else {
            #expect(result.stderr.contains("install-deps: missing ") && result.stderr.contains("as root: apt-get install"), "\(result.stderr)")
        }
        #expect(!result.stderr.contains("cannot install packages"), "\(result.stderr)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
    func theUnitAndItsDropInPassSystemdAnalyzeVerify() throws {
        let work = try Workspace()
        let unit = try String(contentsOfFile: CLI.repositoryRoot + "/contrib/mailferry-buffer.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/mailferry buffer serve"), "contrib/install.sh's default PREFIX")
        for needed in ["PrivateTmp=yes", "ProtectHome=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/mailferry"] {
            #expect(unit.contains(needed), "\(needed)")
        }
        // The built binary stands in for the installed one; the man page is checked by contrib/install.sh's run.
        let local = unit.replacingOccurrences(of: "/usr/local/bin/mailferry", with: CLI.binary)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Documentation=") }
            .joined(separator: "\n")
        try local.write(toFile: work.file("mailferry-buffer.service"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: work.file("mailferry-buffer.service.d"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: CLI.repositoryRoot + "/contrib/mailferry-buffer-release-targets.conf",
            toPath: work.file("mailferry-buffer.service.d/release-targets.conf"))
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_UNIT_PATH"] = work.path + ":"
        let result = try Self.run(
            "/usr/bin/systemd-analyze", ["verify", work.file("mailferry-buffer.service")], environment: environment)
        #expect(result.status == 0 && result.stderr.isEmpty && result.stdout.isEmpty, "\(result.stdout) \(result.stderr)")
        let dropIn = try String(contentsOfFile: work.file("mailferry-buffer.service.d/release-targets.conf"), encoding: .utf8)
        #expect(dropIn.contains("[Service]") && dropIn.contains("ReadWritePaths=-/srv/newmail"))
    }
}
