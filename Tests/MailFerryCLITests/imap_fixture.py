#!/usr/bin/env python3
"""Loads a varied mailbox into an IMAP server and dumps a server's mailbox, with Python's imaplib, so that
MailFerry's IMAP round trip is checked by a client that is not MailFerry's.

  imap_fixture.py load HOST PORT USER PASSWORD CAFILE SEED COUNT [BIGMB]
  imap_fixture.py dump HOST PORT USER PASSWORD CAFILE       -> canonical JSON on stdout
  imap_fixture.py count HOST PORT USER PASSWORD CAFILE      -> number of messages in all folders
  imap_fixture.py hashes HOST PORT USER PASSWORD CAFILE     -> {folder: sorted SHA-256 of every message}
  imap_fixture.py crlf-hashes MAILDIR                       -> the same for a Maildir++ tree's files with every line
                                                               ending (CRLF, LF, CR) made CRLF, as IMAP holds them
  imap_fixture.py check-map CSV HOST SOURCE_PORT TARGET_PORT USER PASSWORD SOURCE_CAFILE TARGET_CAFILE
        -> an identity map's rows checked on both servers: the source's X-GUID at the source UID, the same bytes
           at the target UID
  imap_fixture.py replace HOST PORT USER PASSWORD CAFILE FOLDER SUBJECT
        -> the message with that Subject gets a changed body (same flags, date, Message-ID): a real byte difference

Connections use STARTTLS with CAFILE. Dumps give, per folder (decoded name), its special use, whether it is
subscribed, and every message's SHA-256, flags, keywords and INTERNALDATE, sorted, so that two servers holding the
same mail dump the same text.
"""
import base64, hashlib, imaplib, json, random, re, ssl, sys, time

def mutf7_encode(name):
    out, buf = [], []
    def flush():
        if buf:
            b = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            buf.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)

def mutf7_decode(name):
    def dec(m):
        s = m.group(1)
        if s == "":
            return "&"
        s = s.replace(",", "/")
        s += "=" * (-len(s) % 4)
        return base64.b64decode(s).decode("utf-16-be")
    return re.sub(r"&([^-]*)-", dec, name)

def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

def connect(host, port, user, password, cafile):
    m = imaplib.IMAP4(host, int(port))
    if cafile != "-":  # "-": a server without TLS
        m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
    m.login(user, password)
    return m

FOLDERS = [
    ("INBOX", None, True),
    ("Sent Items", "\\Sent", True),
    ("Archive", None, True),
    ("Archive/2019", None, False),
    ("Archive/2019/Q1 Reports", None, True),
    ("Réunions & Comptes", None, True),
    ("日本語", None, False),
    ("Drafts", "\\Drafts", True),
]
SYSTEM = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]
KEYWORDS = ["$Forwarded", "$MDNSent", "Work", "$Label1", "Later"]

