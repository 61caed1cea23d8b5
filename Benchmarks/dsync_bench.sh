#!/usr/bin/env bash
# A full pass and an incremental pass between two Dovecots: MailFerry against Dovecot's own dsync (doveadm backup
# pulling from the source through the imapc storage), on the same mailbox, in the same run.
#
#   bash Benchmarks/dsync_bench.sh                      # 20000 messages, 500 new and 1000 reflagged; release build
#   bash Benchmarks/dsync_bench.sh --messages 2000 --new 100 --reflag 200 --bin .build/release/mailferry
#
# One Dovecot on 127.0.0.1 holds the corpus (Benchmarks/make_corpus.py) for src@bench; a second one is the target:
# MailFerry imports into its src@bench, dsync backs up into ds@bench (Dovecot's default mail_fsync) and into
# dsf@bench (mail_fsync=always: MailFerry fsyncs its journal before it records a message as imported, so this is
# the like-for-like column). Plain IMAP with a password on both, no TLS.
#   full:         mailferry export --source imap://  +  mailferry import --target imap:// (with its reconcile)
#                 against  doveadm backup -R imapc:
#   incremental:  N new messages and M reflagged at the source (Benchmarks/dsync_mailbox.py change), then
#                 mailferry export --since + import of the delta (with its reconcile)  against  doveadm backup again
# After every pass each target is compared with the source message by message through imaplib (bytes, flags and
# keywords, internal date: Benchmarks/dsync_mailbox.py compare); a difference fails the run.
# KEEP_SCRATCH=1 leaves the scratch folder and both Dovecots running, to look at afterwards.
# Targets: MailFerry at most 1.0 times dsync with mail_fsync=always, for both passes. Prints a table; exits 1 if a
# target is missed, a check fails or a run fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MESSAGES=20000
NEW=500
REFLAG=1000
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="$2"; shift 2 ;;
        --new) NEW="$2"; shift 2 ;;
        --reflag) REFLAG="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,21p "$0"; exit 0 ;;
        *) echo "dsync_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '==> %s\n' "$*" >&2; }

. "$ROOT/scripts/servers.sh"
ensure_packages dovecot-imapd python3 time
bash "$ROOT/.ci/install-deps" >/dev/null
BIN="$(release_binary "$ROOT" "$BIN")"
SCRATCH="$(mktemp -d /tmp/mf-dsync-bench-XXXXXX)"
chmod 755 "$SCRATCH"
PIDS=()
cleanup() {
    [ -n "${KEEP_SCRATCH:-}" ] && { echo "kept $SCRATCH (Dovecot process groups ${PIDS[*]})" >&2; return; }
    stop_process_groups "${PIDS[@]}"
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

dovecot_users "$SCRATCH/users" bench src@bench ds@bench dsf@bench
dovecot_start "$SCRATCH/src" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); SRC_PORT=$DOVECOT_IMAP
dovecot_start "$SCRATCH/dst" "$SCRATCH/users"
PIDS+=("$DOVECOT_PID"); DST_PORT=$DOVECOT_IMAP

log "generating $MESSAGES messages"
python3 "$ROOT/Benchmarks/make_corpus.py" --out "$SCRATCH/corpus" --messages "$MESSAGES" >/dev/null
mkdir -p "$SCRATCH/src/mail/src@bench"
cp -a "$SCRATCH/corpus" "$SCRATCH/src/mail/src@bench/Maildir"
rm -rf "$SCRATCH/corpus"
chown -R nobody:nogroup "$SCRATCH/src/mail" 2>/dev/null || chmod -R a+rwX "$SCRATCH/src/mail"
CORPUS_MB=$(du -sm "$SCRATCH/src/mail/src@bench" | awk '{ print $1 }')

printf 'src@bench\tbench\n' >"$SCRATCH/credentials.tsv"
chmod 600 "$SCRATCH/credentials.tsv"  # mailferry refuses a credentials file others can read
"$BIN" keygen --out "$SCRATCH/k" >/dev/null

T=0; RSS=0
. "$ROOT/Benchmarks/measure.bash"

# doveadm backup into a user of the target Dovecot, pulling src@bench through imapc: "${DSYNC[@]}" -u USER imapc:
DSYNC=(doveadm -c "$SCRATCH/dst/dovecot.conf"
    -o imapc_host=127.0.0.1 -o imapc_port="$SRC_PORT" -o imapc_user=src@bench -o imapc_password=bench
    -o imapc_ssl=no -o imapc_features="rfc822.size fetch-headers modseq" -o mail_prefetch_count=20)
check() { # WHAT USER: the target's USER equals the source's src@bench, message by message
    python3 "$ROOT/Benchmarks/dsync_mailbox.py" compare "$SRC_PORT" src@bench "$DST_PORT" "$2" bench >"$SCRATCH/check.out" 2>&1 || {
        echo "dsync_bench.sh: after $1, $2 differs from the source:" >&2; cat "$SCRATCH/check.out" >&2; exit 1; }
    log "$1: $2 checked, $(cat "$SCRATCH/check.out")"
}
# mailferry import ARCHIVE "${IMPORT[@]}" --report REPORT
IMPORT=(--trust "$SCRATCH/k.pub.pem" --target "imap://127.0.0.1:$DST_PORT" --credentials "$SCRATCH/credentials.tsv"
    --allow-plaintext --journal "$SCRATCH/journal")
