#!/usr/bin/env python3
"""Makes a mailbox with a real Dovecot and reads identity back, with smtplib and imaplib, so that what MailFerry
keeps of a Dovecot Maildir is checked by Dovecot itself, not by MailFerry's reader.

  maildir_identity.py seed HOST IMAP_PORT LMTP_PORT USER PASSWORD
      mail delivered through LMTP into INBOX and Work, flagged through IMAP ($Forwarded, a keyword of the user's,
      system flags), one message expunged so that UIDs have a gap and UIDNEXT is past the last UID
  maildir_identity.py identity HOST IMAP_PORT USER PASSWORD   -> JSON on stdout: per folder UIDVALIDITY, UIDNEXT,
      its GUID (Dovecot's STATUS X-GUID) and every message's UID, X-GUID, flags and keywords (without \\Recent) and SHA-256
  maildir_identity.py deliver HOST LMTP_PORT USER COUNT START  -> COUNT more messages through LMTP
  maildir_identity.py watch HOST IMAP_PORT USER PASSWORD STOP_FILE OUT
      -> looks at INBOX over and over until STOP_FILE exists; OUT gets every (UID, X-GUID) pair shown
  maildir_identity.py csvmap FILE                              -> an identity map CSV's rows, as JSON objects
"""
import hashlib, imaplib, json, re, smtplib, sys

def login(host, port, user, password):
    m = imaplib.IMAP4(host, int(port))
    m.login(user, password)
    return m

def ok(what, result):
    if result[0] != "OK":
        raise SystemExit(f"{what}: {result}")
    return result[1]

def seed(host, imap_port, lmtp_port, user, password):
    lmtp = smtplib.LMTP(host, int(lmtp_port))
    for i in range(6):
        lmtp.sendmail("sender@example.org", [user],
                      f"From: sender@example.org\r\nTo: {user}\r\nSubject: delivered {i}\r\nMessage-ID: <d{i}@example.org>\r\n\r\nbody {i}\r\n")
    lmtp.quit()
    m = login(host, imap_port, user, password)
    ok("create", m.create("Work"))
    for i in range(3):
        ok("append", m.append("Work", "(\\Seen)", None, f"Subject: work {i}\r\n\r\nwork body {i}\r\n".encode()))
    ok("select", m.select("INBOX"))
    ok("store", m.uid("STORE", "1", "+FLAGS", "($Forwarded \\Seen)"))
    ok("store", m.uid("STORE", "2", "+FLAGS", "(Project \\Answered \\Flagged)"))
    ok("store", m.uid("STORE", "4", "+FLAGS", "($Forwarded)"))
    ok("store", m.uid("STORE", "3", "+FLAGS", "(\\Deleted)"))
    ok("expunge", m.expunge())
    ok("select", m.select("Work"))
    ok("store", m.uid("STORE", "2", "+FLAGS", "($Forwarded Project)"))
    m.logout()

def identity(host, port, user, password):
    m = login(host, port, user, password)
    result = {}
    for line in ok("list", m.list()):
        name = line.decode().rsplit(" ", 1)[1].strip('"')
        status = ok("status", m.status(name, "(UIDVALIDITY UIDNEXT X-GUID)"))[0].decode()
        validity = int(re.search(r"UIDVALIDITY (\d+)", status).group(1))
        uidnext = int(re.search(r"UIDNEXT (\d+)", status).group(1))
        folder_guid = re.search(r"X-GUID (\w+)", status).group(1)
        ok("select", m.select(name, readonly=True))
        messages = []
        for item in ok("fetch", m.uid("FETCH", "1:*", "(UID FLAGS X-GUID BODY.PEEK[])")):
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            flags = sorted(f for f in re.search(r"FLAGS \(([^)]*)\)", head).group(1).split() if f != "\\Recent")
            messages.append({
                "uid": int(re.search(r"UID (\d+)", head).group(1)),
                "guid": re.search(r"X-GUID (\S+)", head).group(1),
                "flags": flags,
                "sha256": hashlib.sha256(item[1]).hexdigest(),
            })
        result[name] = {"uidValidity": validity, "uidNext": uidnext, "guid": folder_guid, "messages": sorted(messages, key=lambda x: x["uid"])}
    m.logout()
    print(json.dumps(result, sort_keys=True, indent=1))

def deliver(host, lmtp_port, user, count, start):
    """COUNT more messages through LMTP, numbered from START."""
    lmtp = smtplib.LMTP(host, int(lmtp_port))
    for i in range(int(start), int(start) + int(count)):
        lmtp.sendmail("sender@example.org", [user], f"From: sender@example.org\r\nSubject: later {i}\r\n\r\nbody {i}\r\n")
    lmtp.quit()

def watch(host, port, user, password, stop_file, out):
    """Until STOP_FILE exists, looks at INBOX again and again as a mail client would (SELECT, UID FETCH of UID and
    X-GUID), and writes to OUT every (UID, X-GUID) pair it was shown and how many looks it took."""
    import os, time
    m = login(host, port, user, password)
    pairs, looks = set(), 0
    while True:
        stopping = os.path.exists(stop_file)
        ok("select", m.select("INBOX", readonly=True))
        for item in ok("fetch", m.uid("FETCH", "1:*", "(UID X-GUID)")):
            if item:
                head = item.decode() if isinstance(item, bytes) else item[0].decode()
                uid = re.search(r"UID (\d+)", head)
                guid = re.search(r"X-GUID (\S+?)\)?$", head.strip())
                if uid and guid:
                    pairs.add((int(uid.group(1)), guid.group(1)))
        looks += 1
        if stopping:
            break
        time.sleep(0.02)
    m.logout()
    with open(out, "w") as f:
        json.dump({"looks": looks, "pairs": sorted(pairs)}, f)

def csvmap(path):
    """An identity map CSV as Python's csv module reads it: JSON, a list of rows as objects."""
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        print(json.dumps(list(csv.DictReader(f))))

if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"seed": seed, "identity": identity, "csvmap": csvmap, "deliver": deliver, "watch": watch}[command](*args)
