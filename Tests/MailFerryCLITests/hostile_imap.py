#!/usr/bin/env python3
"""A scriptable hostile IMAP server for tests (plain TCP, no TLS: give the client --allow-plaintext).

  hostile_imap.py MODE

Listens on 127.0.0.1 (a free port, printed as "port N" on stdout) and serves every connection in MODE:

  silent        accepts the connection and never sends a greeting
  echo-login    greets without AUTH=PLAIN, so the client sends LOGIN; answers NO with the command it got
  echo-plain    greets with AUTH=PLAIN and SASL-IR; answers AUTHENTICATE with NO and the command it got
  echo-plain-continuation
                greets with AUTH=PLAIN only: the blob comes after a continuation; NO echoes it
  drop-fetch    a small mailbox, but closes the connection at every UID FETCH
  trickle       a small mailbox whose first message body is sent at 1 byte a second
  size-mismatch a small mailbox whose first message is 10 bytes shorter than its RFC822.SIZE says

Each line received is echoed on stderr (for debugging a failing test).
"""
import re
import signal
import socket
import sys
import threading
import time

# A test runner may have blocked signals, and children inherit the mask: make SIGTERM end this server.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

mode = sys.argv[1]


def message(n):
    body = "".join("line %d of a test message, long enough to take a while when trickled\r\n" % i for i in range(40))
    return ("From: a@example.com\r\nTo: b@example.com\r\nSubject: test %d\r\nMessage-ID: <%d@hostile>\r\n\r\n%s"
            % (n, n, body)).encode()


MESSAGES = {1: message(1), 2: message(2)}


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_line(self):
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_command(self):
        """One command with its literals inlined as they were sent (a synchronizing literal gets its '+')."""
        line = self.read_line()
        whole = line
        while True:
            m = re.search(rb"\{(\d+)(\+?)\}$", line)
            if not m:
                break
            if not m.group(2):
                self.send("+ go ahead\r\n")
            whole += b"\r\n" + self.read_exact(int(m.group(1)))
            line = self.read_line()
            whole += line
        sys.stderr.write("C: %r\n" % whole)
        return whole


def uids_of(spec):
    found = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":")
            lo = int(a)
            hi = max(MESSAGES) if b == "*" else int(b)
            found.update(u for u in MESSAGES if min(lo, hi) <= u <= max(lo, hi))
        elif int(part) in MESSAGES:
            found.add(int(part))
    return sorted(found)


def serve(sock):
    c = Connection(sock)
    if mode == "silent":
        while sock.recv(65536):
            pass
        return
    capabilities = "IMAP4rev1"
    if mode == "echo-plain":
        capabilities += " AUTH=PLAIN SASL-IR"
    elif mode == "echo-plain-continuation":
        capabilities += " AUTH=PLAIN"
    c.send("* OK [CAPABILITY %s] hostile ready\r\n" % capabilities)
    while True:
        command = c.read_command()
        parts = command.split(b" ", 2)
        tag = parts[0].decode()
        verb = parts[1].decode().upper() if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else b""
        if verb == "CAPABILITY":
            c.send("* CAPABILITY %s\r\n%s OK done\r\n" % (capabilities, tag))
        elif verb == "LOGIN" and mode.startswith("echo"):
            c.send(b"%s NO you sent: %s\r\n" % (tag.encode(), command.replace(b"\r\n", b" ")))
        elif verb == "AUTHENTICATE" and mode.startswith("echo"):
            if mode == "echo-plain-continuation":
                c.send("+ \r\n")
                blob = c.read_line()
                sys.stderr.write("C: %r\n" % blob)
                c.send(b"%s NO you sent: %s\r\n" % (tag.encode(), blob))
            else:
                c.send(b"%s NO you sent: %s\r\n" % (tag.encode(), command))
        elif verb in ("LOGIN", "AUTHENTICATE"):
            c.send("%s OK [CAPABILITY IMAP4rev1] logged in\r\n" % tag)
        elif verb == "LIST":
            c.send('* LIST (\\HasNoChildren) "/" INBOX\r\n%s OK done\r\n' % tag)
        elif verb == "LSUB":
            c.send('* LSUB () "/" INBOX\r\n%s OK done\r\n' % tag)
        elif verb in ("SELECT", "EXAMINE"):
            c.send("* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n%s OK [READ-ONLY] done\r\n"
                   % (len(MESSAGES), max(MESSAGES) + 1, tag))
        elif verb == "UID" and rest.upper().startswith(b"SEARCH"):
            c.send("* SEARCH %s\r\n%s OK done\r\n" % (" ".join(str(u) for u in sorted(MESSAGES)), tag))
        elif verb == "UID" and rest.upper().startswith(b"FETCH"):
            if mode == "drop-fetch":
                sock.shutdown(socket.SHUT_RDWR)
                return
            fetch(c, tag, rest.decode("latin-1"))
        elif verb == "LOGOUT":
            c.send("* BYE bye\r\n%s OK done\r\n" % tag)
            return
        elif verb == "NOOP":
            c.send("%s OK done\r\n" % tag)
        else:
            c.send("%s BAD unknown command\r\n" % tag)


def fetch(c, tag, rest):
    _, spec, items = rest.split(" ", 2)
    for uid in uids_of(spec):
        data = MESSAGES[uid]
        seq = sorted(MESSAGES).index(uid) + 1
        if "BODY.PEEK[]" not in items:
            size = len(data) + (10 if mode == "size-mismatch" and uid == 1 else 0)
            c.send('* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "01-Jan-2024 10:00:00 +0000" RFC822.SIZE %d)\r\n'
                   % (seq, uid, size))
            continue
        partial = re.search(r"BODY\.PEEK\[\]<(\d+)\.(\d+)>", items)
        origin = ""
        if partial:
            start, length = int(partial.group(1)), int(partial.group(2))
            data = data[start:start + length]
            origin = "<%d>" % start
        c.send("* %d FETCH (UID %d BODY[]%s {%d}\r\n" % (seq, uid, origin, len(data)))
        if mode == "trickle" and uid == 1:
            for i in range(len(data)):
                c.send(data[i:i + 1])
                time.sleep(1)
        else:
            c.send(data)
        c.send(")\r\n")
    c.send("%s OK done\r\n" % tag)


def handle(sock):
    try:
        serve(sock)
    except (EOFError, OSError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print("port", listener.getsockname()[1], flush=True)
while True:
    client, _ = listener.accept()
    threading.Thread(target=handle, args=(client,), daemon=True).start()
