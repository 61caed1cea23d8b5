#!/usr/bin/env python3
"""An independent CalDAV/CardDAV client for the tests, on raw http.client (no DAV library).

    dav_client.py BASE USER PASSWORD seed             put the fixture collections and objects into the server
    dav_client.py BASE USER PASSWORD seed-many N      one address book "many" with N small contacts
    dav_client.py BASE USER PASSWORD dump             JSON: every collection with its properties and each
                                                      object's SHA-256 and size as GET returns it
    dav_client.py BASE USER PASSWORD count NAME       how many objects the collection NAME holds
    dav_client.py BASE USER PASSWORD replace BOOK FILE  put other bytes over the contact FILE of address book BOOK
    dav_client.py BASE USER PASSWORD put COLLECTION NAME FILE   put FILE's bytes as NAME (over what is there)
    dav_client.py BASE USER PASSWORD delete COLLECTION NAME     delete the object NAME
    dav_client.py BASE USER PASSWORD rename COLLECTION TEXT     set the collection's display name (PROPPATCH)
    dav_client.py BASE USER PASSWORD get COLLECTION NAME        the object's bytes on standard output

BASE is http://127.0.0.1:PORT or https://127.0.0.1:PORT (the CA in $DAV_CA). Discovery as RFC 6764 / RFC 5397 say: current-user-principal from the root, then
the principal's calendar-home-set and addressbook-home-set, each listed with Depth 1.
"""
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import urllib.parse
import xml.etree.ElementTree as ET

D, C, A, ICAL = "DAV:", "urn:ietf:params:xml:ns:caldav", "urn:ietf:params:xml:ns:carddav", "http://apple.com/ns/ical/"


class Server:
    def __init__(self, base, user, password):
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.tls = parsed.scheme == "https"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method, path, body=None, headers=None):
        if self.tls:
            context = ssl.create_default_context(cafile=os.environ["DAV_CA"])
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=60, context=context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        all_headers = {"Authorization": self.auth}
        all_headers.update(headers or {})
        if body is not None and isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data

    def propfind(self, path, props, depth="0"):
        body = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="%s" xmlns:a="%s" xmlns:i="%s"><d:prop>%s</d:prop></d:propfind>' % (
            C, A, ICAL, "".join(props))
        status, _, data = self.request("PROPFIND", path, body, {"Depth": depth, "Content-Type": "application/xml"})
        if status != 207:
            raise SystemExit(f"PROPFIND {path}: {status} {data[:300]!r}")
        return ET.fromstring(data)

    def principal_homes(self):
        root = self.propfind("/", ["<d:current-user-principal/>"])
        principal = root.find(f".//{{{D}}}current-user-principal/{{{D}}}href").text
        homes = self.propfind(principal, ["<c:calendar-home-set/>", "<a:addressbook-home-set/>"])
        calendar_home = homes.find(f".//{{{C}}}calendar-home-set/{{{D}}}href").text
        address_home = homes.find(f".//{{{A}}}addressbook-home-set/{{{D}}}href").text
        return principal, calendar_home, address_home


def text(element, tag):
    found = element.find(tag)
    return None if found is None or found.text is None else found.text


def dump(server):
    _, calendar_home, address_home = server.principal_homes()
    collections = {}
    for home in sorted({calendar_home, address_home}):
        root = server.propfind(home, [
            "<d:resourcetype/>", "<d:displayname/>", "<c:calendar-description/>", "<a:addressbook-description/>",
            "<i:calendar-color/>", "<c:calendar-timezone/>", "<c:supported-calendar-component-set/>"], depth="1")
        for response in root.findall(f"{{{D}}}response"):
            href = urllib.parse.unquote(response.find(f"{{{D}}}href").text)
            if href.rstrip("/") == home.rstrip("/"):
                continue
            ok = [p for p in response.findall(f"{{{D}}}propstat") if "200" in (text(p, f"{{{D}}}status") or "")]
            prop = ok[0].find(f"{{{D}}}prop") if ok else ET.Element("none")
            types = prop.find(f"{{{D}}}resourcetype")
            kind = None
            if types is not None and types.find(f"{{{C}}}calendar") is not None:
                kind = "calendar"
            elif types is not None and types.find(f"{{{A}}}addressbook") is not None:
                kind = "addressbook"
            if kind is None:
                continue
            name = href.rstrip("/").rsplit("/", 1)[-1]
            components = prop.find(f"{{{C}}}supported-calendar-component-set")
            timezone = text(prop, f"{{{C}}}calendar-timezone")
            collections[name] = {
                "kind": kind,
                "displayname": text(prop, f"{{{D}}}displayname"),
                "description": text(prop, f"{{{C}}}calendar-description") or text(prop, f"{{{A}}}addressbook-description"),
                "color": text(prop, f"{{{ICAL}}}calendar-color"),
                # The zone's text without line-end differences (XML normalises CR LF to LF on the way).
                "timezone": None if timezone is None else hashlib.sha256(timezone.replace("\r\n", "\n").encode()).hexdigest(),
                "components": None if components is None else sorted(c.get("name") for c in components),
                "objects": objects(server, href),
            }
    return collections