passed() { grep -q '"verdict" : "pass"' "$1" || { echo "dsync_bench.sh: the reconcile in $1 did not pass" >&2; exit 1; }; }
# The import's own time, without the reconcile after it: imported.seconds in its report.
import_seconds() { python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["imported"]["seconds"])' "$1"; }

# mailferry_pass NAME WHAT [EXPORT-ARGS...]: export into NAME.mfa, import it with its reconcile, check the target.
# Sets M (seconds), M_RSS and M_PARTS (export + import + reconcile).
mailferry_pass() {
    local name="$1" what="$2"; shift 2
    log "$what: mailferry export + import (with its reconcile)"
    timed "$name-export" "$BIN" export --source "imap://127.0.0.1:$SRC_PORT" --user src@bench \
        --credentials "$SCRATCH/credentials.tsv" --allow-plaintext --sign-key "$SCRATCH/k.key.pem" "$@" \
        --out "$SCRATCH/$name.mfa"
    local export_s=$T export_rss=$RSS apply
    timed "$name-import" "$BIN" import "$SCRATCH/$name.mfa" "${IMPORT[@]}" --report "$SCRATCH/$name.json"
    passed "$SCRATCH/$name.json"
    apply=$(import_seconds "$SCRATCH/$name.json")
    M_PARTS="export $export_s + import $apply + reconcile and the rest $(add "$T" "-$apply")"
    M=$(add "$export_s" "$T"); M_RSS=$(max "$export_rss" "$RSS")
    check "$what" src@bench
}

# dsync_pass NAME WHAT: doveadm backup into ds@bench (Dovecot's default fsync) and dsf@bench (mail_fsync=always),
# each checked. Sets D, D_RSS, DF, DF_RSS.
dsync_pass() {
    local name="$1" what="$2"
    log "$what: dsync (doveadm backup through imapc)"
    timed "$name-dsync" "${DSYNC[@]}" backup -R -u ds@bench imapc:
    D=$T; D_RSS=$RSS
    check "$what" ds@bench
    timed "$name-dsync-fsync" "${DSYNC[@]}" -o mail_fsync=always backup -R -u dsf@bench imapc:
    DF=$T; DF_RSS=$RSS
    check "$what" dsf@bench
}

mailferry_pass full "the full pass"
M_FULL=$M; M_FULL_RSS=$M_RSS; M_FULL_PARTS=$M_PARTS
dsync_pass full "the full pass"
D_FULL=$D; D_FULL_RSS=$D_RSS; DF_FULL=$DF; DF_FULL_RSS=$DF_RSS

log "changing the source: $NEW new messages, $REFLAG reflagged"
python3 "$ROOT/Benchmarks/dsync_mailbox.py" change "$SRC_PORT" src@bench bench --new "$NEW" --reflag "$REFLAG" >&2

mailferry_pass delta "the incremental pass" --since "$SCRATCH/full.mfa"
M_INC=$M; M_INC_RSS=$M_RSS; M_INC_PARTS=$M_PARTS
dsync_pass delta "the incremental pass"
D_INC=$D; D_INC_RSS=$D_RSS; DF_INC=$DF; DF_INC_RSS=$DF_RSS

R_FULL=$(ratio "$M_FULL" "$DF_FULL")
R_INC=$(ratio "$M_INC" "$DF_INC")
echo
echo "dsync benchmark: $MESSAGES messages, $CORPUS_MB MB; incremental: $NEW new, $REFLAG reflagged; two Dovecots on loopback, one run each"
printf '%-12s %12s %10s %14s %7s %8s %14s %10s\n' pass "mailferry s" "dsync s" "dsync fsync s" ratio target "mailferry RSS" "dsync RSS"
printf '%-12s %12s %10s %14s %7s %8s %11s MB %7s MB\n' full "$M_FULL" "$D_FULL" "$DF_FULL" "$R_FULL" "<=1.0" "$M_FULL_RSS" "$(max "$D_FULL_RSS" "$DF_FULL_RSS")"
printf '%-12s %12s %10s %14s %7s %8s %11s MB %7s MB\n' incremental "$M_INC" "$D_INC" "$DF_INC" "$R_INC" "<=1.0" "$M_INC_RSS" "$(max "$D_INC_RSS" "$DF_INC_RSS")"
echo "mailferry full: $M_FULL_PARTS (s); incremental: $M_INC_PARTS (s)"
echo "(mailferry = export + import with its reconcile; ratio = mailferry / dsync with mail_fsync=always; every target"
echo " checked against the source message by message: bytes, flags and keywords, internal date)"
if ! awk -v a="$R_FULL" -v b="$R_INC" 'BEGIN { exit !(a <= 1.0 && b <= 1.0) }'; then
    echo "target missed"
    # A smoke run (Benchmarks/smoke.sh) checks that the benchmark works, not its figures.
    [ -n "${MAILFERRY_BENCH_SMOKE:-}" ] || exit 1
fi
