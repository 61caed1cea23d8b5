import Foundation
import IMAPCore
import TestSupport
import Testing

@testable import IMAPClient

/// A folder of 200,000 messages at a server without ESEARCH. A plain `UID SEARCH ALL` answers in one line of 1.3 MB,
/// past the response line limit, so a folder read must not rest on it: `allUIDs` asks with `UID FETCH 1:* (UID)`,
/// a line a message, and gets every UID once, in order.
@Suite(.blocking) struct AllUIDsTests {
    static let server = #"""
        import socket
        N = 200000
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        print("listening", s.getsockname()[1], flush=True)
        c, _ = s.accept()
        f = c.makefile("rb")
        c.sendall(b"* OK [CAPABILITY IMAP4rev1] no ESEARCH here\r\n")
        for raw in f:
            tag, verb, rest = (raw.decode().rstrip("\r\n") + "  ").split(" ", 2)
            verb, rest = verb.upper(), rest.upper()
            if verb == "SELECT" or verb == "EXAMINE":
                c.sendall(("* %d EXISTS\r\n* OK [UIDVALIDITY 3] ok\r\n%s OK [READ-ONLY] done\r\n" % (N, tag)).encode())
            elif verb == "UID" and rest.startswith("SEARCH"):
                c.sendall(("* SEARCH " + " ".join(str(u) for u in range(1, N + 1)) + "\r\n%s OK done\r\n" % tag).encode())
            elif verb == "UID" and rest.startswith("FETCH"):
                lines = ["* %d FETCH (UID %d)\r\n" % (n, n) for n in range(1, N + 1)]
                lines.insert(1000, "* 5 FETCH (FLAGS (\\Seen))\r\n")  # an unsolicited update without its UID
                c.sendall(("".join(lines) + "%s OK done\r\n" % tag).encode())
            elif verb == "LOGOUT":
                c.sendall(("* BYE bye\r\n%s OK done\r\n" % tag).encode())
                break
            else:
                c.sendall(("%s OK done\r\n" % tag).encode())
        """#

    /// A connection to the scripted server (kept running while the script value lives), logged in, INBOX selected.
    static func selected() throws -> (IMAPConnection, (TemporaryDirectory, ListeningScript)) {
        let directory = try TemporaryDirectory()
        let script = directory.path + "/server.py"
        try server.write(toFile: script, atomically: true, encoding: .utf8)
        let listening = try ListeningScript(script, [])
        let connection = try IMAPConnection.open(
            IMAPEndpoint(host: "127.0.0.1", port: listening.port, security: .startTLS, allowPlaintextPassword: true, timeout: .seconds(60)))
        try connection.authenticate(.login(user: "u", password: "p"))
        _ = try connection.select("INBOX", readOnly: true)
        return (connection, (directory, listening))
    }

    @Test func everyUIDOfAHugeFolderWithoutESEARCH() throws {
        let (connection, server) = try Self.selected()
        defer { withExtendedLifetime(server) {} }
        #expect(throws: (any Error).self) { _ = try connection.uidSearch([]) }  // the line limit, as the test says
    }

    @Test func allUIDsFetchesThemALineEach() throws {
        let (connection, server) = try Self.selected()
        defer { withExtendedLifetime(server) {} }
        let uids = try connection.allUIDs()
        #expect(uids.count == 200_000)
        #expect(uids.first == 1 && uids.last == 200_000 && uids == uids.sorted() && Set(uids).count == uids.count)
    }
}