def objects(server, collection):
    root = server.propfind(urllib.parse.quote(collection), ["<d:getetag/>", "<d:resourcetype/>"], depth="1")
    found = {}
    for response in root.findall(f"{{{D}}}response"):
        href = urllib.parse.unquote(response.find(f"{{{D}}}href").text)
        if href.endswith("/"):
            continue
        status, _, data = server.request("GET", urllib.parse.quote(href))
        if status != 200:
            raise SystemExit(f"GET {href}: {status}")
        found[href.rsplit("/", 1)[-1]] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "lines": lines_digest(data)}
    return found


def lines_digest(data):
    """The content lines unfolded and sorted: the same for an object a server only re-serialised in its own order."""
    unfolded = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").replace(b"\r\n", b"\n")
    return hashlib.sha256(b"\n".join(sorted(line for line in unfolded.split(b"\n") if line)) + b"\n").hexdigest()


def make(server, path, kind, properties):
    if kind == "calendar":
        body = '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="%s" xmlns:i="%s"><d:set><d:prop>%s</d:prop></d:set></c:mkcalendar>' % (C, ICAL, properties)
        status, _, data = server.request("MKCALENDAR", path, body, {"Content-Type": "application/xml"})
    else:
        body = '<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:a="%s"><d:set><d:prop><d:resourcetype><d:collection/><a:addressbook/></d:resourcetype>%s</d:prop></d:set></d:mkcol>' % (A, properties)
        status, _, data = server.request("MKCOL", path, body, {"Content-Type": "application/xml"})
    if status not in (201, 200):
        raise SystemExit(f"{kind} {path}: {status} {data[:300]!r}")


def put(server, path, data, content_type):
    status, _, answer = server.request("PUT", path, data, {"Content-Type": content_type, "If-None-Match": "*"})
    if status not in (201, 204):
        raise SystemExit(f"PUT {path}: {status} {answer[:300]!r}")


TIMEZONE = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
            "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
            "END:VTIMEZONE\r\nEND:VCALENDAR\r\n")


