import Buffer
import Foundation
import Testing

/// The Prometheus endpoint under load: Python sends mail with smtplib from several threads (accepted messages,
/// unknown recipients, messages over the size limit) while another thread scrapes `/metrics`; at the end the
/// counters must equal what the clients were answered, and the gauges what the spool holds.
@Suite struct BufferMetricsTests {
    /// argv: smtp_port metrics_port. Prints {"sent": {...}, "scraped": {...}, "scrapes": N, "monotonic": bool}.
    static let load = #"""
        import json, re, smtplib, sys, threading, urllib.request
        smtp_port, metrics_port = int(sys.argv[1]), int(sys.argv[2])
        url = "http://127.0.0.1:%d/metrics" % metrics_port
        line = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')

        def scrape():
            with urllib.request.urlopen(url, timeout=20) as response:
                assert response.status == 200
                text = response.read().decode()
            values = {}
            for row in text.splitlines():
                m = line.match(row)
                if m and not row.startswith("#"):
                    values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
            return values

        lock = threading.Lock()
        sent = {"accepted": 0, "bytes": 0, "unknown": 0, "too_big": 0, "alice": 0}

        def client(worker):
            s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=30, local_hostname="client.test")
            s.ehlo()
            for i in range(15):
                user = "alice" if i % 2 == 0 else "bob"
                body = ("Subject: load %d.%d\r\n\r\n" % (worker, i) + "x" * (40 * i) + "\r\n").encode()
                s.mail("load@client.test")
                code, _ = s.rcpt(user + "@buffer.example.com")
                assert code == 250
                code, _ = s.data(body)
                assert code == 250, code
                with lock:
                    sent["accepted"] += 1
                    sent["bytes"] += len(body)
                    sent["alice"] += user == "alice"
                if i % 5 == 0:
                    s.mail("load@client.test")
                    code, _ = s.rcpt("stranger%d@buffer.example.com" % i)
                    assert code == 550, code
                    s.rset()
                    with lock:
                        sent["unknown"] += 1
                if i % 7 == 0:
                    # Over [limits] message_size: no SIZE= given, so the framer counts it and DATA gets 552.
                    s.putcmd("MAIL", "FROM:<load@client.test>")
                    assert s.getreply()[0] == 250
                    assert s.rcpt("alice@buffer.example.com")[0] == 250
                    code, _ = s.data(b"Subject: big\r\n\r\n" + b"y" * 3000 + b"\r\n")
                    assert code == 552, code
                    with lock:
                        sent["too_big"] += 1
            s.quit()

        before = scrape()
        assert before.get("mailferry_buffer_accepted_messages_total", 0) == 0
        scrapes, monotonic, stop = [0], [True], threading.Event()

        def scraper():
            last = 0
            while not stop.is_set():
                now = scrape().get("mailferry_buffer_accepted_messages_total", 0)
                monotonic[0] = monotonic[0] and now >= last
                last = now
                scrapes[0] += 1

        watcher = threading.Thread(target=scraper)
        watcher.start()
        failures = []

        def guarded(worker):
            try:
                client(worker)
            except BaseException as error:
                failures.append(repr(error))

        workers = [threading.Thread(target=guarded, args=(w,)) for w in range(4)]
        for w in workers: w.start()
        for w in workers: w.join()
        stop.set()
        watcher.join()
        assert not failures, failures
        after = scrape()
        scraped = {
            "accepted": after.get("mailferry_buffer_accepted_messages_total"),
            "bytes": after.get("mailferry_buffer_accepted_bytes_total"),
            "unknown": after.get('mailferry_buffer_refused_total{reason="unknown_recipient"}'),
            "too_big": after.get('mailferry_buffer_refused_total{reason="message_too_big"}'),
            "alice": after.get('mailferry_buffer_held_messages{user="alice@example.com"}'),
            "commits": after.get("mailferry_buffer_commit_seconds_count"),
            "free": after.get("mailferry_buffer_spool_free_bytes"),
            "batches": after.get("mailferry_buffer_commit_batches_total"),
            "largest_batch": after.get("mailferry_buffer_commit_largest_batch"),
        }
        print(json.dumps({"sent": sent, "scraped": scraped, "scrapes": scrapes[0], "monotonic": monotonic[0]}))
        """#

    @Test func countersMatchWhatTheClientsWereAnswered() async throws {
        try await LiveBuffer.with(edit: {
            $0.metrics = .init(host: "127.0.0.1", port: 0)
            $0.limits.messageSize = 2048
        }) { live in
            let port = try #require(live.server.metricsAddress?.port)
            let output = try await Client.python(Self.load, [String(live.smtpPort), String(port)])
            try #require(output.status == 0, "\(output.stderr)")
            let result = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as! [String: Any]
            let sent = result["sent"] as! [String: Int]
            let scraped = result["scraped"] as! [String: Double]
            // 4 clients x 15 messages; unknown recipients at i = 0, 5, 10; too big at i = 0, 7, 14.
            #expect(sent["accepted"] == 60)
            #expect(sent["unknown"] == 12)
            #expect(sent["too_big"] == 12)
            for key in ["accepted", "bytes", "unknown", "too_big", "alice"] {
                #expect(scraped[key].map { Int($0) } == sent[key], "\(key)")
            }
            #expect(scraped["commits"].map { Int($0) } == sent["accepted"])
            #expect(scraped["alice"].map { Int($0) } == (try live.spool.status(user: "alice@example.com"))?.heldCount)
            #expect((scraped["free"] ?? 0) > 0)
            // Every accepted message was in one batch: between 1 and 60 batches, none larger than the 4 clients.
            let batches = Int(scraped["batches"] ?? 0)
            #expect(batches >= 1 && batches <= 60, "\(batches)")
            #expect((1...4).contains(Int(scraped["largest_batch"] ?? 0)))
            #expect(result["monotonic"] as? Bool == true)
            #expect((result["scrapes"] as? Int ?? 0) >= 1)
        }
    }

    @Test func otherPathsAreNotFound() async throws {
        try await LiveBuffer.with(edit: { $0.metrics = .init(host: "127.0.0.1", port: 0) }) { live in
            let port = try #require(live.server.metricsAddress?.port)
            let output = try await Client.python(
                #"""
                import sys, urllib.request, urllib.error
                try:
                    urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=20)
                    print("no error")
                except urllib.error.HTTPError as e:
                    print(e.code)
                """#, [String(port)])
            #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "404")
        }
    }
}
