#!/usr/bin/env python3
"""Generate a deterministic Maildir++ benchmark corpus for one user.

    python3 Benchmarks/make_corpus.py --out /tmp/corpus            # ~20000 messages, ~450 MB
    python3 Benchmarks/make_corpus.py --out /tmp/c --messages 200  # small; size scales down
    python3 Benchmarks/make_corpus.py --out /tmp/big --messages 50 --big-message-mb 200

Layout (Dovecot Maildir++): INBOX is cur/new/tmp at --out, plus the folders
.Archive and .Sent.  Every file is an RFC 5322 message with From, To, Subject,
Date, Message-ID and MIME-Version; its mtime is the internal date.

Sizes: text bodies are log-normal (median ~4 KB, most between 2 and 40 KB);
about 3% of messages carry a base64 attachment of at least 0.5 MB (at most 8 MB),
sized so the whole corpus lands near --target-mb.  The same arguments always
produce byte-identical files (one seeded generator drives everything).
"""

import argparse
import base64
import math
import os
import random
import sys
import time

USER = "bench@example.com"
HOST = "bench.example.com"
KB = 1024
MB = 1024 * 1024
DEFAULT_MESSAGES = 20000
DEFAULT_TARGET_MB = 450.0

FOLDERS = [("", 0.70), (".Archive", 0.20), (".Sent", 0.10)]

WORDS = """
the of and to in is that for it as with was on be by at this are from or have an they
which one you were her all she there would their we him been has when who will more no
if out so said what up its about into than them can only other new some could time these
two may then do first any my now such like our over man me even most made after also did
many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long
get here between both life being under never day same another know while last might us
great old year off come since against go came right used take three mailbox server message
folder archive migration export import report quarterly budget meeting schedule project
review contract invoice customer support release deploy storage backup restore network
""".split()

