import Foundation
import Testing
import TestSupport

/// `mailferry buffer serve` as installed: with `[log] format = "json"` and `[metrics] listen` it prints the metrics
/// address beside the listeners, writes its transaction lines as JSON on standard error, and answers a scrape.
@Suite(.blocking) struct BufferServeTelemetryTests {
    @Test func serveLogsJSONAndServesMetrics() throws {
        let work = try Workspace()
        let config = try BufferCommandLineTests.writeConfig(
            work, extra: "[log]\nformat = \"json\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
        let serve = try BufferCommandLineTests.Serve(config: config)
        let line = try #require(serve.output.text.split(separator: "\n").first { $0.hasPrefix("listening metrics ") })
        let metricsPort = try #require(Int(line.split(separator: ":").last ?? ""))
        #expect(try BufferCommandLineTests.send(port: serve.smtpPort, to: "alice@buffer.example.com").hasPrefix("OK"))
        let scrape = try ProcessRunner.run("/usr/bin/env", [
            "python3", "-c",
            #"""
            import sys, urllib.request
            print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=20).read().decode())
            """#, String(metricsPort),
        ]).stdout
        #expect(scrape.contains("mailferry_buffer_accepted_messages_total 1"), "\(scrape)")
        #expect(serve.terminate() == 0)
        // Every line on standard error is one JSON object; one of them is the transaction.
        let lines = serve.errors.text.split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.allSatisfy { $0 != nil }, "\(serve.errors.text)")
        let transaction = objects.compactMap { $0 }.first { $0["message"] as? String == "transaction" }
        #expect(transaction?["code"] as? String == "250")
        #expect(transaction?["recipients"] as? [String] == ["alice@buffer.example.com"])
        #expect(!serve.errors.text.contains("hello"))
    }
}
