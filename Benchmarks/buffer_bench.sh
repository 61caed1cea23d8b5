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
# --store postgres measures the shared spool instead: a throw-away PostgreSQL (initdb into the work folder, as
# `nobody` when root; /usr/lib/postgresql/*/bin), two buffer processes on one database, the clients split between
# them; --store both measures the file spool and the shared one in the same run.
#
# Usage: Benchmarks/buffer_bench.sh [--seconds N] [--clients N] [--store file|postgres|both] [--bin PATH]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SECONDS_RUN=10
CLIENTS=16
BIN=""
STORE=file
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_RUN="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        --store) STORE="$2"; shift 2 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "buffer_bench: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$STORE" in file | postgres | both) ;; *) echo "buffer_bench: --store is file, postgres or both" >&2; exit 2 ;; esac
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
BUFFER_PIDS=()
PG_PID=""
cleanup() {
    for pid in "${BUFFER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$PG_PID" ] && kill -QUIT "$PG_PID" 2>/dev/null && wait "$PG_PID" 2>/dev/null || true
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

# --- The MailFerry buffers ---------------------------------------------------------------------
# start_buffer NAME SPOOL VAR: a buffer on a free port with that spool; sets VAR to the port.
start_buffer() {
    local name="$1" spool="$2" port
    port=$(free_port)
    cat > "$WORK/$name.toml" <<CONF
[smtp]
listen = "127.0.0.1:$port"
[buffer]
spool = "$spool"
namespace = "buffer.example.com"
hold = ["alice@example.com"]
CONF
    "$BIN" buffer serve --config "$WORK/$name.toml" > "$WORK/$name.log" 2>&1 &
    BUFFER_PIDS+=($!)
    for _ in $(seq 100); do port_listening "$port" && break; sleep 0.2; done
    port_listening "$port" || { echo "buffer_bench: buffer $name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
    printf -v "$3" '%s' "$port"
}

# start_postgres: a throw-away PostgreSQL on a free port (fsync and synchronous_commit at their durable
# defaults); sets PG_URL.
start_postgres() {
    local bin pgport as=()
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/initdb" ] || { echo "buffer_bench: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }
    mkdir -p "$WORK/pg"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$WORK/pg"
        as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    fi
    chmod 700 "$WORK/pg"
    "${as[@]}" "$bin/initdb" -D "$WORK/pg/data" -U mailferry -A trust -E UTF8 --locale=C >/dev/null
    pgport=$(free_port)
    "${as[@]}" "$bin/postgres" -D "$WORK/pg/data" -p "$pgport" -k "$WORK/pg" -c listen_addresses=127.0.0.1 \
        -c max_connections=100 > "$WORK/pg/server.log" 2>&1 &
    PG_PID=$!
    for _ in $(seq 100); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$pgport" && break; sleep 0.2; done
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U mailferry spool
    PG_URL="postgres://mailferry@127.0.0.1:$pgport/spool"
}

if [ "$STORE" != postgres ]; then
    start_buffer file "$WORK/spool" MF_PORT
fi
if [ "$STORE" != file ]; then
    start_postgres
    start_buffer pg-a "$PG_URL" PG_PORT_A
    start_buffer pg-b "$PG_URL" PG_PORT_B
fi

load() { python3 "$ROOT/Benchmarks/smtp_load.py" --port "$1" --clients "$2" --seconds "$SECONDS_RUN" --to alice@buffer.example.com; }
run() { load "$1" "$CLIENTS"; }
# run_split PORT_A PORT_B: the clients split between two buffers, at the same time; one JSON line for both.
run_split() {
    local a b
    load "$1" $((CLIENTS / 2)) > "$WORK/split-a.json" &
    a=$!
    load "$2" $((CLIENTS - CLIENTS / 2)) > "$WORK/split-b.json" &
    b=$!
    wait "$a" "$b"
    python3 - "$WORK/split-a.json" "$WORK/split-b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(json.dumps({"rate": a["rate"] + b["rate"], "p50_ms": max(a["p50_ms"], b["p50_ms"]),
                  "p99_ms": max(a["p99_ms"], b["p99_ms"]), "errors": a["errors"] + b["errors"],
                  "first_errors": a["first_errors"] + b["first_errors"]}))
PY
}
warm() { python3 "$ROOT/Benchmarks/smtp_load.py" --port "$1" --clients 2 --seconds 1 --to alice@buffer.example.com >/dev/null; }
echo "MailFerry buffer benchmark: $CLIENTS clients, 10 KB messages, $SECONDS_RUN s each; $(nproc) cores; store: $STORE"
# Warm all up briefly, then measure Postfix first so any slowdown over time counts against MailFerry.
warm "$PF_PORT"
[ -n "${MF_PORT:-}" ] && warm "$MF_PORT"
[ -n "${PG_PORT_A:-}" ] && { warm "$PG_PORT_A"; warm "$PG_PORT_B"; }
POSTFIX=$(run "$PF_PORT")
MAILFERRY=""
SHARED=""
[ -n "${MF_PORT:-}" ] && MAILFERRY=$(run "$MF_PORT")
[ -n "${PG_PORT_A:-}" ] && SHARED=$(run_split "$PG_PORT_A" "$PG_PORT_B")
python3 - "$POSTFIX" "$MAILFERRY" "$SHARED" "${MAILFERRY_BENCH_SMOKE:-}" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
rows = [("postfix", p, None)]
if sys.argv[2]:
    rows.append(("mailferry", json.loads(sys.argv[2]), 1.0))   # the file spool: target >= 1.0 x Postfix
if sys.argv[3]:
    rows.append(("mf-pg x2", json.loads(sys.argv[3]), 0.8))    # two buffers on one PostgreSQL: target >= 0.8 x
print("%-10s %10s %10s %10s %8s" % ("server", "msgs/s", "p50 ms", "p99 ms", "errors"))
for name, r, _ in rows:
    print("%-10s %10.1f %10s %10s %8d" % (name, r["rate"], r["p50_ms"], r["p99_ms"], r["errors"]))
ok_all = True
errors = False
for name, r, target in rows[1:]:
    ratio = r["rate"] / p["rate"] if p["rate"] else 0
    ok = ratio >= target and r["errors"] == 0
    ok_all = ok_all and ok
    errors = errors or r["errors"] > 0
    print("rate ratio %s/postfix: %.2f (target >= %.1f): %s" % (name, ratio, target, "PASS" if ok else "FAIL"))
for name, r, _ in rows:
    if r["errors"]:
        print("%s errors: %s" % (name, r["first_errors"]))
# A smoke run (Benchmarks/smoke.sh) checks that the benchmark works, not its figures; errors still fail it.
smoke = bool(sys.argv[4])
sys.exit(0 if ok_all or (smoke and not errors) else 1)
PY
