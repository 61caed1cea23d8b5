#!/usr/bin/env python3
"""The mailbox side of Benchmarks/dsync_bench.sh, over plain IMAP with imaplib.

    python3 Benchmarks/dsync_mailbox.py change  PORT USER PASSWORD --new N --reflag M [--seed S]
    python3 Benchmarks/dsync_mailbox.py compare PORT USER PORT USER PASSWORD

change:  appends N new messages (INBOX and Archive, with flags, keywords and internal dates) and changes the flags
         and keywords of M messages already there (set and cleared), the same ones for the same seed.
compare: reads both mailboxes message by message (every folder: the bytes' SHA-256, flags and keywords without
         \\Recent, internal date in epoch seconds) and prints "same N messages in F folders", or the differences
         and exits 1.
"""

import hashlib
import imaplib
import random
import re
import sys
import time
from collections import Counter

FETCH_CHUNK = 500
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
UID = re.compile(rb"UID (\d+)")


def connect(port, user, password):
    imap = imaplib.IMAP4("127.0.0.1", int(port))
    imap.login(user, password)
    return imap


def folders(imap):
    typ, lines = imap.list()
    assert typ == "OK", lines
    names = []
    for line in lines:
        if line is None:
            continue
        # (\HasNoChildren) "/" Name  or  "Name with spaces"
        m = re.match(rb'\((?P<attrs>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.+)$', line)
        assert m, line
        if b"\\Noselect" in m.group("attrs") or b"\\NonExistent" in m.group("attrs"):
            continue
        name = m.group("name").decode()
        if name.startswith('"'):
            name = name[1:-1]
        names.append(name)
    return sorted(names)


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uids(imap, folder, readonly=True):
    typ, data = imap.select(quoted(folder), readonly=readonly)
    assert typ == "OK", data
    typ, data = imap.uid("SEARCH", "ALL")
    assert typ == "OK", data
    return [int(u) for u in data[0].split()]


def messages(imap, folder):
    """Counter of (sha256, flags, internal date) for every message in the folder."""
    found = Counter()
    all_uids = uids(imap, folder)
    for start in range(0, len(all_uids), FETCH_CHUNK):
        chunk = all_uids[start:start + FETCH_CHUNK]
        typ, data = imap.uid("FETCH", "%d:%d" % (chunk[0], chunk[-1]), "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        assert typ == "OK", data
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            flags = FLAGS.search(head)
            date = INTERNALDATE.search(head)
            # Flags or the date may come after the literal, in the closing part; imaplib keeps that part as the
            # next list item, so read them from the head first.
            assert date, head
            flag_set = sorted(f for f in (flags.group(1).decode().split() if flags else []) if f.lower() != "\\recent")
            epoch = int(time.mktime(imaplib.Internaldate2tuple(b'INTERNALDATE "' + date.group(1) + b'"')))
            found[(hashlib.sha256(body).hexdigest(), " ".join(flag_set), epoch)] += 1
    return found


def compare(argv):
    a_port, a_user, b_port, b_user, password = argv
    a, b = connect(a_port, a_user, password), connect(b_port, b_user, password)
    a_folders, b_folders = folders(a), folders(b)
    problems = []
    total = 0
    for folder in sorted(set(a_folders) | set(b_folders)):
        left = messages(a, folder) if folder in a_folders else Counter()
        right = messages(b, folder) if folder in b_folders else Counter()
        total += sum(left.values())
        if left != right:
            only_a, only_b = left - right, right - left
            problems.append("%s: %d only in %s (e.g. %s), %d only in %s (e.g. %s)" % (
                folder, sum(only_a.values()), a_user, list(only_a)[:2], sum(only_b.values()), b_user, list(only_b)[:2]))
    for imap in (a, b):
        imap.logout()
    if problems:
        print("DIFFERENT:\n  " + "\n  ".join(problems))
        return 1
    print("same %d messages in %d folders" % (total, len(a_folders)))
    return 0


def new_message(rng, i):
    words = ["delta", "ferry", "mail", "sync", "pass", "harbour", "tide", "quay", "cargo", "manifest"]
    body = "\r\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(rng.randint(20, 120)))
    return ("From: Sender %d <sender%d@bench.example.com>\r\nTo: bench@example.com\r\nSubject: new message %d\r\n"
            "Date: Mon, 1 Dec 2025 10:%02d:%02d +0000\r\nMessage-ID: <new-%d@bench.example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n" % (i, i, i, (i // 60) % 60, i % 60, i, body)).encode()


def change(argv):
    port, user, password = argv[:3]
    new, reflag, seed = 0, 0, 17
    rest = argv[3:]
    while rest:
        option, value = rest[0], int(rest[1])
        rest = rest[2:]
        if option == "--new":
            new = value
        elif option == "--reflag":
            reflag = value
        elif option == "--seed":
            seed = value
        else:
            raise SystemExit("unknown option " + option)
    rng = random.Random(seed)
    imap = connect(port, user, password)
    names = folders(imap)
    # Reflag first, so that only messages of the previous pass are reflagged.
    everything = [(folder, uid) for folder in names for uid in uids(imap, folder)]
    picked = sorted(rng.sample(everything, min(reflag, len(everything))))
    current = None
    for folder, uid in picked:
        if folder != current:
            typ, data = imap.select(quoted(folder))
            assert typ == "OK", data
            current = folder
        flags = [f for f in ("\\Seen", "\\Flagged", "\\Answered", "$Label1", "$Work") if rng.random() < 0.5]
        typ, data = imap.uid("STORE", str(uid), "FLAGS.SILENT", "(" + " ".join(flags) + ")")
        assert typ == "OK", data
    targets = [f for f in ("INBOX", "Archive") if f in names] or ["INBOX"]
    for i in range(new):
        folder = targets[0] if rng.random() < 0.8 else targets[-1]
        flags = " ".join(f for f in ("\\Seen", "$Label2") if rng.random() < 0.5)
        date = imaplib.Time2Internaldate(1764000000 + i * 37)
        typ, data = imap.append(quoted(folder), "(" + flags + ")", date, new_message(rng, i))
        assert typ == "OK", data
    imap.logout()
    print("%d new, %d reflagged" % (new, len(picked)))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("change", "compare"):
        print(__doc__)
        return 2
    return change(sys.argv[2:]) if sys.argv[1] == "change" else compare(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
