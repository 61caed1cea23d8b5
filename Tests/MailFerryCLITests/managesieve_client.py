#!/usr/bin/env python3
"""An independent ManageSieve client (RFC 5804) for tests, on a raw socket with Python's ssl: STARTTLS
verified against a CA file, AUTHENTICATE PLAIN, then one action.

    managesieve_client.py HOST PORT CAFILE USER PASSWORD put NAME FILE [active]
    managesieve_client.py HOST PORT CAFILE USER PASSWORD put-many PREFIX COUNT
    managesieve_client.py HOST PORT CAFILE USER PASSWORD delete NAME
    managesieve_client.py HOST PORT CAFILE USER PASSWORD dump DIR

`put` stores FILE's bytes as script NAME (PUTSCRIPT) and, with `active`, makes it active (SETACTIVE).
`put-many` stores COUNT small scripts PREFIX0000... and makes the first active. `dump` writes each script's exact bytes (GETSCRIPT) to DIR/NAME and prints a JSON object
{"NAME": {"active": bool, "sha256": hex, "size": n}}.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import sys


class Session:
    def __init__(self, host, port, cafile):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""
        self.read_response()  # capabilities
        self.send(b"STARTTLS\r\n")
        status, _, _ = self.read_response()
        assert status == "OK", "STARTTLS refused"
        context = ssl.create_default_context(cafile=cafile)
        self.sock = context.wrap_socket(self.sock, server_hostname=host)
        self.buf = b""
        self.read_response()  # capabilities again, over TLS

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed the connection")
        self.buf += chunk

    def line(self):
        """One response line as a list of tokens: bytes for strings, str for atoms; literals read whole."""
        tokens = []
        while True:
            while b"\r\n" not in self.buf:
                self.fill()
            end = self.buf.index(b"\r\n")
            text = self.buf[:end]
            i = 0
            while i < len(text):
                c = text[i:i + 1]
                if c == b" ":
                    i += 1
                elif c == b'"':
                    j, out = i + 1, b""
                    while text[j:j + 1] != b'"':
                        if text[j:j + 1] == b"\\":
                            j += 1
                        out += text[j:j + 1]
                        j += 1
                    tokens.append(out)
                    i = j + 1
                elif c == b"{" and text.endswith(b"}"):
                    size = int(text[i + 1:-1].rstrip(b"+"))
                    self.buf = self.buf[end + 2:]
                    while len(self.buf) < size:
                        self.fill()
                    tokens.append(self.buf[:size])
                    self.buf = self.buf[size:]
                    break
                else:
                    j = i
                    while j < len(text) and text[j:j + 1] != b" ":
                        j += 1
                    tokens.append(text[i:j].decode())
                    i = j
            else:
                self.buf = self.buf[end + 2:]
                return tokens

    def read_response(self):
        lines = []
        while True:
            tokens = self.line()
            if tokens and isinstance(tokens[0], str) and tokens[0].upper() in ("OK", "NO", "BYE"):
                return tokens[0].upper(), tokens[1:], lines
            lines.append(tokens)

    def command(self, name, *args):
        out = name.encode()
        for arg in args:
            out += b" {%d+}\r\n" % len(arg) + arg
        self.send(out + b"\r\n")
        return self.read_response()


def main():
    host, port, cafile, user, password, action = sys.argv[1:7]
    s = Session(host, int(port), cafile)
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
    status, rest, _ = s.command("AUTHENTICATE", b"PLAIN", plain)
    assert status == "OK", "login refused: %r" % (rest,)
    if action == "put":
        name, path = sys.argv[7], sys.argv[8]
        with open(path, "rb") as f:
            status, rest, _ = s.command("PUTSCRIPT", name.encode(), f.read())
        assert status == "OK", "PUTSCRIPT refused: %r" % (rest,)
        if sys.argv[9:] == ["active"]:
            status, rest, _ = s.command("SETACTIVE", name.encode())
            assert status == "OK", "SETACTIVE refused: %r" % (rest,)
    elif action == "delete":
        status, rest, _ = s.command("DELETESCRIPT", sys.argv[7].encode())
        assert status == "OK", "DELETESCRIPT refused: %r" % (rest,)
    elif action == "put-many":
        prefix, count = sys.argv[7], int(sys.argv[8])
        for n in range(count):
            script = b"# script %d of %d\r\nkeep;\r\n" % (n, count)
            status, rest, _ = s.command("PUTSCRIPT", b"%s%04d" % (prefix.encode(), n), script)
            assert status == "OK", "PUTSCRIPT refused: %r" % (rest,)
        status, rest, _ = s.command("SETACTIVE", b"%s%04d" % (prefix.encode(), 0))
        assert status == "OK", "SETACTIVE refused: %r" % (rest,)
    elif action == "dump":
        directory = sys.argv[7]
        status, _, lines = s.command("LISTSCRIPTS")
        assert status == "OK"
        result = {}
        for tokens in lines:
            name = tokens[0].decode()
            active = len(tokens) > 1 and tokens[1].upper() == "ACTIVE"
            status, rest, got = s.command("GETSCRIPT", name.encode())
            assert status == "OK", "GETSCRIPT refused: %r" % (rest,)
            data = got[0][0]
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
            result[name] = {"active": active, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        print(json.dumps(result, sort_keys=True))
    s.send(b"LOGOUT\r\n")


if __name__ == "__main__":
    main()
