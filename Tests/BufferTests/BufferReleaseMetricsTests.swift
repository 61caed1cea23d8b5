import Buffer
import Foundation
import Testing

/// Release progress on the endpoint: a release run by the server, asked without progress lines, still moves
/// `mailferry_buffer_release_*` to what was delivered, and the held gauge to 0; the release is logged.
@Suite struct BufferReleaseMetricsTests {
    static let scrape = #"""
        import json, re, sys, urllib.request
        text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=20).read().decode()
        values = {}
        for row in text.splitlines():
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$', row)
            if m and not row.startswith("#"):
                values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        print(json.dumps(values))
        """#

    @Test func aReleaseMovesTheReleaseGauges() async throws {
        let log = BufferLogTests.CapturedLog()
        try await LiveBuffer.with(logSink: log.sink, edit: { $0.metrics = .init(host: "127.0.0.1", port: 0) }) { live in
            let port = try #require(live.server.metricsAddress?.port)
            let fixture = try ReleaseFixture()
            let body = live.directory + "/body.eml"
            try Data(BufferServerTests.message).write(to: URL(fileURLWithPath: body))
            for _ in 0..<3 {
                let out = try await Client.python(Scripts.send, ["\(live.smtpPort)", "carol@example.org", "alice@buffer.example.com", body])
                #expect(out.stdout == "OK \n", "\(out.stdout) \(out.stderr)")
            }
            let before = try await metrics(port)
            #expect(before[#"mailferry_buffer_held_messages{user="alice@example.com"}"#] == 3)
            #expect(before[#"mailferry_buffer_release_done_messages{user="alice@example.com"}"#] == nil)

            let receipts = try fixture.receipt()
            let parameters = ReleaseJob.Parameters(
                user: "alice@example.com", target: "maildir:" + live.directory + "/target",
                receiptPath: (receipts as NSString).deletingLastPathComponent, trustedKeyPath: fixture.publicPath,
                archiveID: nil, undo: false)
            let spoolDirectory = live.server.configuration.spoolDirectory
            let response = try await Client.offThread { try BufferControlClient.send(.release(parameters), spoolDirectory: spoolDirectory) }
            #expect(response.ok && response.release?.delivered == 3, "\(String(describing: response.error))")

            let after = try await metrics(port)
            #expect(after[#"mailferry_buffer_release_done_messages{user="alice@example.com"}"#] == 3)
            #expect(after[#"mailferry_buffer_release_total_messages{user="alice@example.com"}"#] == 3)
            #expect(after[#"mailferry_buffer_release_done_bytes{user="alice@example.com"}"#]
                == before[#"mailferry_buffer_held_bytes{user="alice@example.com"}"#])
            #expect(after[#"mailferry_buffer_held_messages{user="alice@example.com"}"#] == 0)
        }
        // The release has its line in the log, with its counts.
        let control = try log.lines.map(BufferLogTests.parsePlain).filter { $0["message"] as? String == "control" }
        #expect(control.count == 1)
        #expect(control.first?["request"] as? String == "release")
        #expect(control.first?["user"] as? String == "alice@example.com")
        #expect(control.first?["delivered"] as? String == "3")
        #expect(control.first?["state"] as? String == "released")
        #expect(control.first?["ok"] as? String == "true")
    }

    func metrics(_ port: Int) async throws -> [String: Double] {
        let output = try await Client.python(Self.scrape, [String(port)])
        try #require(output.status == 0, "\(output.stderr)")
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [String: Double]
    }
}
