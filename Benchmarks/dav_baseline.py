#!/usr/bin/env python3
"""The plain baseline of Benchmarks/dav_bench.sh: what a careful script does to copy a user's address books and
calendars between two CalDAV/CardDAV servers, with Python's http.client on one kept-alive connection.

  dav_baseline.py seed ROOT USER CONTACTS EVENTS   write a Radicale storage tree for USER directly (fast): one
                                                   address book "contacts" and one calendar "events"
  dav_baseline.py export BASE USER PASSWORD DIR    discovery (current-user-principal, home sets), every collection
                                                   listed (PROPFIND Depth 1), objects read with multiget REPORTs of
                                                   100, each written to DIR/<collection>/ and hashed (SHA-256)
  dav_baseline.py import BASE USER PASSWORD DIR    each collection made (MKCOL / MKCALENDAR), each object PUT with
                                                   If-None-Match: *, then read back with multiget REPORTs of 100,
                                                   hashed and counted (the check an import owes its user; a server
                                                   may keep its own serialisation, so the hashes are not compared)

BASE is http://127.0.0.1:PORT. Prints one line of counts; exits 1 on any HTTP error or difference.
"""
import base64, hashlib, http.client, json, os, sys, urllib.parse
import xml.etree.ElementTree as ET

D, C, A = "DAV:", "urn:ietf:params:xml:ns:caldav", "urn:ietf:params:xml:ns:carddav"


class Server:
    def __init__(self, base, user, password):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method, path, body=None, headers=None, ok=(200, 201, 204, 207)):
        h = {"Authorization": self.auth}
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        if r.status not in ok:
            sys.exit(f"{method} {path}: {r.status} {data[:200]!r}")
        return data

    def propfind(self, path, props, depth):
        body = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="%s" xmlns:a="%s"><d:prop>%s</d:prop></d:propfind>' % (C, A, props)
        return ET.fromstring(self.request("PROPFIND", path, body.encode(), {"Depth": depth, "Content-Type": "application/xml"}))

    def collections(self, user):
        root = self.propfind("/", "<d:current-user-principal/>", "0")
        principal = root.find(f".//{{{D}}}current-user-principal/{{{D}}}href").text
        homes = self.propfind(principal, "<c:calendar-home-set/><a:addressbook-home-set/>", "0")
        found = {}
        sets = [e for e in homes.iter() if e.tag in (f"{{{C}}}calendar-home-set", f"{{{A}}}addressbook-home-set")]
        for home in {h.text for e in sets for h in e.iter(f"{{{D}}}href")}:
            listing = self.propfind(home, "<d:resourcetype/><d:displayname/>", "1")
            for response in listing.findall(f"{{{D}}}response"):
                href = response.find(f"{{{D}}}href").text
                kinds = response.find(f".//{{{D}}}resourcetype")
                if kinds is None:
                    continue
                if kinds.find(f"{{{A}}}addressbook") is not None:
                    found[href] = "addressbook"
                elif kinds.find(f"{{{C}}}calendar") is not None:
                    found[href] = "calendar"
        return found

    def hrefs(self, collection):
        listing = self.propfind(collection, "<d:getetag/>", "1")
        return [r.find(f"{{{D}}}href").text for r in listing.findall(f"{{{D}}}response")
                if r.find(f"{{{D}}}href").text.rstrip("/") != collection.rstrip("/")]

    def multiget(self, collection, kind, hrefs):
        """Each object's bytes by href, in REPORTs of 100."""
        ns, element, data = (A, "addressbook-multiget", "address-data") if kind == "addressbook" else (C, "calendar-multiget", "calendar-data")
        out = {}
        for i in range(0, len(hrefs), 100):
            refs = "".join(f"<d:href>{h}</d:href>" for h in hrefs[i:i + 100])
            body = f'<?xml version="1.0"?><x:{element} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data}/></d:prop>{refs}</x:{element}>'
            tree = ET.fromstring(self.request("REPORT", collection, body.encode(), {"Depth": "1", "Content-Type": "application/xml"}))
            for response in tree.findall(f"{{{D}}}response"):
                text = response.find(f".//{{{ns}}}{data}")
                if text is not None and text.text is not None:
                    # XML turned CR LF into LF; the objects' line ends are CR LF.
                    out[response.find(f"{{{D}}}href").text] = text.text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        return out


