#!/usr/bin/env bash
# The buffer's acceptance rate against Postfix, measured in the same run with the same client:
# CLIENTS concurrent SMTP connections send 10 KB messages for SECONDS seconds (Benchmarks/smtp_load.py).
# Both servers make every accepted message durable before their 250: MailFerry by its spool's group
# commit, Postfix by its queue (messages are put on hold, never delivered).
#
# Needs root (Postfix's queue ownership), python3, and Debian's postfix package (installed if missing).
# A throw-away Postfix instance runs from a temporary folder on 127.0.0.1; the only change outside it is
# an `alternate_config_directories` line in /etc/postfix/main.cf, which Postfix requires and which is
# removed again at the end.
#
# Usage: Benchmarks/buffer_bench.sh [--seconds N] [--clients N] [--bin PATH]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SECONDS_RUN=10
CLIENTS=16
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_RUN="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "buffer_bench: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "buffer_bench: run as root (Postfix's queue must be owned by its users)" >&2; exit 2; }
if ! command -v postfix >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix >/dev/null
fi
. "$ROOT/scripts/servers.sh"
BIN="$(release_binary "$ROOT" "$BIN")"
WORK=$(mktemp -d /tmp/mailferry-buffer-bench.XXXXXX)
chmod 755 "$WORK"  # Postfix's own users must reach its queue inside
PF="$WORK/postfix"
BUFFER_PID=""
cleanup() {
    [ -n "$BUFFER_PID" ] && kill "$BUFFER_PID" 2>/dev/null || true
    postfix -c "$PF/etc" stop >/dev/null 2>&1 || true
    sed -i "\\|^alternate_config_directories = $PF/etc\$|d" /etc/postfix/main.cf 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- Postfix, holding everything it accepts ---------------------------------------------------
PF_PORT=$(free_port)
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
sed "s|^smtp      inet  n       -       y       -       -       smtpd|127.0.0.1:$PF_PORT inet n - n - - smtpd|" \
    /etc/postfix/master.cf > "$PF/etc/master.cf"
cat > "$PF/etc/main.cf" <<CONF
compatibility_level = 3.6
meta_directory = /etc/postfix
queue_directory = $PF/queue
data_directory = $PF/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench.localdomain
mydestination = buffer.example.com
mynetworks = 127.0.0.0/8
local_recipient_maps =
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_end_of_data_restrictions = check_client_access static:HOLD
CONF
touch /etc/postfix/main.cf
echo "alternate_config_directories = $PF/etc" >> /etc/postfix/main.cf
postfix -c "$PF/etc" set-permissions >/dev/null 2>&1
postfix -c "$PF/etc" start >/dev/null
sleep 1

# --- The MailFerry buffer ----------------------------------------------------------------------
MF_PORT=$(free_port)
cat > "$WORK/buffer.toml" <<CONF
[smtp]
listen = "127.0.0.1:$MF_PORT"
[buffer]
spool = "$WORK/spool"
namespace = "buffer.example.com"
hold = ["alice@example.com"]
CONF
"$BIN" buffer serve --config "$WORK/buffer.toml" > "$WORK/buffer.log" 2>&1 &
BUFFER_PID=$!
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $MF_PORT), 1)" 2>/dev/null && break
    sleep 0.2
done

run() { python3 "$ROOT/Benchmarks/smtp_load.py" --port "$1" --clients "$CLIENTS" --seconds "$SECONDS_RUN" --to alice@buffer.example.com; }
echo "MailFerry buffer benchmark: $CLIENTS clients, 10 KB messages, $SECONDS_RUN s each; $(nproc) cores"
# Warm both up briefly, then measure Postfix first so any slowdown over time counts against MailFerry.
python3 "$ROOT/Benchmarks/smtp_load.py" --port "$PF_PORT" --clients 2 --seconds 1 --to alice@buffer.example.com >/dev/null
python3 "$ROOT/Benchmarks/smtp_load.py" --port "$MF_PORT" --clients 2 --seconds 1 --to alice@buffer.example.com >/dev/null
POSTFIX=$(run "$PF_PORT")
MAILFERRY=$(run "$MF_PORT")
python3 - "$POSTFIX" "$MAILFERRY" "${MAILFERRY_BENCH_SMOKE:-}" <<'PY'
import json, sys
p, m = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("%-10s %10s %10s %10s %8s" % ("server", "msgs/s", "p50 ms", "p99 ms", "errors"))
for name, r in (("postfix", p), ("mailferry", m)):
    print("%-10s %10.1f %10s %10s %8d" % (name, r["rate"], r["p50_ms"], r["p99_ms"], r["errors"]))
ratio = m["rate"] / p["rate"] if p["rate"] else 0
ok = ratio >= 1.0 and m["errors"] == 0
print("rate ratio mailferry/postfix: %.2f (target >= 1.0): %s" % (ratio, "PASS" if ok else "FAIL"))
for name, r in (("postfix", p), ("mailferry", m)):
    if r["errors"]:
        print("%s errors: %s" % (name, r["first_errors"]))
# A smoke run (Benchmarks/smoke.sh) checks that the benchmark works, not its figures; errors still fail it.
smoke = bool(sys.argv[3])
sys.exit(0 if ok or (smoke and not m["errors"]) else 1)
PY
