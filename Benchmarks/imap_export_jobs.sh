#!/usr/bin/env bash
# export --jobs 1 against export --jobs 4 of the same users from one Dovecot, in the same run.
#
#   bash Benchmarks/imap_export_jobs.sh                      # 4 users x 5000 messages, release build, 3 runs each
#   bash Benchmarks/imap_export_jobs.sh --users 4 --messages 1000 --repeat 1 --bin .build/release/mailferry
#
# One Dovecot on 127.0.0.1 (its own configuration in a scratch folder, plain IMAP with a password, no TLS) holds
# USERS users, each with a corpus of MESSAGES messages from Benchmarks/make_corpus.py (a different seed each).
# Each timed run exports all users into one archive: first with --jobs 1, then with --jobs JOBS (default 4),
# alternating, median of REPEAT runs after a warm-up of each. Both archives must list the same entries
# (manifest without archive id and time), and both must verify. Prints the times and the ratio jobs-N / jobs-1.
# KEEP_SCRATCH=1 leaves the scratch folder and Dovecot running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USERS=4
MESSAGES=5000
JOBS=4
REPEAT=3
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --users) USERS="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,12p "$0"; exit 0 ;;
        *) echo "imap_export_jobs.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '==> %s\n' "$*" >&2; }

for tool in /usr/sbin/dovecot python3 zstd tar; do
    command -v "$tool" >/dev/null || { echo "imap_export_jobs.sh: $tool is missing (apt-get install dovecot-imapd zstd)" >&2; exit 1; }
done
. "$ROOT/scripts/servers.sh"
BIN="$(release_binary "$ROOT" "$BIN")"
SCRATCH="$(mktemp -d /tmp/mf-export-jobs-XXXXXX)"
chmod 755 "$SCRATCH"
DOVECOT=""
cleanup() {
    [ -n "${KEEP_SCRATCH:-}" ] && { echo "kept $SCRATCH (Dovecot process group $DOVECOT)" >&2; return; }
    stop_process_groups "$DOVECOT"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

DIR="$SCRATCH/dovecot"
mkdir -p "$DIR/mail"
: >"$SCRATCH/credentials.tsv"; : >"$SCRATCH/users.txt"
for ((u = 1; u <= USERS; u++)); do
    printf 'u%d@bench\tbench\n' "$u" >>"$SCRATCH/credentials.tsv"
    printf 'u%d@bench\n' "$u" >>"$SCRATCH/users.txt"
done
chmod 600 "$SCRATCH/credentials.tsv"  # mailferry refuses a credentials file others can read
# shellcheck disable=SC2046
dovecot_users "$SCRATCH/dovecot-users" bench $(cat "$SCRATCH/users.txt")

log "generating $USERS x $MESSAGES messages"
for ((u = 1; u <= USERS; u++)); do
    python3 "$ROOT/Benchmarks/make_corpus.py" --out "$DIR/mail/u$u@bench/Maildir" --messages "$MESSAGES" --seed $((20240500 + u)) >/dev/null
done
chown -R nobody:nogroup "$DIR/mail" 2>/dev/null || chmod -R a+rwX "$DIR/mail"
CORPUS_MB=$(du -sm "$DIR/mail" | awk '{ print $1 }')

dovecot_start "$DIR" "$SCRATCH/dovecot-users"
DOVECOT=$DOVECOT_PID
PORT=$DOVECOT_IMAP
"$BIN" keygen --out "$SCRATCH/k" >/dev/null

export_with() { # JOBS OUT
    rm -f "$2" "$2.partial"
    "$BIN" export --source "imap://127.0.0.1:$PORT" --users "$SCRATCH/users.txt" --credentials "$SCRATCH/credentials.tsv" \
        --allow-plaintext --sign-key "$SCRATCH/k.key.pem" --out "$2" --jobs "$1" >"$2.out" 2>&1 \
        || { echo "imap_export_jobs.sh: export --jobs $1 failed" >&2; tail -n 20 "$2.out" >&2; exit 1; }
}
seconds() { # JOBS OUT: prints the wall time of one export
    local t0 t1
    t0=$(date +%s.%N)
    export_with "$1" "$2"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

log "warm-up (both)"
export_with 1 "$SCRATCH/one.mfa"
export_with "$JOBS" "$SCRATCH/many.mfa"
ONE=(); MANY=()
for ((i = 1; i <= REPEAT; i++)); do
    ONE+=("$(seconds 1 "$SCRATCH/one.mfa")")
    MANY+=("$(seconds "$JOBS" "$SCRATCH/many.mfa")")
    log "run $i: --jobs 1 ${ONE[-1]} s, --jobs $JOBS ${MANY[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
T1=$(median "${ONE[@]}"); TN=$(median "${MANY[@]}")

manifest() { tar --zstd -xOf "$1" mailferry/manifest.jsonl | sed -E '1s/"archiveID":"[0-9a-f]+"//; 1s/"created":"[^"]+"//'; }
cmp -s <(manifest "$SCRATCH/one.mfa") <(manifest "$SCRATCH/many.mfa") \
    || { echo "imap_export_jobs.sh: the two archives' manifests differ" >&2; exit 1; }
for a in one many; do
    "$BIN" verify "$SCRATCH/$a.mfa" --trust "$SCRATCH/k.pub.pem" >/dev/null 2>&1 \
        || { echo "imap_export_jobs.sh: $a.mfa does not verify" >&2; exit 1; }
done
ITEMS=$(grep -c '^{"entry"' <(tar --zstd -xOf "$SCRATCH/one.mfa" mailferry/manifest.jsonl))
SIZE_MB=$(du -m "$SCRATCH/one.mfa" | awk '{ print $1 }')

echo
echo "export --jobs: $USERS users x $MESSAGES messages ($ITEMS items, $CORPUS_MB MB in Maildir, archive $SIZE_MB MB),"
echo "Dovecot on loopback, $(nproc) cores, median of $REPEAT runs after a warm-up; same manifest, both verify"
printf '%-10s %10s\n' jobs seconds
printf '%-10s %10s\n' 1 "$T1"
printf '%-10s %10s\n' "$JOBS" "$TN"
awk -v a="$TN" -v b="$T1" -v n="$JOBS" 'BEGIN { printf "ratio jobs-%d / jobs-1: %.2f (speed-up %.2fx)\n", n, a / b, b / a }'
