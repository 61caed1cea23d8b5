import ArgumentParser
import Buffer
import Foundation
import MailModel
import Reporting

/// Maps what the release layer throws to the documented exit codes.
func performRelease<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw FerryError.from(error)
    }
}

/// Asks the running buffer (or, when none runs, the spool directly) and turns a refusal into the exit status
/// the operation implies.
func controlResponse(
    _ request: BufferControl.Request, _ configuration: BufferConfiguration, progress: ((ReleaseProgress) -> Void)? = nil
) throws -> BufferControl.Response {
    let response = try performRelease {
        try BufferControlClient.send(
            request, spoolDirectory: configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile,
            delivery: configuration.deliveryOptions, progress: progress)
    }
    guard response.ok else {
        throw FerryError(ExitStatus(rawValue: response.exitStatus ?? ExitStatus.ioError.rawValue) ?? .ioError, response.error ?? "the buffer refused")
    }
    return response
}

struct BufferRelease: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Deliver a user's held mail to the target, against station B's signed receipt.",
        discussion: """
            Delivers every message held for the user, in order of arrival, each re-hashed as it is read (a damaged message is never delivered: it is named and stays held, and the command exits 1). The receipt must be signed by the key given with --trust, have verdict pass, name this user and, when known, this user's archive (the archive of the first release run, or --archive-id).

            When the buffer server runs, the release runs inside it (asked over the spool's control socket), so mail keeps being accepted meanwhile; otherwise the command opens the spool itself. Either way the configuration's [imap] section is read again for each release: a changed credentials, ca_file or allow_plaintext takes effect at the next release, without a restart.

            Targets: dir:PATH, maildir:PATH, imap://HOST[:PORT] (STARTTLS) and imaps://HOST[:PORT] (exactly once, also after a crash and a second run; IMAP passwords come from the configuration's [imap] credentials file) and lmtp://HOST[:PORT] (port 24 if none is given) or lmtp:/path/to/socket (at least once: a crash can repeat one message). A failed or killed release is finished by running the same command again. When the buffer runs as the systemd unit in contrib/, dir: and maildir: targets must be paths the unit lets it write (ReadWritePaths=), and the receipt a path it can read.

            --undo delivers the held mail back to the source (TARGET is then the source); it needs no receipt but needs the source's forwarding to the buffer recorded as removed (`mailferry buffer forwarding --off`).

              mailferry buffer release --config buffer.toml --user alice@example.com --to dir:/srv/newmail \\
                  --receipt receipts/ --trust station-b.pub.pem
              mailferry buffer release --config buffer.toml --user alice@example.com --to lmtp://mx2.example:24 \\
                  --receipt receipts/alice@example.com.receipt.json --trust station-b.pub.pem
              mailferry buffer release --config buffer.toml --user alice@example.com --to imaps://new.example \\
                  --receipt receipts/ --trust station-b.pub.pem
              mailferry buffer forwarding --config buffer.toml --user alice@example.com --off
              mailferry buffer release --config buffer.toml --user alice@example.com --to lmtp://old-mx:24 --undo

            Exit status: 0 all delivered; 1 receipt refused or a message not delivered (or still held: mail that kept arriving during the run; run it again); 2 usage, or a change the user's state does not allow now (undo while the forwarding is on, a user already released elsewhere, a user the buffer does not know); 3 I/O, spool busy or server error.
            """)

    @Option(help: "The buffer's configuration file (TOML).")
    var config: String

    @Option(help: "The user whose held mail is released.")
    var user: String

    @Option(help: "Where to: dir:PATH, maildir:PATH, imap://HOST[:PORT], imaps://HOST[:PORT], lmtp://HOST[:PORT] or lmtp:/path/to/socket (with --undo: where the source takes delivery).")
    var to: String

    @Option(help: "Station B's receipt: the .receipt.json file, or the directory holding <user>.receipt.json.")
    var receipt: String?

    @Option(help: "Station B's public key (PEM); required unless --undo.")
    var trust: String?

    @Option(name: .customLong("archive-id"), help: "The archive the user's migration uses; the receipt must name it.")
    var archiveID: String?

    @Flag(help: "Release back to the source (undo).")
    var undo = false

    @Option(name: .customLong("deliver-as"), help: ArgumentHelp("The user's address at the target when the migration renames it (the plan's mapping); the held address otherwise.", valueName: "address"))
    var deliverAs: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let configuration = try performRelease { try BufferConfiguration.load(path: config) }
        var parameters = ReleaseJob.Parameters(
            user: user, target: to, receiptPath: undo ? nil : receipt, trustedKeyPath: trust, archiveID: archiveID, undo: undo,
            deliverAs: deliverAs)
        parameters.reportsProgress = true
        let bar = ProgressReporter(label: "release", quiet: json)
        let report = try controlResponse(.release(parameters), configuration) { p in
            bar.setTotal(items: p.total, bytes: p.totalBytes)
            bar.update(items: p.done, bytes: p.bytes)
        }.release!
        bar.finish()
        if json {
            try printJSON(report)
        } else {
            print("\(report.user): \(report.delivered) delivered, \(report.alreadyPresent) already at the target, \(report.failures.count) not delivered; state \(report.state.rawValue)")
            if !report.possiblyDuplicated.isEmpty {
                print("  sent again after an unknown outcome (may be at the target twice): \(report.possiblyDuplicated.map { "#\($0)" }.joined(separator: " "))")
            }
        }
        if let problem = report.problem {
            throw FerryError(.verificationFailed, problem)
        }
    }
}

struct BufferForwarding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forwarding",
        abstract: "Record whether the source still forwards a user's mail to the buffer (undo needs --off).",
        discussion: """
            Kept in <spool>/release-state.json; works while the server runs.

              mailferry buffer forwarding --config buffer.toml --user alice@example.com --off
            """)

    @Option(help: "The buffer's configuration file (TOML).")
    var config: String

    @Option(help: "The user.")
    var user: String

    @Flag(help: "The source's forwarding to the buffer has been removed.")
    var off = false

    @Flag(help: "The source forwards the user's mail to the buffer.")
    var on = false

    func validate() throws {
        guard on != off else { throw ValidationError("give exactly one of --on and --off") }
    }

    func run() throws {
        let configuration = try performRelease { try BufferConfiguration.load(path: config) }
        try performRelease { try ReleaseJob.recordForwarding(
            spoolDirectory: configuration.spoolDirectory, passwordFile: configuration.spoolPasswordFile, user: user, on: on) }
        print("\(user): forwarding to the buffer recorded as \(on ? "on" : "off (removed)")")
    }
}

struct BufferClose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "End a released (or reverted) user's hold: the buffer takes no more mail for the user.",
        discussion: """
            Works whether or not the buffer server runs (it is asked over the spool's control socket).

              mailferry buffer close --config buffer.toml --user alice@example.com
            """)

    @Option(help: "The buffer's configuration file (TOML).")
    var config: String

    @Option(help: "The user.")
    var user: String

    func run() throws {
        let configuration = try performRelease { try BufferConfiguration.load(path: config) }
        _ = try controlResponse(.close(user), configuration)
        print("\(user): closed")
    }
}
