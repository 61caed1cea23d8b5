#!/usr/bin/env bash
# How the time of an incremental pass grows with the mailbox: the same pass on a mailbox of N messages, then 2N,
# then 4N..., each with changes in proportion (N/40 new, N/20 reflagged: 500 and 1000 at 20,000), between two
# Dovecots over IMAP. Linear work doubles its time when the mailbox doubles; work that rereads something per item
# (the quadratic shape issue 17 removed) quadruples it. The ratio column is each size's time over the previous
# size's: about 2.0 is linear, about 4.0 quadratic.
#
#   bash Benchmarks/scaling_bench.sh                            # 5000, 10000, 20000 messages; release build
#   bash Benchmarks/scaling_bench.sh --messages 2000 --sizes 4 --bin .build/release/mailferry
#
# For each size: Benchmarks/make_corpus.py writes the mailbox into the source Dovecot (user uN@bench), a full pass
# (mailferry export + import with its reconcile) fills the target's uN@bench, Benchmarks/dsync_mailbox.py changes
# the source, then the timed incremental pass: export --since the full archive + import of the delta with its
# reconcile. The target is compared with the source message by message after both passes (bytes, flags and
# keywords, internal date); a difference or a reconcile that does not pass fails the run. Prints a table; exits 1
# if an incremental pass grows by more than 3x when the mailbox doubles (quadratic growth), except in a smoke run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MESSAGES=5000
SIZES=3
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="$2"; shift 2 ;;
        --sizes) SIZES="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,17p "$0"; exit 0 ;;
        *) echo "scaling_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$SIZES" -ge 2 ] || { echo "scaling_bench.sh: --sizes needs at least 2" >&2; exit 2; }

log() { printf '==> %s\n' "$*" >&2; }

. "$ROOT/scripts/servers.sh"
ensure_packages dovecot-imapd python3 time
bash "$ROOT/.ci/install-deps" >/dev/null
BIN="$(release_binary "$ROOT" "$BIN")"
SCRATCH="$(mktemp -d /tmp/mf-scaling-bench-XXXXXX)"
chmod 755 "$SCRATCH"
PIDS=()
cleanup() {
    stop_process_groups "${PIDS[@]}"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
. "$ROOT/Benchmarks/measure.bash"

sizes=()
n=$MESSAGES
for _ in $(seq "$SIZES"); do sizes+=("$n"); n=$((n * 2)); done
users=()
for n in "${sizes[@]}"; do users+=("u$n@bench"); done

dovecot_users "$SCRATCH/users" bench "${users[@]}"
dovecot_start "$SCRATCH/src" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); SRC_PORT=$DOVECOT_IMAP
dovecot_start "$SCRATCH/dst" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); DST_PORT=$DOVECOT_IMAP
: >"$SCRATCH/credentials.tsv"
chmod 600 "$SCRATCH/credentials.tsv"  # mailferry refuses a credentials file others can read
for u in "${users[@]}"; do printf '%s\tbench\n' "$u" >>"$SCRATCH/credentials.tsv"; done
"$BIN" keygen --out "$SCRATCH/k" >/dev/null

check() { # WHAT USER: the target's USER equals the source's, message by message
    python3 "$ROOT/Benchmarks/dsync_mailbox.py" compare "$SRC_PORT" "$2" "$DST_PORT" "$2" bench >"$SCRATCH/check.out" 2>&1 || {
        echo "scaling_bench.sh: after $1, $2 differs from the source:" >&2; cat "$SCRATCH/check.out" >&2; exit 1; }
    log "$1: $2 checked, $(cat "$SCRATCH/check.out")"
}
passed() { grep -q '"verdict" : "pass"' "$1" || { echo "scaling_bench.sh: the reconcile in $1 did not pass" >&2; exit 1; }; }

# pass NAME USER [EXPORT-ARGS...]: export USER into NAME.mfa, import it with its reconcile. Sets P (seconds, both)
# and P_RSS (the larger peak).
pass() {
    local name="$1" user="$2"; shift 2
    timed "$name-export" "$BIN" export --source "imap://127.0.0.1:$SRC_PORT" --user "$user" \
        --credentials "$SCRATCH/credentials.tsv" --allow-plaintext --sign-key "$SCRATCH/k.key.pem" "$@" \
        --out "$SCRATCH/$name.mfa"
    local export_s=$T export_rss=$RSS
    timed "$name-import" "$BIN" import "$SCRATCH/$name.mfa" --trust "$SCRATCH/k.pub.pem" \
        --target "imap://127.0.0.1:$DST_PORT" --credentials "$SCRATCH/credentials.tsv" --allow-plaintext \
        --journal "$SCRATCH/journal-$user" --report "$SCRATCH/$name.json"
    passed "$SCRATCH/$name.json"
    P=$(add "$export_s" "$T"); P_RSS=$(max "$export_rss" "$RSS")
}

rows=()
previous=""
worst=0
for n in "${sizes[@]}"; do
    user="u$n@bench" new=$((n / 40)) reflag=$((n / 20))
    log "$n messages: generating"
    python3 "$ROOT/Benchmarks/make_corpus.py" --out "$SCRATCH/corpus" --messages "$n" >/dev/null
    mkdir -p "$SCRATCH/src/mail/$user"
    mv "$SCRATCH/corpus" "$SCRATCH/src/mail/$user/Maildir"
    chown -R nobody:nogroup "$SCRATCH/src/mail/$user" 2>/dev/null || chmod -R a+rwX "$SCRATCH/src/mail/$user"
    log "$n messages: the full pass"
    pass "full-$n" "$user"
    full=$P
    check "the full pass" "$user"
    log "$n messages: changing the source ($new new, $reflag reflagged)"
    python3 "$ROOT/Benchmarks/dsync_mailbox.py" change "$SRC_PORT" "$user" bench --new "$new" --reflag "$reflag" >&2
    log "$n messages: the incremental pass"
    pass "delta-$n" "$user" --since "$SCRATCH/full-$n.mfa"
    check "the incremental pass" "$user"
    growth="-"
    if [ -n "$previous" ]; then
        growth=$(ratio "$P" "$previous")
        worst=$(max "$worst" "$growth")
    fi
    rows+=("$(printf '%-10s %8s %8s %10s %12s %10s %12s' "$n" "$new" "$reflag" "$full" "$P" "$growth" "$P_RSS MB")")
    previous=$P
done

echo
echo "scaling benchmark: the incremental pass (export --since + import of the delta with its reconcile) as the mailbox doubles; two Dovecots on loopback, one run each"
printf '%-10s %8s %8s %10s %12s %10s %12s\n' messages new reflag "full s" "incremental s" "x previous" "peak RSS"
printf '%s\n' "${rows[@]}"
echo "(x previous: the incremental pass's time over the previous size's; about 2.0 is linear, about 4.0 quadratic)"
if awk -v w="$worst" 'BEGIN { exit !(w > 3.0) }'; then
    echo "growth above 3x per doubling: quadratic"
    # A smoke run (Benchmarks/smoke.sh) checks that the benchmark works, not its figures.
    [ -n "${MAILFERRY_BENCH_SMOKE:-}" ] || exit 1
fi