def seed(root, user, contacts, events):
    home = os.path.join(root, "collection-root", user)
    for name, tag, count, make in (
        ("contacts", "VADDRESSBOOK", contacts,
         lambda i: f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c{i}\r\nFN:Person {i}\r\nN:{i};Person;;;\r\nEMAIL:p{i}@example.org\r\nTEL:+1 555 {i:07d}\r\nEND:VCARD\r\n"),
        ("events", "VCALENDAR", events,
         lambda i: f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:e{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:2026{1 + i % 12:02d}{1 + i % 28:02d}T{8 + i % 10:02d}0000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
    ):
        folder = os.path.join(home, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, ".Radicale.props"), "w") as f:
            json.dump({"tag": tag, "D:displayname": name}, f)
        extension = ".vcf" if tag == "VADDRESSBOOK" else ".ics"
        for i in range(count):
            with open(os.path.join(folder, f"{name}-{i}{extension}"), "w", newline="") as f:
                f.write(make(i))
    print(f"seeded {contacts} contacts and {events} events for {user}")


def export(server, user, directory):
    total = 0
    for href, kind in sorted(server.collections(user).items()):
        name = urllib.parse.unquote(href.rstrip("/").rsplit("/", 1)[-1])
        folder = os.path.join(directory, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, ".kind"), "w") as f:
            f.write(kind)
        hashes = {}
        for ref, data in server.multiget(href, kind, server.hrefs(href)).items():
            object_name = urllib.parse.unquote(ref.rsplit("/", 1)[-1])
            with open(os.path.join(folder, object_name), "wb") as f:
                f.write(data)
            hashes[object_name] = hashlib.sha256(data).hexdigest()
            total += 1
        with open(os.path.join(folder, ".sha256.json"), "w") as f:
            json.dump(hashes, f)
    print(f"exported {total} objects")


def import_(server, user, directory):
    principal = f"/{user}/"
    server.request("PROPFIND", principal, b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>',
                   {"Depth": "0", "Content-Type": "application/xml"})
    total = 0
    for name in sorted(os.listdir(directory)):
        folder = os.path.join(directory, name)
        kind = open(os.path.join(folder, ".kind")).read()
        href = principal + urllib.parse.quote(name) + "/"
        if kind == "addressbook":
            body = f'<?xml version="1.0"?><d:mkcol xmlns:d="DAV:" xmlns:a="{A}"><d:set><d:prop><d:resourcetype><d:collection/><a:addressbook/></d:resourcetype><d:displayname>{name}</d:displayname></d:prop></d:set></d:mkcol>'
            server.request("MKCOL", href, body.encode(), {"Content-Type": "application/xml"})
        else:
            body = f'<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="{C}"><d:set><d:prop><d:displayname>{name}</d:displayname></d:prop></d:set></c:mkcalendar>'
            server.request("MKCALENDAR", href, body.encode(), {"Content-Type": "application/xml"})
        content_type = "text/vcard" if kind == "addressbook" else "text/calendar"
        names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
        for object_name in names:
            with open(os.path.join(folder, object_name), "rb") as f:
                server.request("PUT", href + urllib.parse.quote(object_name), f.read(), {"Content-Type": content_type, "If-None-Match": "*"})
        expected = json.load(open(os.path.join(folder, ".sha256.json")))
        back = server.multiget(href, kind, [href + urllib.parse.quote(n) for n in names])
        held = {urllib.parse.unquote(r.rsplit("/", 1)[-1]): hashlib.sha256(d).hexdigest() for r, d in back.items()}
        if len(held) != len(expected):
            sys.exit(f"{name}: {len(held)} objects read back, {len(expected)} put")
        total += len(names)
    print(f"imported {total} objects, each read back")


def main():
    command = sys.argv[1]
    if command == "seed":
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    base, user, password, directory = sys.argv[2:6]
    server = Server(base, user, password)
    if command == "export":
        export(server, user, directory)
    elif command == "import":
        import_(server, user, directory)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
