#!/usr/bin/env python3
"""Regenerate samples/store/ and samples/store-dates.tsv.

The committed store is the output of this script; it is kept so the sample can be
changed and rebuilt instead of hand-edited.  Output is deterministic: running it
twice gives byte-identical files (the PNG noise comes from a seeded generator).

    python3 samples/make_store.py            # rewrites samples/store and the TSV
    sh samples/restore-dates.sh              # only needed after a git checkout

Folder names on disk are IMAP modified UTF-7 (RFC 3501 5.1.3), computed by
`mutf7()` below, never typed by hand.
"""

import base64
import os
import random
import shutil
import struct
import sys
import zlib
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
STORE = os.path.join(HERE, "store")
DATES = os.path.join(HERE, "store-dates.tsv")
HOST = "mx1.example.com"


def mutf7(name: str) -> str:
    """IMAP modified UTF-7 for one folder name component (or a dotted path)."""
    out, pending = [], ""

    def flush():
        nonlocal pending
        if pending:
            raw = base64.b64encode(pending.encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending = ""

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    flush()
    return "".join(out)


def maildir_dir(path_components):
    """Maildir++ directory name for a folder path; [] is INBOX (the Maildir root)."""
    if not path_components:
        return ""
    return "." + ".".join(mutf7(c) for c in path_components)


def encoded_word(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def q_encoded_word(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == " ":
            out.append("_")
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    return "=?UTF-8?Q?" + "".join(out) + "?="


def rfc5322_date(dt: datetime) -> str:
    return dt.strftime("%a, %d %b %Y %H:%M:%S %z")


def make_png(width=40, height=40, seed=7) -> bytes:
    """A small but real PNG (RGB gradient with noise), a few KB once deflated."""
    rng = random.Random(seed)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows += bytes(
                (
                    (x * 6 + rng.randrange(40)) & 0xFF,
                    (y * 6 + rng.randrange(40)) & 0xFF,
                    (128 + rng.randrange(90)) & 0xFF,
                )
            )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def b64_lines(data: bytes, eol: str) -> str:
    text = base64.b64encode(data).decode("ascii")
    return eol.join(text[i : i + 76] for i in range(0, len(text), 76))


TZ_PARIS = timezone(timedelta(hours=1))
TZ_PARIS_SUMMER = timezone(timedelta(hours=2))
TZ_TOKYO = timezone(timedelta(hours=9))
TZ_NY = timezone(timedelta(hours=-5))
UTC = timezone.utc


class Msg:
    def __init__(self, user, folder, date, frm, to, subject, body, *, flags="S", new=False,
                 crlf=False, extra=None, msgid=None, keywords="", recv_delay=37, raw_body=False,
                 content_type="text/plain; charset=utf-8", cte="8bit", delivered=True):
        self.user, self.folder, self.date = user, folder, date
        self.frm, self.to, self.subject, self.body = frm, to, subject, body
        self.flags, self.keywords, self.new, self.crlf = flags, keywords, new, crlf
        self.extra = extra or []
        self.msgid = msgid
        self.recv_delay = recv_delay
        self.raw_body = raw_body
        self.content_type, self.cte = content_type, cte
        # Sent copies, drafts and notes were never delivered: no transport headers.
        self.delivered = delivered and folder not in (["Sent"], ["Drafts"])

    def render(self) -> bytes:
        eol = "\r\n" if self.crlf else "\n"
        received = self.date + timedelta(seconds=self.recv_delay)
        transport = [
            f"Return-Path: <{self.frm.split('<')[-1].rstrip('>')}>",
            f"Delivered-To: {self.user}",
            f"Received: from smtp.example.net (smtp.example.net [192.0.2.25])",
            f"\tby {HOST} with ESMTPS id {abs(hash_str(self.subject)) % 10**8:08d}",
            f"\tfor <{self.user}>; {rfc5322_date(received.astimezone(UTC))}",
        ]
        headers = (transport if self.delivered else []) + [
            f"From: {self.frm}",
            f"To: {self.to}",
            *self.extra,
            f"Subject: {self.subject}",
            f"Date: {rfc5322_date(self.date)}",
            f"Message-ID: <{self.msgid}>",
            "MIME-Version: 1.0",
        ]
        if not self.raw_body:
            headers += [f"Content-Type: {self.content_type}", f"Content-Transfer-Encoding: {self.cte}"]
        body = self.body if self.raw_body else self.body.strip("\n") + "\n"
        text = eol.join(headers) + eol + eol + body.replace("\n", eol)
        return text.encode("utf-8")

    @property
    def internal_epoch(self) -> int:
        return int((self.date + timedelta(seconds=self.recv_delay)).timestamp())


def hash_str(s: str) -> int:
    """A stable string hash (Python's hash() is salted per process)."""
    return zlib.crc32(s.encode("utf-8"))


ALICE = "alice@example.com"
BOB = "bob@example.com"
A_FROM = "Alice Martin <alice@example.com>"
B_FROM = "Bob Okafor <bob@example.com>"
CAROL = "Carol Nguyen <carol@partner.example.org>"
DAVE = "Dave Lindqvist <dave@example.net>"
NEWS = "Example Weekly <newsletter@lists.example.org>"


def alice_messages():
    png = make_png()
    boundary = "=_mf_boundary_5f3c2a"
    mixed = "\n".join(
        [
            "This is a multi-part message in MIME format.",
            "",
            f"--{boundary}",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Hi Alice,",
            "",
            "attached is the new logo draft (PNG, 40x40). Tell me what you think =E2=80=94",
            "the colours are not final yet.",
            "",
            "Carol",
            "",
            f"--{boundary}",
            'Content-Type: image/png; name="logo-draft.png"',
            "Content-Transfer-Encoding: base64",
            'Content-Disposition: attachment; filename="logo-draft.png"',
            "",
            b64_lines(png, "\n"),
            "",
            f"--{boundary}--",
            "",
        ]
    )
    return [
        # --- INBOX ---
        Msg(ALICE, [], datetime(2024, 1, 8, 9, 14, 2, tzinfo=TZ_PARIS), B_FROM, A_FROM,
            "Quarterly numbers", """
Hi Alice,

the Q4 numbers are in the shared folder. Revenue is up 4%, costs flat.
Can we go through them on Thursday?

Bob
""", msgid="20240108091402.4711@example.com"),
        Msg(ALICE, [], datetime(2024, 2, 12, 16, 40, 55, tzinfo=TZ_NY), CAROL, A_FROM,
            "Contract renewal - please review", """
Alice,

the renewal for 2024 is ready. Two changes: the notice period is now
60 days, and the support hours move to 08:00-18:00 CET.

Please review before Friday.

Regards,
Carol
""", flags="FS", msgid="CAF=renewal2024@partner.example.org"),
        Msg(ALICE, [], datetime(2024, 3, 4, 11, 2, 19, tzinfo=TZ_PARIS), B_FROM, A_FROM,
            "Re: Lunch on Friday?", """
Friday works, 12:30 at the usual place.

> Are you free for lunch on Friday?
""", flags="RS", msgid="20240304110219.9152@example.com",
            extra=["In-Reply-To: <20240303180000.1@example.com>", "References: <20240303180000.1@example.com>"]),
        Msg(ALICE, [], datetime(2024, 3, 18, 7, 30, 0, tzinfo=TZ_TOKYO), DAVE, A_FROM,
            encoded_word("Café meeting — 会議の議題"), """
Hello Alice,

agenda for the café meeting:
 1. Tokyo office opening (東京オフィス)
 2. Budget
 3. Any other business

Dave
""", crlf=True, msgid="a81c.77f0@example.net"),
        Msg(ALICE, [], datetime(2024, 4, 2, 14, 5, 41, tzinfo=TZ_NY), CAROL, A_FROM,
            "Logo draft", mixed, flags="S", keywords="ab", raw_body=True,
            msgid="CAF=logo.draft.3@partner.example.org",
            extra=[], content_type=None),
        Msg(ALICE, [], datetime(2024, 4, 20, 8, 0, 3, tzinfo=UTC), NEWS, A_FROM,
            "Example Weekly #112: storage, search and sieve", """
This week:
- Why Maildir still matters
- Sieve tricks for busy inboxes
- Reader question: how big is too big for one message?

You receive this because you subscribed at lists.example.org.
""", flags="PS", msgid="weekly-112@lists.example.org",
            extra=["List-Id: Example Weekly <weekly.lists.example.org>",
                   "List-Unsubscribe: <mailto:leave-weekly@lists.example.org>"]),
        Msg(ALICE, [], datetime(2024, 5, 6, 18, 22, 9, tzinfo=TZ_PARIS_SUMMER), B_FROM, A_FROM,
            "Server maintenance tonight", """
Heads up: the mail server restarts at 23:00 tonight, about ten minutes of downtime.
""", flags="F", msgid="20240506182209.31@example.com"),
        Msg(ALICE, [], datetime(2024, 5, 14, 9, 45, 30, tzinfo=TZ_PARIS_SUMMER), DAVE, A_FROM,
            "Travel plans", """
Alice, I land on Tuesday at 10:40 and can come straight to the office.
""", flags="", new=True, msgid="b3d2.1190@example.net"),
        # --- Archive, Archive/2024 ---
        Msg(ALICE, ["Archive"], datetime(2023, 11, 30, 17, 1, 12, tzinfo=TZ_PARIS), B_FROM, A_FROM,
            "Old project notes", """
Notes from the 2023 retrospective, kept for reference:
- ship smaller releases
- write the migration guide first
""", msgid="20231130170112.88@example.com"),
        Msg(ALICE, ["Archive", "2024"], datetime(2024, 1, 22, 10, 10, 10, tzinfo=TZ_PARIS), CAROL, A_FROM,
            "Signed contract 2024", """
Alice, the countersigned contract is filed. Nothing else needed from you.
""", flags="S", keywords="a", msgid="CAF=signed2024@partner.example.org"),
        # --- Résumé ---
        Msg(ALICE, ["Résumé"], datetime(2023, 9, 5, 8, 15, 0, tzinfo=TZ_PARIS_SUMMER), A_FROM, A_FROM,
            q_encoded_word("Résumé — version française"), """
Alice Martin
Ingénieure systèmes, Lyon

Expérience : 8 ans d'administration de messagerie (Dovecot, Postfix).
""", msgid="resume-fr-2023@example.com", delivered=False),
        # --- 日本語/Notes (the parent 日本語 has no directory of its own) ---
        Msg(ALICE, ["日本語", "Notes"], datetime(2024, 2, 29, 21, 0, 0, tzinfo=TZ_TOKYO), A_FROM, A_FROM,
            encoded_word("日本語の練習"), """
今日の単語:
- 会議 (かいぎ) meeting
- 予定 (よてい) plan
""", flags="FS", msgid="jp-notes-0229@example.com", delivered=False),
        # --- Sent ---
        Msg(ALICE, ["Sent"], datetime(2024, 3, 3, 18, 0, 0, tzinfo=TZ_PARIS), A_FROM, B_FROM,
            "Lunch on Friday?", """
Are you free for lunch on Friday?
""", msgid="20240303180000.1@example.com"),
        # --- Drafts ---
        Msg(ALICE, ["Drafts"], datetime(2024, 5, 15, 7, 55, 0, tzinfo=TZ_PARIS_SUMMER), A_FROM, DAVE,
            "Re: Travel plans", """
Hi Dave,

Tuesday is fine. I will

> Alice, I land on Tuesday at 10:40 and can come straight to the office.
""", flags="DS", msgid="draft-0515@example.com",
            extra=["In-Reply-To: <b3d2.1190@example.net>"]),
        # --- Trash (T = \Deleted, still present) ---
        Msg(ALICE, ["Trash"], datetime(2024, 1, 2, 6, 30, 0, tzinfo=UTC), NEWS, A_FROM,
            "Example Weekly #96: new year special", """
Happy new year from Example Weekly.
""", flags="ST", msgid="weekly-96@lists.example.org"),
    ]


def bob_messages():
    return [
        Msg(BOB, [], datetime(2024, 1, 8, 10, 2, 44, tzinfo=TZ_PARIS), A_FROM, B_FROM,
            "Re: Quarterly numbers", """
Thanks Bob, Thursday 10:00 works.

Alice
""", flags="RS", keywords="a", msgid="20240108085000.5@example.com"),
        Msg(BOB, [], datetime(2024, 2, 1, 12, 0, 0, tzinfo=UTC), CAROL, B_FROM,
            "Invoice 2024-017", """
Dear Bob,

please find the invoice details below.

  Item            Qty   Amount
  Support hours    12   1,440.00 EUR

Kind regards,
Carol
""", crlf=True, msgid="CAF=invoice017@partner.example.org"),
        Msg(BOB, [], datetime(2024, 5, 16, 13, 12, 45, tzinfo=TZ_PARIS_SUMMER), DAVE, B_FROM,
            encoded_word("Grüße aus Tokyo 🗼"), """
Hi Bob, greetings from Tokyo. Photos follow when I am back.
""", flags="", new=True, msgid="c7e1.2201@example.net"),
        Msg(BOB, ["Drafts"], datetime(2024, 5, 17, 9, 3, 0, tzinfo=TZ_PARIS_SUMMER), B_FROM, CAROL,
            "Invoice 2024-017 question", """
Hi Carol,

one question about the invoice: are the 12 support hours
""", flags="D", msgid="draft-bob-0517@example.com"),
        # Bob's copy of the reply alice has in her INBOX: same Message-ID and Date,
        # a different internal date (saved to Sent one second after writing).
        Msg(BOB, ["Sent"], datetime(2024, 3, 4, 11, 2, 19, tzinfo=TZ_PARIS), B_FROM, A_FROM,
            "Re: Lunch on Friday?", """
Friday works, 12:30 at the usual place.

> Are you free for lunch on Friday?
""", msgid="20240304110219.9152@example.com", recv_delay=1,
            extra=["In-Reply-To: <20240303180000.1@example.com>", "References: <20240303180000.1@example.com>"]),
    ]


def fix_multipart(m: Msg):
    # The mixed message carries its own Content-Type with the boundary.
    m.extra = ['Content-Type: multipart/mixed; boundary="=_mf_boundary_5f3c2a"']


KEYWORDS = {
    # Index -> keyword, per user.  Bob's order differs on purpose: the same letter
    # means a different keyword in each mailbox.
    ALICE: ["Work", "$Label1"],
    BOB: ["$Label1", "Work"],
}

SUBSCRIPTIONS = {
    ALICE: [["Archive"], ["Archive", "2024"], ["Résumé"], ["日本語", "Notes"], ["Sent"], ["Drafts"]],
    BOB: [["Sent"]],
}
FOLDERS = {
    ALICE: [["Archive"], ["Archive", "2024"], ["Résumé"], ["日本語", "Notes"], ["Sent"], ["Drafts"], ["Trash"]],
    BOB: [["Sent"], ["Drafts"]],
}


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n"


VCARDS_ALICE = {
    "carol-nguyen.vcf": """
BEGIN:VCARD
VERSION:3.0
UID:urn:uuid:3b1c6f0e-6a0e-4c59-9d7e-1f0c2a4b5d61
FN:Carol Nguyen
N:Nguyen;Carol;;;
ORG:Partner Example Ltd.
TITLE:Account Manager
EMAIL;TYPE=INTERNET,WORK:carol@partner.example.org
TEL;TYPE=WORK,VOICE:+44 20 7946 0000
ADR;TYPE=WORK:;;1 Example Street;London;;EC1A 1AA;United Kingdom
REV:2024-02-12T16:45:00Z
END:VCARD
""",
    "dave-lindqvist.vcf": """
BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:9a7e2f44-0c1d-4b1e-8f3a-5c6d7e8f9a0b
FN:Dave Lindqvist
N:Lindqvist;Dave;;;
EMAIL;TYPE=work:dave@example.net
TEL;VALUE=uri;TYPE="voice,cell":tel:+46-70-123-45-67
NOTE:Met at the Tokyo office opening. Prefers café meetings before 10:00.
BDAY:--0412
REV:20240318T073000Z
END:VCARD
""",
    "team.vcf": """
BEGIN:VCARD
VERSION:3.0
UID:team-erin-0001@example.com
FN:Erin Dubois
N:Dubois;Erin;;;
EMAIL;TYPE=INTERNET:erin@example.com
CATEGORIES:Team
END:VCARD
BEGIN:VCARD
VERSION:4.0
UID:team-frank-0002@example.com
FN:François Weber
N:Weber;François;;;
EMAIL:frank@example.com
CATEGORIES:Team
END:VCARD
""",
}

VCARDS_BOB = {
    "alice-martin.vcf": """
BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
FN:Alice Martin
N:Martin;Alice;;;
EMAIL;TYPE=work:alice@example.com
ORG:Example Corp
END:VCARD
""",
}

ICS_ALICE = {
    "weekly-standup.ics": """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//MailFerry samples//EN
CALSCALE:GREGORIAN
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:standup-2024@example.com
DTSTAMP:20240105T090000Z
DTSTART;TZID=Europe/Paris:20240108T093000
DTEND;TZID=Europe/Paris:20240108T094500
RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR
SUMMARY:Team stand-up
LOCATION:Room Rhône / video
ORGANIZER;CN=Alice Martin:mailto:alice@example.com
ATTENDEE;CN=Bob Okafor;PARTSTAT=ACCEPTED:mailto:bob@example.com
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Stand-up in 10 minutes
TRIGGER:-PT10M
END:VALARM
END:VEVENT
END:VCALENDAR
""",
    "contract-review.ics": """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//MailFerry samples//EN
BEGIN:VEVENT
UID:contract-review-20240216@example.com
DTSTAMP:20240212T170000Z
DTSTART:20240216T100000Z
DTEND:20240216T110000Z
SUMMARY:Contract renewal review with Carol
DESCRIPTION:Go through the 2024 renewal: notice period and support hours.
END:VEVENT
END:VCALENDAR
""",
    "send-q1-report.ics": """
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//MailFerry samples//EN
BEGIN:VTODO
UID:todo-q1-report@example.com
DTSTAMP:20240320T080000Z
DUE;VALUE=DATE:20240405
SUMMARY:Send Q1 report to Bob
PRIORITY:2
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
""",
}

SIEVE_ACTIVE = """require ["fileinto", "imap4flags"];

# Newsletters go to the archive, already read.
if header :contains "List-Id" "weekly.lists.example.org" {
    addflag "\\\\Seen";
    fileinto "Archive";
    stop;
}

# Anything about the CV goes to the Résumé folder (UTF-8 name, Dovecot encodes it).
if header :contains "Subject" ["résumé", "resume", "CV"] {
    fileinto "Résumé";
    stop;
}

# Mail from the partner is flagged for follow-up.
if address :domain :is "from" "partner.example.org" {
    addflag "\\\\Flagged";
}
"""

SIEVE_OLD = """require ["fileinto"];

# Superseded by filters.sieve; kept for reference.
if header :contains "Subject" "[weekly]" {
    fileinto "Trash";
}
"""


def write(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    if os.path.exists(STORE):
        shutil.rmtree(STORE)
    dates = []
    messages = alice_messages() + bob_messages()
    for m in messages:
        if m.content_type is None:
            fix_multipart(m)
    seen_times = set()
    for m in messages:
        maildir = os.path.join(STORE, m.user, "Maildir")
        folder = os.path.join(maildir, maildir_dir(m.folder))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        data = m.render()
        t = m.internal_epoch
        assert t not in seen_times, "internal dates must be distinct"
        seen_times.add(t)
        unique = f"M{hash_str(m.msgid) % 1000000:06d}P{1000 + len(seen_times)}"
        base = f"{t}.{unique}.{HOST},S={len(data)}"
        if m.new:
            rel = os.path.join(folder, "new", base)
        else:
            flags = "".join(sorted(m.flags)) + "".join(sorted(m.keywords))
            rel = os.path.join(folder, "cur", f"{base}:2,{flags}")
        write(rel, data)
        os.utime(rel, (t, t))
        dates.append((os.path.relpath(rel, STORE), t))

    for user in (ALICE, BOB):
        maildir = os.path.join(STORE, user, "Maildir")
        for f in FOLDERS[user]:
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(maildir, maildir_dir(f), sub), exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)
        # Dovecot keeps dovecot-keywords per folder: every folder gets the user's list.
        keywords = "".join(f"{i} {k}\n" for i, k in enumerate(KEYWORDS[user])).encode()
        write(os.path.join(maildir, "dovecot-keywords"), keywords)
        for f in FOLDERS[user]:
            write(os.path.join(maildir, maildir_dir(f), "dovecot-keywords"), keywords)
        write(os.path.join(maildir, "subscriptions"),
              "".join(".".join(mutf7(c) for c in f) + "\n" for f in SUBSCRIPTIONS[user]).encode())

    for name, text in VCARDS_ALICE.items():
        write(os.path.join(STORE, ALICE, "contacts", name), crlf(text))
    for name, text in VCARDS_BOB.items():
        write(os.path.join(STORE, BOB, "contacts", name), crlf(text))
    for name, text in ICS_ALICE.items():
        write(os.path.join(STORE, ALICE, "calendars", "work", name), crlf(text))
    write(os.path.join(STORE, ALICE, "sieve", "filters.sieve"), SIEVE_ACTIVE.encode())
    write(os.path.join(STORE, ALICE, "sieve", "old.sieve"), SIEVE_OLD.encode())
    os.symlink("sieve/filters.sieve", os.path.join(STORE, ALICE, ".dovecot.sieve"))

    dates.sort()
    with open(DATES, "w", encoding="utf-8") as f:
        for rel, t in dates:
            f.write(f"{rel}\t{t}\n")
    print(f"wrote {len(messages)} messages under {STORE}", file=sys.stderr)


if __name__ == "__main__":
    main()
