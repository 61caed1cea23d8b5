import Foundation
import Testing
import TestSupport

/// The documented exit statuses (README, "Commands"), run as an operator runs the binary: 1 a check failed (a
/// signature, a receipt, a reconcile, mail not delivered), 2 usage or a state change not allowed now, 3 an I/O or
/// server error. Every refusal says why on standard error.
@Suite(.blocking) struct ExitStatusTests {
    static func expect(
        _ arguments: [String], exits status: Int32, saying words: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == status, "\(arguments.prefix(2)): \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.stderr.contains(word), "\(arguments.prefix(2)) should say \"\(word)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(result.stderr.hasPrefix("mailferry: ") && result.stderr.count > "mailferry: ".count + 10, "a reason: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func aStateChangeNotAllowedNowExits2AndARefusedReceiptExits1() throws {
        let work = try Workspace()
        let config = try BufferCommandLineTests.writeConfig(work)
        let serve = try BufferCommandLineTests.Serve(config: config)
        let alice = ["--config", config, "--user", "alice@example.com"]
        #expect(try BufferCommandLineTests.send(port: serve.smtpPort, to: "alice@buffer.example.com") == "OK {}\n")

        // Through the running server (asked over its control socket).
        try Self.expect(["buffer", "close"] + alice, exits: 2, saying: "cannot go from holding to closed")
        try Self.expect(["buffer", "close", "--config", config, "--user", "zoe@example.com"], exits: 2, saying: "unknown")
        try Self.expect(
            ["buffer", "release"] + alice + ["--to", "dir:" + work.file("source"), "--undo"], exits: 2,
            saying: "forwarding", "buffer forwarding")
        try Self.expect(
            ["buffer", "release"] + alice + ["--to", "dir:" + work.file("target"), "--receipt", work.file("receipts")], exits: 2,
            saying: "--trust")
        #expect(try CLI.run(["keygen", "--out", work.file("b")]).status == 0)
        try Self.expect(
            ["buffer", "release"] + alice + ["--to", "dir:" + work.file("target"), "--receipt", work.file("receipts"), "--trust", work.file("b.pub.pem")],
            exits: 1, saying: "receipt")
        #expect(try CLI.run(["buffer", "forwarding"] + alice + ["--off"]).status == 0)
        let undone = try CLI.run(["buffer", "release"] + alice + ["--to", "dir:" + work.file("source"), "--undo"])
        #expect(undone.status == 0, "\(undone.stderr)")
        try Self.expect(
            ["buffer", "release"] + alice + ["--to", "dir:" + work.file("elsewhere"), "--undo"], exits: 2,
            saying: "already reverted to dir:")
        #expect(serve.terminate() == 0)

        // The same refusals when no server runs (the command opens the spool itself).
        #expect(try CLI.run(["buffer", "hold", "--config", config, "--user", "dave@example.com"]).status == 0)
        try Self.expect(["buffer", "close", "--config", config, "--user", "dave@example.com"], exits: 2, saying: "cannot go from holding to closed")
        try Self.expect(
            ["buffer", "release"] + alice + ["--to", "dir:" + work.file("elsewhere"), "--undo"], exits: 2, saying: "already reverted")
    }

    /// A reconcile that cannot reach the target compared nothing: exit 3 with what failed, not a FAIL report that
    /// lists every item as missing.
    @Test func aReconcileAgainstAServerThatIsDownIsAnIOError() throws {
        let work = try Workspace()
        let store = try work.sampleStore()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        let archive = work.file("s.mfa")
        let exported = try CLI.run(["export", "--source", "dir:" + store, "--sign-key", work.file("a.key.pem"), "--out", archive])
        #expect(exported.status == 0, "\(exported.stderr)")
        try CredentialsFile.write("*\tadmin\tadmin-secret\tmaster\n", to: work.file("c.tsv"))
        let port = try FreePort.make()
        let result = try CLI.run([
            "reconcile", archive, "--trust", work.file("a.pub.pem"), "--target", "imap://127.0.0.1:\(port)",
            "--credentials", work.file("c.tsv"), "--journal", work.file("j"), "--report", work.file("r.json"),
        ])
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("cannot connect to 127.0.0.1 port \(port): connection refused"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was compared"), "\(result.stderr)")
        #expect(!result.stdout.contains("FAIL") && !result.stderr.contains("NIOConnectionError"), "\(result.stdout) \(result.stderr)")
    }
}