def card(uid, name, extra=""):
    return (f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\n{extra}END:VCARD\r\n").encode()


def event(uid, summary, day):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202601{day:02d}T100000Z\r\nDTEND:202601{day:02d}T110000Z\r\n"
            f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def todo(uid, summary):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n").encode()


def seed(server):
    _, calendar_home, address_home = server.principal_homes()
    book = address_home.rstrip("/") + "/contacts/"
    make(server, book, "addressbook",
         "<d:displayname>Kontakte</d:displayname><a:addressbook-description>Freunde &amp; Kollegen</a:addressbook-description>")
    put(server, book + "bob.vcf", card("bob-1", "Bob Builder", "EMAIL:bob@example.com\r\n"), "text/vcard")
    put(server, book + "chloe.vcf", card("chloe-2", "Chloé Müller", "EMAIL:chloe@example.com\r\nTEL:+49 221 1234\r\n"), "text/vcard")
    put(server, book + "friends.vcf", card("friends-3", "Friends", "KIND:group\r\nMEMBER:urn:uuid:bob-1\r\nMEMBER:urn:uuid:chloe-2\r\n"), "text/vcard")
    work = calendar_home.rstrip("/") + "/work/"
    make(server, work, "calendar",
         "<d:displayname>Arbeit</d:displayname><c:calendar-description>Termine im Büro</c:calendar-description>"
         "<i:calendar-color>#FF8800FF</i:calendar-color>"
         "<c:supported-calendar-component-set><c:comp name=\"VEVENT\"/></c:supported-calendar-component-set>"
         "<c:calendar-timezone>" + TIMEZONE.replace("\r\n", "&#13;\n") + "</c:calendar-timezone>")
    for day in range(1, 6):
        put(server, work + f"event-{day}.ics", event(f"event-{day}", f"Meeting {day} – Café", day), "text/calendar")
    tasks = calendar_home.rstrip("/") + "/tasks/"
    make(server, tasks, "calendar",
         "<d:displayname>Aufgaben</d:displayname>"
         "<c:supported-calendar-component-set><c:comp name=\"VTODO\"/></c:supported-calendar-component-set>")
    for n in range(1, 4):
        put(server, tasks + f"task-{n}.ics", todo(f"task-{n}", f"Task {n}"), "text/calendar")


def seed_many(server, count):
    _, _, address_home = server.principal_homes()
    book = address_home.rstrip("/") + "/many/"
    make(server, book, "addressbook", "<d:displayname>Many</d:displayname>")
    for n in range(count):
        put(server, book + f"c{n:05d}.vcf", card(f"many-{n}", f"Person {n}", f"EMAIL:p{n}@example.com\r\n"), "text/vcard")


def main():
    base, user, password, command = sys.argv[1:5]
    server = Server(base, user, password)
    if command == "seed":
        seed(server)
    elif command == "seed-many":
        seed_many(server, int(sys.argv[5]))
    elif command == "dump":
        print(json.dumps(dump(server), sort_keys=True, indent=1))
    elif command == "count":
        collections = dump(server)
        print(len(collections.get(sys.argv[5], {}).get("objects", {})))
    elif command in ("put", "delete"):
        collection, name = sys.argv[5], sys.argv[6]
        _, calendar_home, address_home = server.principal_homes()
        path = None
        # Some servers answer a PROPFIND on a path that does not exist: look where the object's kind lives first.
        homes = (address_home, calendar_home) if name.endswith(".vcf") else (calendar_home, address_home)
        for home in homes:
            status, _, _ = server.request("PROPFIND", home.rstrip("/") + "/" + collection + "/", None, {"Depth": "0"})
            if status == 207:
                path = home.rstrip("/") + "/" + collection + "/" + name
                break
        if path is None:
            raise SystemExit(f"no collection {collection}")
        if command == "put":
            data = open(sys.argv[7], "rb").read()
            kind = "text/calendar" if name.endswith(".ics") else "text/vcard"
            status, _, answer = server.request("PUT", path, data, {"Content-Type": kind})
        else:
            status, _, answer = server.request("DELETE", path)
        if status not in (200, 201, 204):
            raise SystemExit(f"{command} {path}: {status} {answer[:300]!r}")
    elif command == "get":
        # The object NAME of COLLECTION, its bytes on standard output.
        collection, name = sys.argv[5], sys.argv[6]
        _, calendar_home, address_home = server.principal_homes()
        home = address_home if name.endswith(".vcf") else calendar_home
        status, _, data = server.request("GET", home.rstrip("/") + "/" + collection + "/" + name)
        if status != 200:
            raise SystemExit(f"GET {collection}/{name}: {status}")
        sys.stdout.buffer.write(data)
    elif command == "rename":
        # PROPPATCH the display name of the calendar or address book COLLECTION.
        collection, shown = sys.argv[5], sys.argv[6]
        _, calendar_home, address_home = server.principal_homes()
        body = ('<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>'
                f'<d:displayname>{shown}</d:displayname></d:prop></d:set></d:propertyupdate>')
        for home in (calendar_home, address_home):
            path = home.rstrip("/") + "/" + collection + "/"
            status, _, _ = server.request("PROPFIND", path, None, {"Depth": "0"})
            if status == 207:
                status, _, answer = server.request("PROPPATCH", path, body, {"Content-Type": "application/xml"})
                if status != 207 or b"200" not in answer:
                    raise SystemExit(f"PROPPATCH {path}: {status} {answer[:300]!r}")
                break
        else:
            raise SystemExit(f"no collection {collection}")
    elif command == "replace":
        _, _, address_home = server.principal_homes()
        path = address_home.rstrip("/") + "/" + sys.argv[5] + "/" + sys.argv[6]
        status, _, data = server.request("PUT", path, card("bob-1", "Changed Behind The Import's Back"), {"Content-Type": "text/vcard"})
        if status not in (201, 204):
            raise SystemExit(f"PUT {path}: {status} {data[:300]!r}")
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
