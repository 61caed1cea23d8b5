#!/usr/bin/env python3
"""Checks a MailFerry format 2 manifest and statement against format-spec/.

usage: check_schema.py MANIFEST STATEMENT

MANIFEST is mailferry/manifest.jsonl and STATEMENT is mailferry/statement.json, as extracted
from an archive (for example with `tar --zstd -xf NAME.mfa mailferry/`). The script checks:

  * every manifest line against manifest.schema.json, and the statement against
    statement.schema.json (JSON Schema draft 2020-12, with the `jsonschema` package);
  * the JSON form: UTF-8, one value per line, newline-terminated, sorted keys, no
    insignificant whitespace, `/` not escaped, non-ASCII characters not escaped;
  * the cross-line rules of format-spec/README.md that a schema cannot express: record order,
    numbering, entry names, positions, counts, and the statement's reference to the manifest.

It does not check the signature or any item bytes (see README.md, "Checking an archive with
standard tools"). Exit status 0 when everything holds, 1 with one line per problem otherwise.
"""
import hashlib
import json
import os
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover
    sys.exit("check_schema.py needs the jsonschema package (Debian: apt-get install python3-jsonschema)")

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {"message": ("folder", "m"), "contact": ("addressBook", "c"), "calendar-item": ("calendar", "k"), "sieve": (None, "s")}
COUNT_KEYS = ["messages", "messageBytes", "contactFiles", "contacts", "calendarFiles", "events", "tasks", "sieveScripts", "otherBytes"]


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def padded(size):
    return (size + 511) // 512 * 512