FIRST = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter Yuki".split()
LAST = "Martin Okafor Nguyen Lindqvist Dubois Weber Tanaka Rossi Novak Silva Kowalski Berg Moreau Schmidt Ito Costa".split()
DOMAINS = ["example.com", "example.net", "example.org", "partner.example.org", "lists.example.org"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ATTACH_TYPES = [
    ("application/pdf", "pdf"),
    ("image/jpeg", "jpg"),
    ("application/zip", "zip"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
]
KEYWORDS = ["$Forwarded", "Work", "$Label1"]


def build_text_pool(rng: random.Random, size: int) -> str:
    """Word-wrapped prose (lines <= 72 chars, LF), sliced later to make bodies."""
    lines, line, total = [], [], 0
    n = len(WORDS)
    while total < size:
        w = WORDS[int(rng.random() * n)]
        if sum(len(x) + 1 for x in line) + len(w) > 72:
            text = " ".join(line)
            if rng.random() < 0.12:
                text += "."
            lines.append(text)
            total += len(text) + 1
            line = []
            if rng.random() < 0.08:
                lines.append("")
                total += 1
        line.append(w)
    return "\n".join(lines) + "\n"


def rfc5322_date(epoch: int, offset_min: int) -> str:
    t = time.gmtime(epoch + offset_min * 60)
    sign = "+" if offset_min >= 0 else "-"
    a = abs(offset_min)
    return (f"{DAYS[t.tm_wday]}, {t.tm_mday:02d} {MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{a // 60:02d}{a % 60:02d}")


class Generator:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.pool = build_text_pool(self.rng, 4 * MB)
        self.pool_len = len(self.pool)
        self.bytes_written = 0
        self.files = 0

    def person(self):
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        return f"{first} {last} <{first.lower()}.{last.lower()}@{r.choice(DOMAINS)}>"

    def text(self, size: int) -> str:
        """About `size` bytes of prose starting at a line boundary of the pool."""
        size = max(64, min(size, self.pool_len // 2))
        start = self.pool.find("\n", int(self.rng.random() * (self.pool_len - size - 1))) + 1
        end = self.pool.find("\n", start + size)
        return self.pool[start:end + 1] if end > 0 else self.pool[start:]

    def subject(self) -> str:
        r = self.rng
        words = [r.choice(WORDS) for _ in range(r.randint(2, 8))]
        s = " ".join(words).capitalize()
        return ("Re: " + s) if r.random() < 0.25 else s

    def flags(self, folder: str) -> str:
        r = self.rng
        f = set()
        if folder == ".Sent" or r.random() < 0.85:
            f.add("S")
        if r.random() < 0.08:
            f.add("F")
        if folder != ".Sent" and r.random() < 0.20:
            f.add("R")
        if r.random() < 0.01:
            f.add("T")
        letters = ""
        if r.random() < 0.05:
            letters += "a"  # $Forwarded
        if r.random() < 0.04:
            letters += "b"  # Work
        if r.random() < 0.02:
            letters += "c"  # $Label1
        return "".join(sorted(f)) + letters

    def message(self, seq: int, epoch: int, folder: str, body_size: int, attach_size: int) -> bytes:
        r = self.rng
        offset = r.choice([-300, -240, 0, 60, 120, 330, 540])
        me = f"Bench User <{USER}>"
        other = self.person()
        frm, to = (me, other) if folder == ".Sent" else (other, me)
        headers = [
            f"From: {frm}",
            f"To: {to}",
            f"Subject: {self.subject()}",
            f"Date: {rfc5322_date(epoch, offset)}",
            f"Message-ID: <{epoch}.{seq:06d}.{r.getrandbits(32):08x}@{HOST}>",
            "MIME-Version: 1.0",
        ]
        if folder != ".Sent":
            headers.insert(0, f"Received: from mx.example.net (mx.example.net [192.0.2.{seq % 250 + 1}])\n"
                              f"\tby {HOST} with ESMTPS; {rfc5322_date(epoch + 3, 0)}")
            headers.insert(0, f"Return-Path: <{other.split('<')[1]}")
        body = self.text(body_size)
        if not attach_size:
            headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit"]
            return ("\n".join(headers) + "\n\n" + body).encode("ascii")
        boundary = f"=_bench_{seq:06d}_{r.getrandbits(40):010x}"
        ctype, ext = r.choice(ATTACH_TYPES)
        # base64 with 76-char lines grows raw data by 4/3 * 77/76.
        raw = r.randbytes(max(1, int(attach_size * 3 / 4 * 76 / 77)))
        parts = [
            "\n".join(headers),
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            "",
            "This is a multi-part message in MIME format.",
            "",
            f"--{boundary}",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 7bit",
            "",
            body,
            f"--{boundary}",
            f'Content-Type: {ctype}; name="file{seq}.{ext}"',
            "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="file{seq}.{ext}"',
            "",
            "",
        ]
        head = "\n".join(parts).encode("ascii")
        tail = f"\n--{boundary}--\n".encode("ascii")
        return head + base64.encodebytes(raw).rstrip(b"\n") + tail

    def write(self, folder: str, epoch: int, seq: int, data: bytes, flags: str, new: bool):
        base = f"{epoch}.M{seq:06d}P{4242}.{HOST},S={len(data)}"
        d = os.path.join(self.args.out, folder, "new" if new else "cur")
        path = os.path.join(d, base if new else f"{base}:2,{flags}")
        with open(path, "wb", buffering=1 << 20) as f:
            f.write(data)
        os.utime(path, (epoch, epoch))
        self.bytes_written += len(data)
        self.files += 1


def plan_sizes(rng: random.Random, n: int, target_bytes: float, attach_percent: float):
    """Body sizes (log-normal) and attachment sizes (>= 0.5 MB, <= 8 MB) near the target total."""
    bodies = [int(min(400 * KB, math.exp(rng.gauss(math.log(4 * KB), 0.75)))) for _ in range(n)]
    header_estimate = 650
    text_total = sum(bodies) + header_estimate * n
    count = max(0, round(n * attach_percent / 100))
    attach = [0] * n
    if count:
        remaining = max(0.0, target_bytes - text_total)
        lo, hi = 0.5 * MB, 8 * MB
        excess_mean = max(remaining / count - lo, 0.02 * MB)
        sigma = 1.4
        for i in rng.sample(range(n), count):
            w = math.exp(rng.gauss(-sigma * sigma / 2, sigma))  # mean 1, long tail
            attach[i] = int(min(hi, lo + excess_mean * w))
    return bodies, attach


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="Maildir++ root to create (must not exist or be empty)")
    p.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    p.add_argument("--target-mb", type=float, default=None,
                   help=f"approximate total size; default {DEFAULT_TARGET_MB:g} MB scaled by messages/{DEFAULT_MESSAGES}")
    p.add_argument("--attach-percent", type=float, default=3.0)
    p.add_argument("--big-message-mb", type=float, default=0,
                   help="also add one INBOX message of about this many MB (a base64 attachment)")
    p.add_argument("--seed", type=int, default=20240501)
    args = p.parse_args()
    if args.target_mb is None:
        args.target_mb = DEFAULT_TARGET_MB * args.messages / DEFAULT_MESSAGES

    if os.path.isdir(args.out) and os.listdir(args.out):
        sys.exit(f"make_corpus: {args.out} exists and is not empty")
    for folder, _ in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(args.out, folder, sub), exist_ok=True)
    with open(os.path.join(args.out, "dovecot-keywords"), "w") as f:
        f.writelines(f"{i} {k}\n" for i, k in enumerate(KEYWORDS))
    with open(os.path.join(args.out, "subscriptions"), "w") as f:
        f.write("Archive\nSent\n")

    started = time.time()
    g = Generator(args)
    bodies, attach = plan_sizes(g.rng, args.messages, args.target_mb * MB, args.attach_percent)
    # Internal dates: ascending over about five years, strictly increasing.
    epoch = 1_546_300_800  # 2019-01-01T00:00:00Z
    span = 5 * 365 * 86400
    step = max(1, span // max(1, args.messages))
    cumulative = [w for _, w in FOLDERS]
    for i in range(args.messages):
        epoch += 1 + int(g.rng.random() * 2 * step)
        r = g.rng.random()
        folder = FOLDERS[0][0] if r < cumulative[0] else (FOLDERS[1][0] if r < cumulative[0] + cumulative[1] else FOLDERS[2][0])
        new = folder == "" and g.rng.random() < 0.04
        flags = "" if new else g.flags(folder)
        data = g.message(i, epoch, folder, bodies[i], attach[i])
        g.write(folder, epoch, i, data, flags, new)
    if args.big_message_mb > 0:
        epoch += 3600
        data = g.message(args.messages, epoch, "", 8 * KB, int(args.big_message_mb * MB))
        g.write("", epoch, args.messages, data, "S", False)

    took = time.time() - started
    print(f"make_corpus: {g.files} messages, {g.bytes_written / MB:.1f} MB in {args.out} "
          f"({took:.1f} s, {sum(1 for a in attach if a)} with attachments"
          f"{', plus one of %.0f MB' % args.big_message_mb if args.big_message_mb > 0 else ''})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
