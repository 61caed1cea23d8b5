#!/usr/bin/env python3
"""A hostile CalDAV/CardDAV server for the tests: one bad answer, chosen by MODE, on a free port of 127.0.0.1.

    hostile_dav.py MODE

Discovery works (current-user-principal /alice/, both home sets /alice/) until the step MODE spoils:
    bomb          the home listing is an "XML bomb": entities that expand a few hundred bytes into gigabytes
    huge-length   the home listing announces a 1 GB body (Content-Length) and starts sending it
    huge-chunked  the home listing is an endless chunked body (1 GB, then it stops)
    other-host    the home listing names a calendar on another host
    outside       the home listing names a calendar outside the home set (another user's)
    loop          every request is redirected: /a/ -> /b/ -> /a/ ...
    away          every request is redirected to another host
    chain         every request is redirected one step further: /r1/ -> /r2/ -> /r3/ ...
Prints "listening on PORT" first.
"""
import socket
import sys
import threading

MODE = sys.argv[1]

PRINCIPAL = b"""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="urn:ietf:params:xml:ns:carddav">
<d:response><d:href>/alice/</d:href><d:propstat><d:status>HTTP/1.1 200 OK</d:status><d:prop>
<d:current-user-principal><d:href>/alice/</d:href></d:current-user-principal>
<c:calendar-home-set><d:href>/alice/</d:href></c:calendar-home-set>
<a:addressbook-home-set><d:href>/alice/</d:href></a:addressbook-home-set>
</d:prop></d:propstat></d:response></d:multistatus>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE d:multistatus [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/alice/cal/</d:href><d:propstat><d:status>HTTP/1.1 200 OK</d:status>
<d:prop><d:displayname>&g;</d:displayname></d:prop></d:propstat></d:response></d:multistatus>"""


def listing(href):
    return ("""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:response><d:href>/alice/</d:href><d:propstat><d:status>HTTP/1.1 200 OK</d:status><d:prop>
<d:resourcetype><d:collection/></d:resourcetype></d:prop></d:propstat></d:response>
<d:response><d:href>%s</d:href><d:propstat><d:status>HTTP/1.1 200 OK</d:status><d:prop>
<d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Theirs</d:displayname></d:prop></d:propstat></d:response>
</d:multistatus>""" % href).encode()


def read_request(stream):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = stream.recv(4096)
        if not chunk:
            return None
        head += chunk
    header, _, rest = head.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = stream.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return method, path


def answer(stream, status, body, extra=b""):
    stream.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def serve(stream):
    try:
        while True:
            request = read_request(stream)
            if request is None:
                return
            method, path = request
            if MODE == "loop":
                target = b"/b/" if path == "/a/" else b"/a/"
                answer(stream, b"301 Moved Permanently", b"", b"Location: " + target + b"\r\n")
                continue
            if MODE == "away":
                answer(stream, b"307 Temporary Redirect", b"", b"Location: http://evil.example.org/dav/\r\n")
                continue
            if MODE == "chain":
                step = int(path.strip("/")[1:]) + 1 if path.startswith("/r") else 1
                answer(stream, b"302 Found", b"", b"Location: /r%d/\r\n" % step)
                continue
            if path != "/alice/":
                answer(stream, b"207 Multi-Status", PRINCIPAL)
                continue
            serve_home(stream)
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        stream.close()


# The principal's own PROPFIND (Depth 0) and the home listing (Depth 1) both go to /alice/; the first time is the
# principal's home-set question, every later one the listing.
ASKED = {"home": 0}


def serve_home(stream):
    ASKED["home"] += 1
    if ASKED["home"] == 1:
        answer(stream, b"207 Multi-Status", PRINCIPAL)
        return
    if MODE == "bomb":
        answer(stream, b"207 Multi-Status", BOMB)
    elif MODE == "other-host":
        answer(stream, b"207 Multi-Status", listing("https://evil.example.org/alice/cal/"))
    elif MODE == "outside":
        answer(stream, b"207 Multi-Status", listing("/bob/cal/"))
    elif MODE == "huge-length":
        stream.sendall(b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 1073741824\r\n\r\n")
        block = b"<d:x>" + b"a" * 65530 + b"</d:x>"
        for _ in range(16384):
            stream.sendall(block)
    elif MODE == "huge-chunked":
        stream.sendall(b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = b"a" * 65536
        chunk = b"10000\r\n" + block + b"\r\n"
        for _ in range(16384):
            stream.sendall(chunk)
        stream.sendall(b"0\r\n\r\n")


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("listening on %d" % listener.getsockname()[1], flush=True)
    while True:
        stream, _ = listener.accept()
        threading.Thread(target=serve, args=(stream,), daemon=True).start()


if __name__ == "__main__":
    main()