def validator(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def parse_line(raw, where, problems):
    """One line (with its newline) to a JSON value, or None; checks the canonical form."""
    if not raw.endswith(b"\n"):
        problems.append(f"{where}: does not end with a newline")
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        problems.append(f"{where}: not UTF-8 JSON: {e}")
        return None
    if canonical(value) != raw:
        problems.append(f"{where}: not in the canonical JSON form (sorted keys, no whitespace, unescaped / and non-ASCII)")
    return value


def check(manifest_path, statement_path):
    problems = []
    manifest_schema = validator("manifest.schema.json")
    statement_schema = validator("statement.schema.json")

    with open(statement_path, "rb") as f:
        statement_bytes = f.read()
    if statement_bytes.count(b"\n") != 1:
        problems.append(f"{statement_path}: must be exactly one line ending in a newline")
    statement = parse_line(statement_bytes, statement_path, problems)
    if statement is not None:
        for e in statement_schema.iter_errors(statement):
            problems.append(f"{statement_path}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}")

    with open(manifest_path, "rb") as f:
        manifest_bytes = f.read()
    if statement is not None and isinstance(statement.get("manifest"), dict):
        ref = statement["manifest"]
        if ref.get("size") != len(manifest_bytes):
            problems.append(f"{manifest_path}: is {len(manifest_bytes)} bytes, the statement says {ref.get('size')}")
        if ref.get("sha256") != hashlib.sha256(manifest_bytes).hexdigest():
            problems.append(f"{manifest_path}: SHA-256 differs from the statement's")

    records = []
    well_formed = True
    for number, raw in enumerate(manifest_bytes.splitlines(keepends=True), start=1):
        where = f"{manifest_path}:{number}"
        value = parse_line(raw, where, problems)
        if value is None:
            well_formed = False
            continue
        errors = list(manifest_schema.iter_errors(value))
        if errors:
            best = jsonschema.exceptions.best_match(errors)
            problems.append(f"{where}: {'/'.join(map(str, best.absolute_path)) or '(top)'}: {best.message}")
            well_formed = False
            continue
        (kind, record), = value.items()
        records.append((where, kind, record))

    if well_formed and (statement is None or not list(statement_schema.iter_errors(statement))):
        check_structure(records, statement, problems)
    return problems


def check_structure(records, statement, problems):
    if not records or records[0][1] != "archive":
        problems.append("the first manifest line must be the archive record")
        return
    order = {"archive": 0, "user": 1, "container": 2, "change": 3, "entry": 4}
    for (w1, k1, _), (w2, k2, _) in zip(records, records[1:]):
        if order[k2] < order[k1] or k2 == "archive":
            problems.append(f"{w2}: a {k2} record after a {k1} record")
    header = records[0][2]
    users = [r for _, k, r in records if k == "user"]
    containers = [(w, r) for w, k, r in records if k == "container"]
    entries = [(w, r) for w, k, r in records if k == "entry"]
    changes = [(w, r) for w, k, r in records if k == "change"]

    if statement is not None:
        for key in ("archiveID", "signerKeyID", "created"):
            if header[key] != statement[key]:
                problems.append(f"archive record {key} {header[key]!r} differs from the statement's {statement[key]!r}")
    for i, u in enumerate(users, start=1):
        if u["user"] != i:
            problems.append(f"user record {i} has number {u['user']}")
    if header["userCount"] != len(users):
        problems.append(f"userCount is {header['userCount']}, {len(users)} user records")

    known = {}
    last_user = 0
    for w, c in containers:
        if c["user"] > len(users) or c["user"] < last_user:
            problems.append(f"{w}: container of user {c['user']} out of order or for an unlisted user")
        last_user = c["user"]
        key = (c["user"], c["kind"])
        expected = len([k for k in known if k[:2] == key]) + 1
        if c["number"] != expected:
            problems.append(f"{w}: {c['kind']} number {c['number']}, expected {expected}")
        known[(c["user"], c["kind"], c["number"])] = {"items": 0, "bytes": 0, "where": w, "record": c}

    if header["changeCount"] != len(changes):
        problems.append(f"changeCount is {header['changeCount']}, {len(changes)} change records")
    if changes and "deltaOf" not in header:
        problems.append(f"{changes[0][0]}: change records in an archive that is not a delta (no deltaOf)")
    last_user = 0
    for w, c in changes:
        if c["user"] > len(users) or c["user"] < last_user:
            problems.append(f"{w}: change of user {c['user']} out of order or for an unlisted user")
        last_user = c["user"]
        if c["op"] == "keep" and c["kind"] != "sieve":
            container_kind = KINDS[c["kind"]][0]
            if (c["user"], container_kind, c["container"]) not in known:
                problems.append(f"{w}: keeps an item in {container_kind} {c['container']} of user {c['user']}, which is not listed")
        if c["op"] == "renameFolder" and c["from"] == c["to"]:
            problems.append(f"{w}: renames a folder to its own name")

    per_user = {u["user"]: dict.fromkeys(COUNT_KEYS, 0) for u in users}
    sequences = {}
    last_end = 0
    last_user = 0
    item_bytes = 0
    for w, e in entries:
        container_kind, letter = KINDS[e["kind"]]
        n = e["user"]
        if n > len(users) or n < last_user:
            problems.append(f"{w}: entry of user {n} out of order or for an unlisted user")
            continue
        last_user = n
        if container_kind is None:
            scope = (n, "sieve")
            name = f"u/{n}/s/"
        else:
            scope = (n, container_kind, e["container"])
            name = f"u/{n}/{letter}/{e['container']}/"
            if scope not in known:
                problems.append(f"{w}: names {container_kind} {e['container']} of user {n}, which is not listed")
                continue
            known[scope]["items"] += 1
            known[scope]["bytes"] += e["size"]
        sequences[scope] = sequences.get(scope, 0) + 1
        name += f"{sequences[scope]}." + {"m": "eml", "c": "vcf", "k": "ics", "s": "sieve"}[letter]
        if e["path"] != name:
            problems.append(f"{w}: path {e['path']}, expected {name}")
        if e["offset"] < last_end or e["offset"] % 512 != 0:
            problems.append(f"{w}: offset {e['offset']} overlaps the previous entry or is not on a 512-byte block")
        last_end = e["offset"] + 512 + padded(e["size"])
        item_bytes += e["size"]
        c = per_user[n]
        if e["kind"] == "message":
            c["messages"] += 1
            c["messageBytes"] += e["size"]
        else:
            c["otherBytes"] += e["size"]
            if e["kind"] == "contact":
                c["contactFiles"] += 1
                c["contacts"] += len(e["contact"]["cards"])
            elif e["kind"] == "calendar-item":
                c["calendarFiles"] += 1
                c["events"] += sum(1 for x in e["calendarItem"]["components"] if x["kind"] == "VEVENT")
                c["tasks"] += sum(1 for x in e["calendarItem"]["components"] if x["kind"] == "VTODO")
            else:
                c["sieveScripts"] += 1

    if statement is not None and entries and last_end > statement["manifest"]["offset"]:
        problems.append(f"the last entry ends at {last_end}, after the manifest's offset {statement['manifest']['offset']}")
    if header["entryCount"] != len(entries):
        problems.append(f"entryCount is {header['entryCount']}, {len(entries)} entry records")
    if header["itemBytes"] != item_bytes:
        problems.append(f"itemBytes is {header['itemBytes']}, entries add up to {item_bytes}")
    for info in known.values():
        c = info["record"]
        if (c["items"], c["bytes"]) != (info["items"], info["bytes"]):
            problems.append(f"{info['where']}: items/bytes {c['items']}/{c['bytes']}, entries add up to {info['items']}/{info['bytes']}")
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for u in users:
        if u["counts"] != per_user[u["user"]]:
            problems.append(f"user {u['user']}: counts {u['counts']} differ from its entries {per_user[u['user']]}")
        for k in COUNT_KEYS:
            totals[k] += u["counts"][k]
    if header["totals"] != totals:
        problems.append(f"archive totals {header['totals']} differ from the sum of the users' counts {totals}")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    problems = check(argv[1], argv[2])
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {argv[1]} and {argv[2]} follow MailFerry archive format 2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
