#!/usr/bin/env bash
# The README's commands, run in README order as a user would type them, against the bundled samples and two
# throwaway Dovecots (source "old" and target "new": IMAP with STARTTLS, IMAPS and LMTP on free loopback ports,
# a CA made here with openssl, a master user `admin`). Only hostnames (old.example.com, new.example -> 127.0.0.1:PORT),
# paths (/srv/plan, /srv/newmail, /media/usb, /media/stick, /home/c -> folders under WORKDIR) and credentials files are substituted, and
# --ca-file is added where a command talks to a server (its certificate comes from the CA made here).
# Each step prints its command (==> mailferry ...), runs it and checks its exit status and output; the first failure
# stops the script, naming the README section and the command (exit 1). Servers it started are stopped on exit.
#
#   bash samples/walkthrough.sh [--bin PATH] [WORKDIR]
#
# --bin: the mailferry binary (default: swift build, then $(swift build --show-bin-path)/mailferry).
# WORKDIR: where everything goes (default: a new mktemp -d folder). KEEP_SERVERS=1 leaves the servers running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=""
WORK=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,13p "$0"; exit 0 ;;
        -*) echo "walkthrough.sh: unknown option $1" >&2; exit 2 ;;
        *) WORK="$1"; shift ;;
    esac
done
for tool in /usr/sbin/dovecot swaks openssl zstd tar sha256sum python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "walkthrough.sh: $tool is missing (bash .ci/install-deps)" >&2; exit 1; }
done
if [ -z "$BIN" ]; then
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
    echo "==> swift build"
    (cd "$ROOT" && swift build)
    BIN="$(cd "$ROOT" && swift build --show-bin-path)/mailferry"