def make_message(rng, i, big_mb):
    kind = i % 9
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(631152000 + rng.randrange(0, 1000000000)))
    head = f"From: Sender {i} <s{i}@example.org>\r\nTo: alice@example.com\r\nDate: {date}\r\n"
    if kind != 3:
        head += f"Message-ID: <m{i}.{rng.randrange(1 << 30)}@example.org>\r\n"
    if kind == 0:
        return (head + f"Subject: plain {i}\r\n\r\nHello {i}\r\n").encode()
    if kind == 1:
        return (head + "Subject: =?UTF-8?B?w6TDtsO8?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + "Grüße, 日本 ✓\r\n".encode() * 20
    if kind == 2:
        body = base64.encodebytes(bytes(rng.randrange(256) for _ in range(30000))).decode().replace("\n", "\r\n")
        return (head + f"Subject: attachment {i}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b{i}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body + f"\r\n--b{i}--\r\n").encode()
    if kind == 3:
        return (head + "Subject: no message-id, odd lines\r\n\r\n.leading dot\r\n..two dots\r\nFrom here\r\n" + "x" * 5000 + "\r\n").encode()
    if kind == 4:
        return (head + "Subject: empty body\r\n\r\n").encode()
    if kind == 5:
        return (head + "Subject: long header\r\nX-Long: " + " ".join(["word"] * 3000) + "\r\n\r\nbody\r\n").encode()
    if kind == 6 and big_mb and i < 9 * 4:
        # Four large attachments of random bytes (base64), which no compressor shrinks.
        raw = rng.randbytes(big_mb * 1024 * 1024 * 3 // 4)
        body = base64.encodebytes(raw).replace(b"\n", b"\r\n")
        return (head + f"Subject: large {i}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode() + body
    if kind == 7:
        return (head + "Subject: latin-1 8bit\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n").encode() + b"Caf\xe9 cr\xe8me\r\n"
    return (head + f"Subject: reply {i}\r\nIn-Reply-To: <m{i-1}@example.org>\r\n\r\n> quoted\r\nanswer\r\n").encode()

def load(host, port, user, password, cafile, seed, count, big_mb=0):
    rng = random.Random(int(seed))
    m = connect(host, port, user, password, cafile)
    sep = separator(m)
    for name, use, subscribed in FOLDERS:
        wire = mutf7_encode(name.replace("/", sep))
        if name != "INBOX":
            typ, data = m.create(quote(wire))
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(d for d in data if d):
                raise SystemExit(f"CREATE {name}: {data}")
        if subscribed:
            m.subscribe(quote(wire))
        if name == "Archive":
            other = "bob@example.com" if user != "bob@example.com" else "alice@example.com"
            typ, data = m.setacl(quote(wire), other, "lrs")
            if typ != "OK":
                raise SystemExit(f"SETACL {name}: {data}")
    for i in range(int(count)):
        name = FOLDERS[i % len(FOLDERS)][0]
        flags = [f for f in SYSTEM if rng.random() < 0.35] + [k for k in KEYWORDS if rng.random() < 0.2]
        offset = rng.choice([0, 60, -300, 330, 545, -720])
        epoch = 631152000 + rng.randrange(0, 1100000000)
        sign = "+" if offset >= 0 else "-"
        tm = time.gmtime(epoch + offset * 60)
        when = time.strftime("%d-%b-%Y %H:%M:%S", tm) + " %s%02d%02d" % (sign, abs(offset) // 60, abs(offset) % 60)
        typ, data = m.append(quote(mutf7_encode(name.replace("/", sep))), "(" + " ".join(flags) + ")", '"' + when + '"', make_message(rng, i, int(big_mb)))
        if typ != "OK":
            raise SystemExit(f"APPEND {i}: {data}")
    m.logout()

def separator(m):
    typ, data = m.list('""', '""')
    sep = LIST_RE.match(data[0]).group("sep").decode().strip('"')
    return sep or "/"

LIST_RE = re.compile(rb'\((?P<attrs>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.*)$')

def parse_name(raw):
    raw = raw.strip()
    if raw.startswith(b'"'):
        raw = raw[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return raw.decode()

def dump(host, port, user, password, cafile):
    m = connect(host, port, user, password, cafile)
    typ, data = m.list()
    subscribed = set()
    _, lsub = m.lsub()
    for line in lsub:
        if line:
            subscribed.add(parse_name(LIST_RE.match(line).group("name")))
    folders = {}
    for line in data:
        if isinstance(line, tuple):
            line = line[0] + b'"' + line[1] + b'"'
        mt = LIST_RE.match(line)
        attrs = mt.group("attrs").decode().split()
        wire = parse_name(mt.group("name"))
        if "\\Noselect" in attrs or "\\NonExistent" in attrs:
            continue
        sep = mt.group("sep").decode().strip('"')
        name = mutf7_decode(wire)
        use = [a for a in attrs if a in ("\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive")]
        typ, _ = m.select(quote(wire), readonly=True)
        messages = []
        typ, resp = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
        for item in resp:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split()
            date = re.search(r'INTERNALDATE "([^"]+)"', meta).group(1)
            epoch = time.mktime(imaplib.Internaldate2tuple(('INTERNALDATE "%s"' % date).encode()))
            flags = [f for f in flags if f != "\\Recent"]
            messages.append({
                "sha256": hashlib.sha256(item[1]).hexdigest(),
                "size": len(item[1]),
                "flags": sorted(f for f in flags if f.startswith("\\")),
                "keywords": sorted(f for f in flags if not f.startswith("\\")),
                "internaldate": date,
            })
        messages.sort(key=lambda x: (x["sha256"], x["internaldate"]))
        key = "/".join(name.split(sep)) if sep and sep != "/" else name
        typ, acl = m.getacl(quote(wire))
        rights = []
        if typ == "OK" and acl and acl[0]:
            text = acl[0].decode()
            # The mailbox name comes first, quoted (it may hold spaces) or an atom; identifier-rights pairs follow.
            pairs = text.rsplit('"', 1)[1].split() if text.startswith('"') else text.split()[1:]
            # Rights are a set of letters (RFC 4314); servers list them in any order.
            rights = sorted((who, "".join(sorted(what))) for who, what in zip(pairs[0::2], pairs[1::2]))
        folders[key] = {"special_use": use, "subscribed": wire in subscribed, "acl": rights, "messages": messages}
    m.logout()
    print(json.dumps(folders, sort_keys=True, indent=1, ensure_ascii=False))

def selectable(m):
    """The wire names of the folders that can be selected."""
    typ, data = m.list()
    for line in data:
        if isinstance(line, tuple):
            line = line[0] + b'"' + line[1] + b'"'
        mt = LIST_RE.match(line)
        if "\\Noselect" not in mt.group("attrs").decode():
            yield parse_name(mt.group("name"))

def hashes(host, port, user, password, cafile):
    m = connect(host, port, user, password, cafile)
    out = {}
    for wire in selectable(m):
        m.select(quote(wire), readonly=True)
        typ, resp = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
        found = [hashlib.sha256(item[1]).hexdigest() for item in resp if isinstance(item, tuple)]
        if found:
            out[mutf7_decode(wire)] = sorted(found)
    m.logout()
    print(json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False))

def crlf_hashes(root):
    import os
    out = {}
    for entry in [""] + sorted(os.listdir(root)):
        if entry and not (entry.startswith(".") and os.path.isdir(os.path.join(root, entry))):
            continue
        name = "INBOX" if entry == "" else mutf7_decode(entry[1:]).replace(".", "/")
        found = []
        for sub in ("cur", "new"):
            d = os.path.join(root, entry, sub)
            if not os.path.isdir(d):
                continue
            for f in os.listdir(d):
                data = open(os.path.join(d, f), "rb").read()
                found.append(hashlib.sha256(re.sub(rb"\r\n|\r|\n", b"\r\n", data)).hexdigest())
        if found:
            out[name] = sorted(found)
    print(json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False))

def replace(host, port, user, password, cafile, folder, subject):
    m = connect(host, port, user, password, cafile)
    m.select(quote(mutf7_encode(folder)))
    typ, found = m.uid("SEARCH", "HEADER", "Subject", quote(subject))
    uids = found[0].split()
    assert len(uids) == 1, (subject, found)
    uid = uids[0]
    typ, resp = m.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
    meta = resp[0][0].decode()
    flags = [f for f in re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split() if f != "\\Recent"]
    date = re.search(r'INTERNALDATE "([^"]+)"', meta).group(1)
    changed = resp[0][1] + b"A line added at the target.\r\n"
    typ, _ = m.append(quote(mutf7_encode(folder)), "(" + " ".join(flags) + ")", '"' + date + '"', changed)
    assert typ == "OK", typ
    m.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
    m.uid("EXPUNGE", uid)
    m.logout()

def count(host, port, user, password, cafile):
    m = connect(host, port, user, password, cafile)
    total = 0
    for wire in selectable(m):
        typ, st = m.status(quote(wire), "(MESSAGES)")
        total += int(re.search(rb"MESSAGES (\d+)", st[0]).group(1))
    m.logout()
    print(total)

def change(host, port, user, password, cafile):
    """What a user does between two passes: new mail, flags set and cleared, a deletion, a move, a rename."""
    m = connect(host, port, user, password, cafile)
    sep = separator(m)
    def ok(what, result):
        typ, data = result
        if typ != "OK":
            raise SystemExit(f"{what}: {data}")
        return data
    ok("APPEND", m.append("INBOX", "(\\Seen)", '"01-Feb-2024 10:00:00 +0100"',
                          b"From: new@example.org\r\nSubject: arrived between passes\r\nMessage-ID: <between@example.org>\r\n\r\nnew\r\n"))
    ok("SELECT", m.select("INBOX"))
    uids = ok("UID SEARCH", m.uid("SEARCH", None, "ALL"))[0].split()
    ok("STORE +FLAGS", m.uid("STORE", uids[0], "+FLAGS", "(\\Flagged $Label1)"))
    ok("STORE -FLAGS", m.uid("STORE", uids[1], "-FLAGS", "(\\Seen \\Answered Work)"))
    ok("STORE \\Deleted", m.uid("STORE", uids[2], "+FLAGS", "(\\Deleted)"))
    ok("UID EXPUNGE", m.uid("EXPUNGE", uids[2]))
    ok("UID MOVE", m.uid("MOVE", uids[3], "Archive"))
    m.close()
    ok("RENAME", m.rename(quote(mutf7_encode("日本語")), quote(mutf7_encode("Renamed"))))
    m.logout()

def recreate(host, port, user, password, cafile, name):
    """Deletes a folder and makes it again with the same messages: same name, same bytes, a new UIDVALIDITY."""
    m = connect(host, port, user, password, cafile)
    def ok(what, result):
        typ, data = result
        if typ != "OK":
            raise SystemExit(f"{what}: {data}")
        return data
    wire = quote(mutf7_encode(name))
    ok("CREATE", m.create("MailFerryTmp"))
    ok("SELECT", m.select(wire))
    ok("UID COPY", m.uid("COPY", "1:*", "MailFerryTmp"))
    m.close()
    ok("DELETE", m.delete(wire))
    ok("CREATE", m.create(wire))
    ok("SELECT", m.select("MailFerryTmp"))
    ok("UID COPY", m.uid("COPY", "1:*", wire))
    m.close()
    ok("DELETE", m.delete("MailFerryTmp"))
    if name == "Archive":  # the ACL load() gives it, which DELETE took away
        other = "bob@example.com" if user != "bob@example.com" else "alice@example.com"
        ok("SETACL", m.setacl(wire, other, "lrs"))
    m.logout()

def empty(host, port, user, password, cafile):
    """Every message of every folder gone (the folders stay, with their UIDVALIDITY): a target that lost its mail."""
    m = connect(host, port, user, password, cafile)
    typ, data = m.list()
    for line in data:
        if isinstance(line, tuple):
            line = line[0] + b'"' + line[1] + b'"'
        mt = LIST_RE.match(line)
        if "\\Noselect" in mt.group("attrs").decode():
            continue
        typ, st = m.select(quote(parse_name(mt.group("name"))))
        if typ != "OK":
            raise SystemExit(f"SELECT: {st}")
        if int(st[0]) > 0:
            m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            m.expunge()
        m.close()
    m.logout()

def check_map(csv_path, host, source_port, target_port, user, password, source_ca, target_ca):
    """Every row of an identity map checked against both servers: each folder's UIDVALIDITY and GUID (STATUS
    X-GUID) on each side; at the source, the message at
    (source_folder, source_uid) has the row's source_guid as X-GUID; at the target, the message at (target_folder,
    target_uid) has the same bytes and the row's target_guid as X-GUID. Prints {"messages": N, "folders": N, "problems": [...]}."""
    import csv
    source = connect(host, source_port, user, password, source_ca)
    target = connect(host, target_port, user, password, target_ca)
    problems, messages, folders = [], 0, 0
    def fetch(m, folder, uid, items):
        typ, data = m.select(quote(mutf7_encode(folder.replace("/", separator(m)))), readonly=True)
        if typ != "OK":
            return None
        typ, data = m.uid("FETCH", uid, items)
        return data[0] if typ == "OK" and data and isinstance(data[0], tuple) else None
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "folder":
                folders += 1
                for m, side in ((source, "source"), (target, "target")):
                    name = quote(mutf7_encode(row[side + "_folder"].replace("/", separator(m))))
                    typ, data = m.status(name, "(UIDVALIDITY X-GUID)")
                    shown = data[0].decode() if typ == "OK" else ""
                    validity = re.search(r"UIDVALIDITY (\d+)", shown)
                    guid = re.search(r"X-GUID (\w+)", shown)
                    if not validity or validity.group(1) != row[side + "_uidvalidity"] or not guid or guid.group(1) != row[side + "_folder_guid"]:
                        problems.append(f"folder {row[side + '_folder']} at the {side}: the server shows {shown}, the map {row}")
                continue
            messages += 1
            at_source = fetch(source, row["source_folder"], row["source_uid"], "(X-GUID BODY.PEEK[])")
            at_target = fetch(target, row["target_folder"], row["target_uid"], "(X-GUID BODY.PEEK[])")
            if at_source is None or at_target is None:
                problems.append(f"{row['entry']}: not found (source {at_source is not None}, target {at_target is not None})")
                continue
            guid = re.search(rb"X-GUID (\S+)", at_source[0]).group(1).decode()
            if guid != row["source_guid"]:
                problems.append(f"{row['entry']}: source X-GUID {guid}, map says {row['source_guid']}")
            target_guid = re.search(rb"X-GUID (\S+)", at_target[0]).group(1).decode()
            if target_guid != row["target_guid"]:
                problems.append(f"{row['entry']}: target X-GUID {target_guid}, map says {row['target_guid']}")
            if hashlib.sha256(at_source[1]).digest() != hashlib.sha256(at_target[1]).digest():
                problems.append(f"{row['entry']}: the target's UID {row['target_uid']} holds other bytes")
    source.logout()
    target.logout()
    print(json.dumps({"messages": messages, "folders": folders, "problems": problems}))

if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"load": load, "dump": dump, "count": count, "change": change, "recreate": recreate, "hashes": hashes,
     "crlf-hashes": crlf_hashes, "replace": replace, "empty": empty, "check-map": check_map}[command](*args)
