#!/usr/bin/env bash
# Contacts and calendars between two CalDAV/CardDAV servers: MailFerry against a plain Python script doing the same
# DAV work (Benchmarks/dav_baseline.py: discovery, PROPFIND, multiget REPORTs of 100, PUT with If-None-Match: * and
# a read-back), in the same run, on two Radicales on loopback (plain HTTP). Prints each direction's time, the ratio
# MailFerry / baseline (goal: at most 1.0) and MailFerry's peak RSS.
#
#   bash Benchmarks/dav_bench.sh                          # 10,000 contacts and 10,000 events; release build
#   bash Benchmarks/dav_bench.sh --contacts 2000 --events 2000 --bin .build/release/mailferry
#
# Export: mailferry export --source dav://... (into a signed, compressed archive) against the baseline's export
# (each object into a file, hashed). Import: mailferry import --target dav://... with its reconcile (every object
# read back twice: the import's own check of what the server stored, then the reconcile) against the baseline's
# PUTs and one read-back. Each side imports into its own empty target server, as the same user.
# The source is read once before the timed runs, so that neither side pays for Radicale's item cache. MailFerry
# lists each collection with an initial sync-collection REPORT (RFC 6578), whose token it records for later deltas;
# Radicale computes that token from every object's tag, which the baseline's PROPFIND listing does not ask for.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONTACTS=10000
EVENTS=10000
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --contacts) CONTACTS="$2"; shift 2 ;;
        --events) EVENTS="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) echo "dav_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '==> %s\n' "$*" >&2; }

. "$ROOT/scripts/servers.sh"
ensure_packages radicale python3 time
bash "$ROOT/.ci/install-deps" >/dev/null
BIN="$(release_binary "$ROOT" "$BIN")"
SCRATCH="$(mktemp -d /tmp/mf-dav-bench-XXXXXX)"
PIDS=()
cleanup() {
    stop_process_groups "${PIDS[@]}"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
. "$ROOT/Benchmarks/measure.bash"

log "seeding $CONTACTS contacts and $EVENTS events"
python3 "$ROOT/Benchmarks/dav_baseline.py" seed "$SCRATCH/src/collections" u@bench "$CONTACTS" "$EVENTS" >&2
radicale_start "$SCRATCH/src" u@bench:bench; PIDS+=("$RADICALE_PID"); SRC="http://127.0.0.1:$RADICALE_PORT"; SRC_URL="dav://127.0.0.1:$RADICALE_PORT"
# One empty target server for each side: Radicale's PUT costs more the more the server holds, so sharing one would
# charge whoever imports second for the other's objects.
radicale_start "$SCRATCH/dst-baseline" u@bench:bench; PIDS+=("$RADICALE_PID"); DST="http://127.0.0.1:$RADICALE_PORT"
radicale_start "$SCRATCH/dst-mailferry" u@bench:bench; PIDS+=("$RADICALE_PID"); DST_URL="dav://127.0.0.1:$RADICALE_PORT"
printf 'u@bench\tbench\n' > "$SCRATCH/credentials.tsv"; chmod 600 "$SCRATCH/credentials.tsv"
"$BIN" keygen --out "$SCRATCH/k" >/dev/null

log "warming the source's cache"
python3 "$ROOT/Benchmarks/dav_baseline.py" export "$SRC" u@bench bench "$SCRATCH/warm" >&2

timed baseline-export python3 "$ROOT/Benchmarks/dav_baseline.py" export "$SRC" u@bench bench "$SCRATCH/baseline"
BASE_EXPORT=$T
timed mailferry-export "$BIN" export --source "$SRC_URL" --allow-plaintext --user u@bench --credentials "$SCRATCH/credentials.tsv" \
    --sign-key "$SCRATCH/k.key.pem" --out "$SCRATCH/a.mfa"
MF_EXPORT=$T; MF_EXPORT_RSS=$RSS
objects=$((CONTACTS + EVENTS))
grep -q "contacts $CONTACTS in $CONTACTS files, events $EVENTS" "$SCRATCH/mailferry-export.out" || {
    echo "dav_bench.sh: the export did not carry $CONTACTS contacts and $EVENTS events:" >&2; cat "$SCRATCH/mailferry-export.out" >&2; exit 1; }

timed baseline-import python3 "$ROOT/Benchmarks/dav_baseline.py" import "$DST" u@bench bench "$SCRATCH/baseline"
BASE_IMPORT=$T
timed mailferry-import "$BIN" import "$SCRATCH/a.mfa" --trust "$SCRATCH/k.pub.pem" --target "$DST_URL" --allow-plaintext \
    --credentials "$SCRATCH/credentials.tsv" --journal "$SCRATCH/journal"
MF_IMPORT=$T; MF_IMPORT_RSS=$RSS
grep -q "$objects items written" "$SCRATCH/mailferry-import.out" && grep -q "verdict: PASS" "$SCRATCH/mailferry-import.out" || {
    echo "dav_bench.sh: the import did not write $objects objects and pass:" >&2; tail -n 20 "$SCRATCH/mailferry-import.out" >&2; exit 1; }

echo
echo "DAV benchmark: $CONTACTS contacts and $EVENTS events between two Radicales on loopback, one run each"
printf '%-8s %12s %12s %8s %12s\n' direction "baseline s" "mailferry s" ratio "peak RSS"
printf '%-8s %12s %12s %8s %12s\n' export "$BASE_EXPORT" "$MF_EXPORT" "$(ratio "$MF_EXPORT" "$BASE_EXPORT")" "$MF_EXPORT_RSS MB"
printf '%-8s %12s %12s %8s %12s\n' import "$BASE_IMPORT" "$MF_IMPORT" "$(ratio "$MF_IMPORT" "$BASE_IMPORT")" "$MF_IMPORT_RSS MB"
echo "(ratio: MailFerry's time over the baseline's; the import's includes its reconcile, which reads every object back once more)"