fi
[ -x "$BIN" ] || { echo "walkthrough.sh: no mailferry binary at $BIN" >&2; exit 1; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

WORK="${WORK:-$(mktemp -d /tmp/mailferry-walk.XXXXXX)}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
# Dovecot reads and writes mail as nobody: the folders on the way must be traversable.
chmod 755 "$WORK"
rm -rf "${WORK:?}"/*
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/home"
ln -s "$BIN" "$WORK/bin/mailferry"
export PATH="$WORK/bin:$PATH"
# The import journal and ledger default to ~/.local/state/mailferry: keep them in WORKDIR too.
export HOME="$WORK/home"
cd "$WORK"
STARTED=$SECONDS

# --- servers -------------------------------------------------------------------------------------------------
. "$ROOT/scripts/servers.sh"
PIDS=()
cleanup() {
    local status=$?
    if [ -n "${KEEP_SERVERS:-}" ]; then echo "servers left running: process groups ${PIDS[*]:-}" >&2; return; fi
    stop_process_groups "${PIDS[@]:-}"
    return $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# One CA for both servers (and the buffer's STARTTLS), as a site's own CA would be.
mkdir -p tls
(
    cd tls
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=MailFerry walkthrough CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName = IP:127.0.0.1,DNS:localhost\nbasicConstraints = CA:FALSE\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
        -extfile server.ext 2>/dev/null
    chmod 600 server.key ca.key
)
# Commands name it as the README does (--ca-file CA.pem), from the working folder.
cp tls/ca.pem ca.pem
CA=ca.pem
PASSWORD="walk-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
ADMIN_PASSWORD="admin-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

# start_dovecot NAME USER...: IMAP (STARTTLS), IMAPS and LMTP; every user's password is $PASSWORD, master user admin.
start_dovecot() {
    local name="$1"; shift
    local dir="$WORK/dovecot-$name"
    mkdir -p "$dir"
    dovecot_users "$dir/users" "$PASSWORD" "$@"
    printf 'admin:{PLAIN}%s::::::\n' "$ADMIN_PASSWORD" >"$dir/masters"
    dovecot_start "$dir" "$dir/users" --tls "$WORK/tls/server.pem" "$WORK/tls/server.key" --masters "$dir/masters" --lmtp --site
    PIDS+=("$DOVECOT_PID")
    eval "${name}_IMAP=$DOVECOT_IMAP ${name}_IMAPS=$DOVECOT_IMAPS ${name}_LMTP=$DOVECOT_LMTP"
}

echo "==> starting two throwaway Dovecots in $WORK (source old, target new)"
start_dovecot old alice@example.com bob@example.com dave@example.com erin@example.com frank@example.com
start_dovecot new c@example.com alice@example.com bob@example.com dave@example.com erin@example.net
OLD="127.0.0.1:$old_IMAPS"
NEW="127.0.0.1:$new_IMAPS"
echo "    old: imap $old_IMAP, imaps $old_IMAPS; new: imap $new_IMAP, imaps $new_IMAPS, lmtp $new_LMTP"
FIXTURE="$ROOT/Tests/MailFerryCLITests/imap_fixture.py"
seed=1
for user in alice@example.com bob@example.com dave@example.com erin@example.com; do
    python3 "$FIXTURE" load 127.0.0.1 "$old_IMAP" "$user" "$PASSWORD" "$CA" "$seed" 24 \
        || { echo "walkthrough.sh: loading $user into the source Dovecot failed" >&2; exit 1; }
    seed=$((seed + 1))
done
# The credentials files a site would write: one admin (Dovecot master user) for every user.
printf '*\tadmin\t%s\tmaster\n' "$ADMIN_PASSWORD" >admin.tsv
cp admin.tsv b-admin.tsv
chmod 600 admin.tsv b-admin.tsv

# The sample store, with what git does not keep put back (as samples/demo.sh does).
cp -a "$ROOT/samples/store" store
sh "$ROOT/samples/restore-dates.sh" "$WORK/store" >/dev/null

# --- steps ---------------------------------------------------------------------------------------------------
SECTION=""
CMD=""
N=0
OUT=""
ERR=""
section() { SECTION="$1"; printf '\n## %s\n' "$1"; }
show() {
    local out="" a
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_@%+=:,./*-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}
fail() {
    printf '\nFAILED in README section "%s":\n  %s\n  %s\n' "$SECTION" "$CMD" "$*" >&2
    [ -n "$OUT" ] && printf '  (output in %s and %s)\n' "$OUT" "$ERR" >&2
    printf '%d passed, 1 failed\n' "$((N - 1))"
    exit 1
}
# run [--status N | --refused] COMMAND...: prints the command, runs it, and stops the script unless it exits N
# (default 0), or with --refused, with any status but 0 (where the exit code is not the point).
run() {
    local want=0
    if [ "$1" = --status ]; then want="$2"; shift 2; elif [ "$1" = --refused ]; then want=refused; shift; fi
    N=$((N + 1))
    CMD="$(show "$@")"
    printf '==> %s\n' "$CMD"
    OUT="$WORK/logs/$(printf '%02d' "$N").out"
    ERR="$WORK/logs/$(printf '%02d' "$N").err"
    local rc=0
    "$@" >"$OUT" 2>"$ERR" || rc=$?
    if [ "$(wc -c <"$OUT")" -lt 4000 ]; then sed 's/^/    /' "$OUT"; else head -n 12 "$OUT" | sed 's/^/    /'; echo "    ..."; fi
    grep -v '^\s*$' "$ERR" | tail -n 8 | sed 's/^/    (stderr) /' || true
    if [ "$want" = refused ]; then [ "$rc" != 0 ] || fail "exit status 0, expected a refusal"; return 0; fi
    [ "$rc" = "$want" ] || fail "exit status $rc, expected $want: $(tail -n 3 "$ERR" | tr '\n' ' ')"
}
# expect PATTERN...: each (an extended regular expression) must be in the last command's output.
expect() {
    local p
    for p in "$@"; do
        grep -Eqs -- "$p" "$OUT" "$ERR" || fail "its output lacks /$p/"
    done
}
# expect_file FILE...: the last command wrote these.
expect_file() {
    local f
    for f in "$@"; do [ -s "$f" ] || fail "it did not write $f"; done
}
json() {  # json FILE PYTHON-EXPRESSION-ON-d
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------------------------
section "Set-up and Commands (keygen, export, inspect, verify, import, reconcile, receipts)"
run mailferry keygen --out a
expect_file a.key.pem a.pub.pem
run mailferry keygen --out b
expect_file b.key.pem b.pub.pem
run mailferry export --source dir:store --sign-key a.key.pem --out samples.mfa
expect_file samples.mfa
[ ! -e samples.mfa.partial ] || fail "samples.mfa.partial left behind"
run mailferry export --source dir:store --estimate
expect "alice@example.com" "bob@example.com" "estimat"
run mailferry export --source dir:store --estimate --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" || fail "--json output is not JSON"
run mailferry inspect samples.mfa
expect "alice@example.com" "bob@example.com" "signature NOT checked"
run mailferry inspect samples.mfa --trust a.pub.pem
expect "alice@example.com"
run mailferry inspect samples.mfa --list
expect "INBOX" "\.eml"
entry="$(grep -Eo 'u/[0-9]+/m/[0-9]+/[0-9]+\.eml' "$OUT" | head -n 1)"
[ -n "$entry" ] || fail "no entry name in the --list output"
run mailferry inspect samples.mfa --show "$entry"
expect "entry: $entry" "sha256: "
sha="$(sed -n 's/^sha256: //p' "$ERR")"
[ "$(sha256sum <"$OUT" | cut -d' ' -f1)" = "$sha" ] || fail "--show's bytes do not hash to the sha256 it prints"
run mailferry verify samples.mfa --trust a.pub.pem
expect "PASS|OK|verified"
run --status 1 mailferry verify samples.mfa --trust b.pub.pem
run mailferry import samples.mfa --trust a.pub.pem --target dir:target --report report.json --html report.html
expect "verdict: PASS"
expect_file report.json report.html
[ "$(json report.json 'd["verdict"]')" = pass ] || fail "report.json's verdict is not pass"
run mailferry reconcile samples.mfa --trust a.pub.pem --target dir:target --report reconcile.json --html reconcile.html \
    --receipt receipts --sign-key b.key.pem
expect "verdict: PASS"
expect_file reconcile.json reconcile.html receipts/alice@example.com.receipt.json receipts/bob@example.com.receipt.json
sig="$(ls receipts/alice@example.com.receipt.json.sig receipts/alice@example.com.sig 2>/dev/null | head -n 1 || true)"
[ -n "$sig" ] || fail "no .sig file beside receipts/alice@example.com.receipt.json: $(ls receipts)"
run openssl pkeyutl -verify -pubin -inkey b.pub.pem -rawin -in receipts/alice@example.com.receipt.json -sigfile "$sig"
expect "Signature Verified Successfully"
run --status 1 mailferry import samples.mfa --trust a.pub.pem --target dir:target
expect "replay" "--reimport"
run mailferry import samples.mfa --trust a.pub.pem --target dir:target --reimport
expect "verdict: PASS"
mkdir -p "$WORK/media/stick"
run mailferry copy samples.mfa --to "$WORK/media/stick"
expect "samples.mfa: [0-9]+ bytes .*, SHA-256 [0-9a-f]{64}, verified"
[ "$(sha256sum <"$WORK/media/stick/samples.mfa" | cut -d' ' -f1)" = "$(sha256sum <samples.mfa | cut -d' ' -f1)" ] ||
    fail "the copy on the medium differs from samples.mfa"
grep -q "SHA-256 $(sha256sum <samples.mfa | cut -d' ' -f1), verified" "$OUT" || fail "copy printed another SHA-256 than sha256sum's"
run mailferry copy samples.mfa --to "$WORK/media/stick"
expect "already there, verified"

# ---------------------------------------------------------------------------------------------------------------
section "Volume sets, for FAT32 and for exports larger than one medium"
mkdir -p out
run mailferry export --source dir:store --sign-key a.key.pem --volume-size fat32 --out out/june.mfa
expect "set id [0-9a-f]{32}, signed by key [0-9a-f]{16}: 1 volume" "volume 1: out/june.001.mfa"
expect_file out/june.001.mfa out/june.set
run mailferry copy out/june.* --to "$WORK/media/stick"
expect "june.001.mfa: .*verified" "june.set: .*verified"
run mailferry verify "$WORK/media/stick" --trust a.pub.pem
expect "its one volume present and verified"
run mailferry inspect "$WORK/media/stick" --trust a.pub.pem
expect "\\(1 volume, 1 here\\)" "signature checked"
run mailferry verify "$WORK/media/stick/june.001.mfa" --trust a.pub.pem
expect "OK"
run mailferry import "$WORK/media/stick" --trust a.pub.pem --target dir:srv/newmail \
    --report stick.report.json --receipt stick-receipts/ --sign-key b.key.pem
expect "set [0-9a-f]{32}: all 1 volume imported; reconciled as one" "verdict: PASS \\(report: stick.report.json\\)"
expect_file stick.report.json stick-receipts/alice@example.com.receipt.json stick-receipts/bob@example.com.receipt.json
[ "$(json stick-receipts/alice@example.com.receipt.json 'd["archiveID"]')" = "$(json stick.report.json 'd["archiveID"]')" ] ||
    fail "the set's receipt does not name the set's id"
[ "$(json stick-receipts/alice@example.com.receipt.json 'len(d["volumes"])')" = 1 ] || fail "the set's receipt does not list its volume"

# ---------------------------------------------------------------------------------------------------------------
section "Incremental passes"
mkdir -p home/c
cp -a store/alice@example.com/Maildir home/c/Maildir
run mailferry export --source maildir:home/c/Maildir --user c@example.com --sign-key a.key.pem --out c-1.mfa
expect_file c-1.mfa
run mailferry import c-1.mfa --trust a.pub.pem --target "imaps://$NEW" --credentials admin.tsv --ca-file "$CA"
expect "verdict: PASS"
# Meanwhile at the source: a new message arrives, one is flagged, one deleted.
printf 'From: x@example.org\nTo: c@example.com\nSubject: after the first pass\nMessage-ID: <walk-delta@example.org>\n\nnew\n' \
    >"home/c/Maildir/new/1760000000.M1P1.walk,S=107"
first="$(ls home/c/Maildir/cur | head -n 1)"
mv "home/c/Maildir/cur/$first" "home/c/Maildir/cur/${first%%:2,*}:2,FS"
rm -f "home/c/Maildir/cur/$(ls home/c/Maildir/cur | sed -n 3p)"
run mailferry export --source maildir:home/c/Maildir --user c@example.com --sign-key a.key.pem --since c-1.mfa --out c-2.mfa
expect_file c-2.mfa
run mailferry import c-2.mfa --trust a.pub.pem --target "imaps://$NEW" --credentials admin.tsv --ca-file "$CA"
expect "verdict: PASS"
run mailferry reconcile c-2.mfa --trust a.pub.pem --target "imaps://$NEW" --credentials admin.tsv --ca-file "$CA" \
    --receipt c-receipts --sign-key b.key.pem
expect "verdict: PASS"

# ---------------------------------------------------------------------------------------------------------------
section "IMAP servers"
printf 'alice@example.com\nbob@example.com\n' >users.txt
run mailferry export --source "imaps://$OLD" --users users.txt --credentials admin.tsv --ca-file "$CA" --estimate
expect "alice@example.com" "bob@example.com"
run mailferry export --source "imaps://$OLD" --users users.txt --credentials admin.tsv --ca-file "$CA" \
    --sign-key a.key.pem --out june.mfa
expect_file june.mfa
run mailferry inspect june.mfa --trust a.pub.pem
expect "alice@example.com" "bob@example.com"
run mailferry import june.mfa --trust a.pub.pem --target "imaps://$NEW" --credentials admin.tsv --ca-file "$CA" \
    --report june.report.json
expect "verdict: PASS"
[ "$(json june.report.json 'd["verdict"]')" = pass ] || fail "june.report.json's verdict is not pass"
run mailferry reconcile june.mfa --trust a.pub.pem --target "imaps://$NEW" --credentials admin.tsv --ca-file "$CA" \
    --receipt june-receipts --sign-key b.key.pem
expect "verdict: PASS"
# imap:// (STARTTLS) and the admin's SASL PLAIN login with the user as authorization identity.
printf '*\tadmin\t%s\tsasl\n' "$ADMIN_PASSWORD" >sasl.tsv
chmod 600 sasl.tsv
run mailferry reconcile june.mfa --trust a.pub.pem --target "imap://127.0.0.1:$new_IMAP" --credentials sasl.tsv --ca-file "$CA"
expect "verdict: PASS"
run mailferry export --source "imaps://$OLD" --users users.txt --credentials admin.tsv --ca-file "$CA" \
    --sign-key a.key.pem --out june-jobs.mfa --jobs 2
expect_file june-jobs.mfa
run mailferry verify june-jobs.mfa --trust a.pub.pem
run mailferry import june-jobs.mfa --trust a.pub.pem --target dir:target-jobs --jobs 2 --report jobs.report.json
expect "verdict: PASS"

# ---------------------------------------------------------------------------------------------------------------
section "The buffer"
SMTP_PORT=$(free_port)
LMTP_PORT=$(free_port)
while [ "$LMTP_PORT" = "$SMTP_PORT" ]; do LMTP_PORT=$(free_port); done
mkdir -p var/lib/mailferry
cat >buffer.toml <<TOML
# buffer.toml
[smtp]
listen = "127.0.0.1:$SMTP_PORT"
tls_certificate = "$WORK/tls/server.pem"
tls_key = "$WORK/tls/server.key"
require_tls = true
[lmtp]
listen = "127.0.0.1:$LMTP_PORT"
[buffer]
spool = "$WORK/var/lib/mailferry/spool"
namespace = "buffer.example.com"      # alice@buffer.example.com stands for alice@example.com
hold = ["alice@example.com", "bob@example.com"]
hostname = "buffer.example.com"
[limits]
message_size = 67108864
recipients = 100
connections = 256
line_length = 1000
[imap]
credentials = "$WORK/b-admin.tsv"
ca_file = "$WORK/ca.pem"
allow_plaintext = false
TOML
N=$((N + 1))
CMD="mailferry buffer serve --config buffer.toml"
printf '==> %s &\n' "$CMD"
setsid mailferry buffer serve --config buffer.toml >logs/buffer.out 2>logs/buffer.err &
PIDS+=("$!")
wait_listening "mailferry buffer serve" logs/buffer.err "$SMTP_PORT" "$LMTP_PORT"
run swaks --server "127.0.0.1:$SMTP_PORT" --tls --to alice@buffer.example.com --from sender@example.org \
    --header "Subject: held over SMTP"
expect "250 "
run swaks --server "127.0.0.1:$LMTP_PORT" --protocol LMTP --to alice@buffer.example.com --from sender@example.org \
    --header "Subject: held over LMTP"
expect "250 "
run swaks --server "127.0.0.1:$SMTP_PORT" --tls --to bob@buffer.example.com --from sender@example.org \
    --header "Subject: held for bob"
expect "250 "
run --status 24 swaks --server "127.0.0.1:$SMTP_PORT" --tls --to nobody@buffer.example.com --from sender@example.org
expect "550 5.1.1"
run mailferry buffer hold --config buffer.toml --user c@example.com
run swaks --server "127.0.0.1:$LMTP_PORT" --protocol LMTP --to c@buffer.example.com --from sender@example.org \
    --header "Subject: held for c"
expect "250 "
run mailferry buffer status --config buffer.toml --json
python3 - "$OUT" <<'PY' || fail "buffer status --json does not show alice 2, bob 1, c 1 held"
import json, sys
d = json.load(open(sys.argv[1]))
users = d["users"] if isinstance(d, dict) and "users" in d else d
held = {}
for u in users:
    name = u.get("user") or u.get("address")
    held[name] = (u.get("state"), u.get("heldCount"))
print(held)
assert held.get("alice@example.com") == ("holding", 2), held
assert held.get("bob@example.com") == ("holding", 1), held
assert held.get("c@example.com") == ("holding", 1), held
PY
run mailferry buffer status --config buffer.toml
expect "alice@example.com"
mkdir -p released
run mailferry buffer release --config buffer.toml --user alice@example.com --to maildir:released/alice/Maildir \
    --receipt receipts --trust b.pub.pem
expect "2 delivered"
[ "$(find released/alice/Maildir/new released/alice/Maildir/cur -type f | wc -l)" = 2 ] \
    || fail "released/alice/Maildir does not hold the 2 messages"
run mailferry buffer release --config buffer.toml --user bob@example.com --to "imaps://$NEW" \
    --receipt june-receipts --trust b.pub.pem
expect "1 delivered"
run mailferry buffer release --config buffer.toml --user c@example.com --to "lmtp://127.0.0.1:$new_LMTP" \
    --receipt c-receipts/c@example.com.receipt.json --trust b.pub.pem
expect "1 delivered"
run --status 1 mailferry buffer release --config buffer.toml --user alice@example.com --to maildir:released/alice/Maildir \
    --receipt receipts --trust a.pub.pem
expect "alice@example.com"
run mailferry buffer close --config buffer.toml --user alice@example.com
expect "closed"
# Undo: held mail goes back to the source once its forwarding is recorded as removed.
run mailferry buffer hold --config buffer.toml --user frank@example.com
run swaks --server "127.0.0.1:$SMTP_PORT" --tls --to frank@buffer.example.com --from sender@example.org \
    --header "Subject: held for frank, then undone"
expect "250 "
run --refused mailferry buffer release --config buffer.toml --user frank@example.com --to "lmtp://127.0.0.1:$old_LMTP" --undo
expect "forwarding"
run mailferry buffer forwarding --config buffer.toml --user frank@example.com --off
run mailferry buffer release --config buffer.toml --user frank@example.com --to "lmtp://127.0.0.1:$old_LMTP" --undo
expect "1 delivered"

# ---------------------------------------------------------------------------------------------------------------
section "A migration of many users: the plan"
printf 'dave@example.com,,sales\nerin@example.com,erin@example.net,sales\n' >users.csv
PLAN="$WORK/srv/plan"
USB="$WORK/media/usb"
mkdir -p "$WORK/srv" "$USB"
run mailferry plan init --users users.csv --source "imaps://$OLD" --target "imaps://$NEW" --station-a "$PLAN" \
    --buffer-config buffer.toml --sign-key a.key.pem --archives "$USB" --station-b-key b.pub.pem \
    --receipts "$USB/receipts" --credentials admin.tsv --ca-file "$CA"
expect "2 users"
run mailferry plan status --plan "$PLAN"
expect "planned 2"
run mailferry plan export --plan "$PLAN" --group sales
expect "pass for: dave@example.com, erin@example.com"
run mailferry plan status --plan "$PLAN" --json
PASS_ARCHIVE="$(json "$OUT" '[a["path"] for a in d[0]["chain"]][-1]')"
[ -f "$PASS_ARCHIVE" ] || fail "plan status --json names no pass archive"
run mailferry plan carried --plan "$PLAN" "$PASS_ARCHIVE"
expect "carried $PASS_ARCHIVE"
# The users work on at the source meanwhile.
python3 - "$old_IMAP" "$CA" "$PASSWORD" <<'PY' || fail "could not add mail at the source"
import imaplib, ssl, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
m.login("dave@example.com", sys.argv[3])
m.append("INBOX", "(\\Seen)", None, b"Subject: after the pass\r\nMessage-ID: <walk-pass@example.org>\r\n\r\nnew\r\n")
m.logout()
PY
run mailferry plan prepared --plan "$PLAN" --group sales
expect "prepared: dave@example.com, erin@example.com"
run mailferry plan next --plan "$PLAN"
expect "held: dave@example.com, erin@example.com"
run swaks --server "127.0.0.1:$SMTP_PORT" --tls --to dave@buffer.example.com,erin@buffer.example.com \
    --from sender@example.org --header "Subject: held during the cut-over"
expect "250 "
run mailferry plan forwarding --plan "$PLAN" --group sales --on
expect "recorded as on for 2"
run mailferry plan next --plan "$PLAN"
expect "\(delta of "
run mailferry plan status --plan "$PLAN" --json
FINAL_ARCHIVE="$(json "$OUT" '[a["path"] for a in d[0]["chain"] if a["final"]][0]')"
[ -f "$FINAL_ARCHIVE" ] && [ "$FINAL_ARCHIVE" != "$PASS_ARCHIVE" ] || fail "plan status --json names no final archive"
run mailferry plan carried --plan "$PLAN" "$FINAL_ARCHIVE"
expect "final archive of dave@example.com, erin@example.com"
run mailferry plan import "$PASS_ARCHIVE" "$FINAL_ARCHIVE" \
    --target "imaps://$NEW" --trust a.pub.pem --sign-key b.key.pem --receipts "$USB/receipts" \
    --credentials b-admin.tsv --ca-file "$CA"
expect "dave@example.com: pass" "erin@example.com -> erin@example.net: pass"
run mailferry plan next --plan "$PLAN"
expect "dave@example.com: released, 1 delivered" "erin@example.com: released, 1 delivered"
run mailferry plan report --plan "$PLAN" --html plan.html --json plan.json
expect "2 of 2 users reconciled, verdict pass"
expect_file plan.html plan.json
run mailferry plan close --plan "$PLAN" --group sales
expect "closed: 2 of 2 users"
run mailferry plan status --plan "$PLAN" --json
[ "$(json "$OUT" '",".join(r["state"] for r in d)')" = "closed,closed" ] || fail "the users are not closed"

# ---------------------------------------------------------------------------------------------------------------
section "Encrypted archives for the media leg"
run mailferry keygen --encryption --out b
expect_file b.age.key b.age.pub
run mailferry keygen --encryption --out escrow
run mailferry export --source maildir:home/c/Maildir --user c@example.com --sign-key a.key.pem \
    --encrypt-to b.age.pub --encrypt-to escrow.age.pub --out c.mfa
expect_file c.mfa.age
[ ! -e c.mfa ] || fail "an encrypted export left a plain c.mfa"
run mailferry inspect c.mfa.age --identity b.age.key
expect "c@example.com" "encrypted with age"
run mailferry verify c.mfa.age --trust a.pub.pem --identity b.age.key
expect "OK"
run mailferry import c.mfa.age --trust a.pub.pem --identity b.age.key --target dir:srv/newmail
expect "verdict: PASS"
run mailferry copy c.mfa.age --to "$WORK/media/stick"
expect "verified"
if command -v age >/dev/null 2>&1; then
    run age -d -i b.age.key -o c.mfa c.mfa.age
    run mailferry verify c.mfa --trust a.pub.pem
    expect "OK"
fi

# ---------------------------------------------------------------------------------------------------------------
section "The archive (checked without MailFerry)"
run tar --zstd -tf june.mfa
expect "mailferry/manifest.jsonl" "mailferry/statement.json" "mailferry/statement.sig"
run tar --zstd -xf june.mfa mailferry
expect_file mailferry/manifest.jsonl mailferry/statement.json mailferry/statement.sig
run openssl pkeyutl -verify -pubin -inkey a.pub.pem -rawin -in mailferry/statement.json -sigfile mailferry/statement.sig
expect "Signature Verified Successfully"
run sha256sum mailferry/manifest.jsonl    # equals manifest.sha256 in statement.json
[ "$(cut -d' ' -f1 "$OUT")" = "$(json mailferry/statement.json 'd["manifest"]["sha256"]')" ] \
    || fail "sha256sum of mailferry/manifest.jsonl is not statement.json's manifest.sha256"
run bsdtar -tf june.mfa
expect "mailferry/statement.sig"
run zstd -d -f june.mfa -o june.tar
run tar -tf june.tar
expect "mailferry/statement.sig"

printf '\nwalkthrough: every README command above worked as written (%ds, in %s)\n' "$((SECONDS - STARTED))" "$WORK"
printf '%d passed, 0 failed\n' "$N"
