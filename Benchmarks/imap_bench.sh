#!/usr/bin/env bash
# IMAP export and import against mbsync (Debian isync) on the same mailbox, in the same run.
#
#   bash Benchmarks/imap_bench.sh                      # 20000 messages, release build, 3 timed runs each
#   bash Benchmarks/imap_bench.sh --messages 2000 --repeat 1 --bin .build/release/mailferry
#
# One Dovecot on 127.0.0.1 (its own configuration in a scratch folder) holds the corpus (Benchmarks/make_corpus.py)
# for src@bench; a second Dovecot is the empty import target. Both sides talk plain IMAP with a password (no TLS),
# so the comparison is about moving mail, not about ciphers.
#   export:  mailferry export --source imap://...   against   mbsync pulling the mailbox into a fresh local Maildir
#   import:  mailferry import --target imap://...   against   mbsync pushing the same Maildir into an empty user
# KEEP_SCRATCH=1 leaves the scratch folder and both Dovecots running, to look at afterwards.
# Targets: MailFerry at most 1.0 times mbsync's time in both directions. Prints a table; exits 1 if a target is
# missed or a run fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MESSAGES=20000
REPEAT=3
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) echo "imap_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '==> %s\n' "$*" >&2; }

. "$ROOT/scripts/servers.sh"
ensure_packages dovecot-imapd isync python3 time
bash "$ROOT/.ci/install-deps" >/dev/null
BIN="$(release_binary "$ROOT" "$BIN")"

SCRATCH="$(mktemp -d /tmp/mf-imap-bench-XXXXXX)"
chmod 755 "$SCRATCH"
PIDS=()
cleanup() {
    [ -n "${KEEP_SCRATCH:-}" ] && { echo "kept $SCRATCH (Dovecot process groups ${PIDS[*]})" >&2; return; }
    stop_process_groups "${PIDS[@]}"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

# Two Dovecots with users src@bench and dst@bench (password "bench"), plain IMAP.
dovecot_users "$SCRATCH/users" bench src@bench dst@bench
dovecot_start "$SCRATCH/src" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); SRC_PORT=$DOVECOT_IMAP
dovecot_start "$SCRATCH/dst" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); DST_PORT=$DOVECOT_IMAP

log "generating $MESSAGES messages"
python3 "$ROOT/Benchmarks/make_corpus.py" --out "$SCRATCH/corpus" --messages "$MESSAGES" >/dev/null
# The corpus is a Maildir++ tree: it becomes src@bench's mailbox as it is.
mkdir -p "$SCRATCH/src/mail/src@bench"
cp -a "$SCRATCH/corpus" "$SCRATCH/src/mail/src@bench/Maildir"
chown -R nobody:nogroup "$SCRATCH/src/mail" 2>/dev/null || chmod -R a+rwX "$SCRATCH/src/mail"
CORPUS_MB=$(du -sm "$SCRATCH/corpus" | awk '{ print $1 }')

printf 'src@bench\tbench\ndst@bench\tbench\n' >"$SCRATCH/credentials.tsv"
chmod 600 "$SCRATCH/credentials.tsv"  # mailferry refuses a credentials file others can read
"$BIN" keygen --out "$SCRATCH/k" >/dev/null

cat >"$SCRATCH/mbsyncrc" <<RC
IMAPAccount src
Host 127.0.0.1
Port $SRC_PORT
User src@bench
Pass bench
SSLType None
AuthMechs LOGIN

IMAPStore src
Account src

IMAPAccount dst
Host 127.0.0.1
Port $DST_PORT
User src@bench
Pass bench
SSLType None
AuthMechs LOGIN

IMAPStore dst
Account dst

MaildirStore pulled
Path $SCRATCH/pulled/
Inbox $SCRATCH/pulled/INBOX
SubFolders Verbatim

MaildirStore pushed
Path $SCRATCH/pushsrc/
Inbox $SCRATCH/pushsrc/INBOX
SubFolders Verbatim

Channel pull
Far :src:
Near :pulled:
Patterns *
Create Near
Sync Pull
SyncState *

Channel push
Far :dst:
Near :pushed:
Patterns *
Create Far
Sync Push
SyncState *
RC

# The import target's user is the archive's (src@bench); both tools write into it, emptied before each run.
clear_target() { rm -rf "$SCRATCH/dst/mail/src@bench" "$SCRATCH/journal"; sync; }
prep_pull() { rm -rf "$SCRATCH/pulled"; mkdir -p "$SCRATCH/pulled"; sync; }
prep_export() { rm -f "$SCRATCH/a.mfa" "$SCRATCH/a.mfa.partial"; sync; }
prep_push() { clear_target; rm -rf "$SCRATCH/pushsrc"; cp -a "$SCRATCH/pulled" "$SCRATCH/pushsrc"; find "$SCRATCH/pushsrc" -name '.mbsyncstate*' -delete; sync; }

