import Buffer
import Foundation
import Synchronization
import Telemetry
import Testing

/// The buffer's log, as an operator reads it: a real server, mail sent with Python's smtplib over SMTP and LMTP,
/// and the log lines checked field by field, in the plain format and as JSON parsed by Python's `json`. Neither
/// the message's content nor a password may appear.
@Suite struct BufferLogTests {
    /// Lines a server wrote, kept in memory.
    final class CapturedLog: Sendable {
        private let text = Mutex("")
        var sink: LogSink { LogSink { line in self.text.withLock { $0 += line } } }
        var lines: [String] { text.withLock { $0 }.split(separator: "\n").map(String.init) }
        var all: String { text.withLock { $0 } }
    }

    static let bodyMarker = "BODY-MARKER-7f3a"
    static let subject = "quarterly figures"
    static let password = "Pa55-w0rd-Zx81"

    /// argv: smtp_port lmtp_port. Sends one SMTP message to alice and bob (and RCPT to an unknown user), one LMTP
    /// message to alice; prints what the client saw as JSON.
    static let client = #"""
        import json, smtplib, sys
        smtp_port, lmtp_port = int(sys.argv[1]), int(sys.argv[2])
        message = (b"Subject: quarterly figures\r\nMessage-ID: <m1@client.test>\r\n\r\n"
                   b"BODY-MARKER-7f3a: the content itself\r\n")
        out = {"size": len(message)}
        s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=20, local_hostname="client.test")
        s.ehlo()
        s.mail("sender@client.test")
        s.rcpt("alice@buffer.example.com")
        s.rcpt("bob@buffer.example.com")
        out["refused"] = s.rcpt("nobody@buffer.example.com")[0]
        code, text = s.data(message)
        out["smtp"] = [code, text.decode()]
        s.quit()
        l = smtplib.LMTP("127.0.0.1", lmtp_port, local_hostname="client.test", timeout=20)
        l.ehlo()
        l.mail("")
        l.rcpt("alice@example.com")
        code, text = l.data(message)
        out["lmtp"] = [code, text.decode()]
        l.quit()
        print(json.dumps(out))
        """#

    /// Reads JSON lines from stdin with Python's json; prints them as one list, values as strings except lists,
    /// and for each line whether `size` was a JSON number and `recipients` a list.
    static let jsonReader = #"""
        import json, sys
        entries = []
        for line in sys.stdin.read().splitlines():
            obj = json.loads(line)
            entry = {k: (v if isinstance(v, list) else str(v)) for k, v in obj.items()}
            entry["_size_is_number"] = str(isinstance(obj.get("size"), int))
            entry["_recipients_is_list"] = str(isinstance(obj.get("recipients"), list))
            entries.append(entry)
        print(json.dumps(entries))
        """#

    typealias Entry = [String: Any]

    @Test(arguments: [LogFormat.plain, LogFormat.json])
    func transactionLinesHoldTheEnvelopeAndNoContent(format: LogFormat) async throws {
        let log = CapturedLog()
        let directory = try LiveBuffer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = directory + "/imap.tsv"
        try "alice@example.com\t\(Self.password)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        chmod(credentials, 0o600)
        let (sent, held) = try await LiveBuffer.with(logSink: log.sink, edit: {
            $0.logFormat = format
            $0.imap.credentialsPath = credentials
        }) { live in
            let output = try await Client.python(Self.client, [String(live.smtpPort), String(live.lmtpPort)])
            #expect(output.status == 0, "\(output.stderr)")
            let sent = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [String: Any]
            return (sent, try live.held("alice@example.com").map(\.message))
        }
        // The server is shut down: every line is written.
        let entries = try parse(log, format: format)
        let size = sent["size"] as! Int
        let smtpID = try #require(queueID(sent["smtp"]))
        let lmtpID = try #require(queueID(sent["lmtp"]))
        #expect(smtpID != lmtpID)
        #expect(sent["refused"] as? Int == 550)

        let transactions = entries.filter { $0["message"] as? String == "transaction" }
        #expect(transactions.count == 2)
        for (id, proto, recipients) in [
            (smtpID, "smtp", ["alice@buffer.example.com", "bob@buffer.example.com"]), (lmtpID, "lmtp", ["alice@example.com"]),
        ] {
            let entry = try #require(transactions.first { $0["queue_id"] as? String == id }, "no line for \(id)")
            let stored = try #require(held.first { $0.id.description == id })
            #expect(entry["protocol"] as? String == proto)
            #expect(entry["recipients"] as? [String] == recipients)
            #expect(entry["size"] as? String == String(size))
            #expect(entry["code"] as? String == "250")
            #expect(entry["sha256"] as? String == String(stored.sha256.prefix(12)))
            #expect(entry["client"] as? String == "127.0.0.1")
            #expect(entry["level"] as? String == "info")
            #expect(Double(entry["duration_ms"] as? String ?? "") != nil)
            #expect(entry["from"] as? String == (proto == "smtp" ? "sender@client.test" : "<>"))
            if format == .json {
                #expect(entry["_size_is_number"] as? String == "True")
                #expect(entry["_recipients_is_list"] as? String == "True")
            }
        }
        let refused = entries.filter { $0["message"] as? String == "recipient refused" }
        #expect(refused.count == 1)
        #expect(refused.first?["recipient"] as? String == "nobody@buffer.example.com")
        #expect(refused.first?["code"] as? String == "550")

        let text = log.all
        #expect(!text.isEmpty)
        #expect(!text.contains(Self.bodyMarker))
        #expect(!text.contains(Self.subject))
        #expect(!text.contains(Self.password))
    }

    /// "2.0.0 OK: stored as 17" -> "17"
    func queueID(_ reply: Any?) -> String? {
        guard let pair = reply as? [Any], pair.first as? Int == 250, let text = pair.last as? String,
            let range = text.range(of: "stored as ")
        else { return nil }
        return String(text[range.upperBound...])
    }

    func parse(_ log: CapturedLog, format: LogFormat) throws -> [Entry] {
        switch format {
        case .json:
            let output = try Client.python(Self.jsonReader, stdin: log.all)
            #expect(output.status == 0, "Python's json refused a line: \(output.stderr)")
            return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [Entry]
        case .plain:
            return try log.lines.map(Self.parsePlain)
        }
    }

    /// `TIME LEVEL LABEL: MESSAGE key=value key="quoted value"`; `recipients` split at commas.
    static func parsePlain(_ line: String) throws -> Entry {
        let head = try #require(line.range(of: ": "), "not a plain log line: \(line)")
        let words = line[..<head.lowerBound].split(separator: " ")
        try #require(words.count == 3, "not a plain log line: \(line)")
        var entry: Entry = ["time": String(words[0]), "level": String(words[1]), "label": String(words[2])]
        var rest = Substring(line[head.upperBound...])
        // The message runs to the first " key=".
        let messageEnd = rest.firstMatch(of: #/ [a-z_0-9]+=/#)?.range.lowerBound ?? rest.endIndex
        entry["message"] = String(rest[..<messageEnd])
        rest = rest[messageEnd...]
        while let match = rest.firstMatch(of: #/ ([a-z_0-9]+)=("((?:[^"\\]|\\.)*)"|[^ ]*)/#) {
            let key = String(match.output.1)
            let value = match.output.3.map { String($0).replacingOccurrences(of: "\\\"", with: "\"") } ?? String(match.output.2)
            entry[key] = key == "recipients" ? value.split(separator: ",").map(String.init) : value
            rest = rest[match.range.upperBound...]
        }
        return entry
    }
}
