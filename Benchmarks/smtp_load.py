#!/usr/bin/env python3
"""SMTP load generator for Benchmarks/buffer_bench.sh.

CLIENTS threads each keep one SMTP connection open and send SIZE-byte messages back to back for
SECONDS seconds (RSET between messages, as an MTA reusing a connection does). A message counts
when its DATA got a 2xx reply; its latency is from MAIL FROM to that reply. Prints one JSON line:
accepted, rate per second, p50/p99/max latency in ms, and errors.
"""
import argparse
import json
import smtplib
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", type=int, default=10 * 1024)
    ap.add_argument("--to", required=True, help="recipient address")
    args = ap.parse_args()

    line = ("The quick brown fox jumps over the lazy dog, again and again. " * 2)[:76] + "\r\n"
    body = (line * (args.size // len(line) + 1))[: args.size]
    latencies = []
    errors = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(n):
        try:
            smtp = smtplib.SMTP(args.host, args.port, timeout=30)
            smtp.ehlo("load%d.example.net" % n)
        except Exception as e:  # connection refused, greeting error
            with lock:
                errors.append("connect: %s" % e)
            return
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            msg = "From: load%d@example.net\r\nTo: %s\r\nSubject: load %d/%d\r\nMessage-ID: <%d.%d.%f@load>\r\n\r\n%s" % (
                n, args.to, n, seq, n, seq, time.time(), body)
            start = time.monotonic()
            try:
                smtp.sendmail("load%d@example.net" % n, [args.to], msg)
            except Exception as e:
                with lock:
                    errors.append(str(e)[:200])
                break
            took = time.monotonic() - start
            with lock:
                latencies.append(took)
        try:
            smtp.quit()
        except Exception:
            pass

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()

    def pct(p):
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    print(json.dumps({
        "accepted": len(latencies), "seconds": round(elapsed, 2),
        "rate": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(1000 * latencies[-1], 2) if latencies else None,
        "errors": len(errors), "first_errors": errors[:3],
    }))


if __name__ == "__main__":
    main()