T=0; RSS=0
measure() { # NAME PREP CMD...
    local name="$1" prep="$2"; shift 2
    local runs=() rss=0 i t0 t1
    "$prep"
    "$@" >"$SCRATCH/$name.warm.out" 2>&1 || { echo "imap_bench.sh: $name failed: $*" >&2; tail -n 20 "$SCRATCH/$name.warm.out" >&2; exit 1; }
    for ((i = 1; i <= REPEAT; i++)); do
        "$prep"
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$SCRATCH/$name.rss" "$@" >"$SCRATCH/$name.out" 2>&1 || { echo "imap_bench.sh: $name failed: $*" >&2; tail -n 20 "$SCRATCH/$name.out" >&2; exit 1; }
        t1=$(date +%s.%N)
        runs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
        rss=$(awk -v a="$rss" -v b="$(tail -n 1 "$SCRATCH/$name.rss")" 'BEGIN { print (a > b / 1024 ? a : b / 1024) }')
    done
    T=$(printf '%s\n' "${runs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    RSS=$(printf '%.0f' "$rss")
    log "$name: runs ${runs[*]} s, median $T s, peak RSS $RSS MB"
}

log "export: mbsync pull, then mailferry export"
measure mbsync-pull prep_pull mbsync -q -c "$SCRATCH/mbsyncrc" pull
B_EXP=$T; B_EXP_RSS=$RSS
measure mailferry-export prep_export "$BIN" export --source "imap://127.0.0.1:$SRC_PORT" --user src@bench \
    --credentials "$SCRATCH/credentials.tsv" --allow-plaintext --sign-key "$SCRATCH/k.key.pem" --out "$SCRATCH/a.mfa"
M_EXP=$T; M_EXP_RSS=$RSS

log "import: mbsync push, then mailferry import (with its reconcile)"
measure mbsync-push prep_push mbsync -q -c "$SCRATCH/mbsyncrc" push
B_IMP=$T; B_IMP_RSS=$RSS
measure mailferry-import clear_target "$BIN" import "$SCRATCH/a.mfa" --trust "$SCRATCH/k.pub.pem" \
    --target "imap://127.0.0.1:$DST_PORT" --credentials "$SCRATCH/credentials.tsv" --allow-plaintext \
    --journal "$SCRATCH/journal" --report "$SCRATCH/report.json"
M_IMP=$T; M_IMP_RSS=$RSS
grep -q '"verdict" : "pass"' "$SCRATCH/report.json" || { echo "imap_bench.sh: the import's reconcile did not pass" >&2; exit 1; }
IMPORT_ONLY=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["imported"]["seconds"])' "$SCRATCH/report.json")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
R_EXP=$(ratio "$M_EXP" "$B_EXP")
R_IMP=$(ratio "$M_IMP" "$B_IMP")
echo
echo "IMAP benchmark: $MESSAGES messages, $CORPUS_MB MB, Dovecot on loopback, median of $REPEAT runs after a warm-up"
printf '%-8s %12s %12s %7s %8s %14s %12s\n' task "mailferry s" "mbsync s" ratio target "mailferry RSS" "mbsync RSS"
printf '%-8s %12s %12s %7s %8s %11s MB %9s MB\n' export "$M_EXP" "$B_EXP" "$R_EXP" "<=1.0" "$M_EXP_RSS" "$B_EXP_RSS"
printf '%-8s %12s %12s %7s %8s %11s MB %9s MB\n' import "$M_IMP" "$B_IMP" "$R_IMP" "<=1.0" "$M_IMP_RSS" "$B_IMP_RSS"
printf '%-8s %12s %12s %7s\n' "  APPENDs" "$IMPORT_ONLY" "$B_IMP" "$(ratio "$IMPORT_ONLY" "$B_IMP")"
echo "(mailferry import = its APPENDs, from its report's imported.seconds in the last run, plus the reconcile that reads"
echo " every message back and hashes it; mbsync push does no such check)"
if ! awk -v a="$R_EXP" -v b="$R_IMP" 'BEGIN { exit !(a <= 1.0 && b <= 1.0) }'; then
    echo "target missed"
    # A smoke run (Benchmarks/smoke.sh) checks that the benchmark works, not its figures.
    [ -n "${MAILFERRY_BENCH_SMOKE:-}" ] || exit 1
fi
