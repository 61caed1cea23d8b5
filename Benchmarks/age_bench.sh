#!/usr/bin/env bash
# What encryption to station B costs (issue 10, format-spec 13.2), measured in one run on one corpus:
#   export --encrypt-to   against the same export without encryption          (goal: at most 1.10x)
#   verify of the .mfa.age against `age -d | zstd -dc | sha256sum` on it       (goal: at most 1.15x)
#   import of the .mfa.age against the import of the plain archive            (reported)
# and the peak RSS of the encrypted export, verify and import (goal: under 100 MB).
#
#   bash Benchmarks/age_bench.sh [--messages N] [--repeat N] [--bin PATH] [--scratch DIR]
#
# Defaults: 20000 messages (~450 MB, Benchmarks/make_corpus.py), 3 timed rounds after a warm-up, median kept; the
# two sides of a comparison alternate in going first. Exit 1 when a goal is missed (0 with MAILFERRY_BENCH_SMOKE=1, where the figures mean
# nothing). Needs `age`, `zstd`, GNU time.
set -euo pipefail

MESSAGES=20000
REPEAT=3
BIN="${MAILFERRY_BIN:-}"
SCRATCH="${TMPDIR:-/tmp}/mailferry-age-bench"
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="${2:?}"; shift 2 ;;
        --repeat) REPEAT="${2:?}"; shift 2 ;;
        --bin) BIN="${2:?}"; shift 2 ;;
        --scratch) SCRATCH="${2:?}"; shift 2 ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "age_bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in age zstd sha256sum python3 /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "age_bench.sh: $tool is missing (apt-get install age zstd time)" >&2; exit 1; }
done
if [ -z "$BIN" ]; then
    (cd "$ROOT" && swift build -c release >&2)
    BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)/mailferry"
fi
mkdir -p "$SCRATCH"
SCRATCH="$(cd "$SCRATCH" && pwd)"
trap 'rm -rf "$SCRATCH"' EXIT
log() { printf '==> %s\n' "$*" >&2; }

corpus="$SCRATCH/corpus"
log "generating $MESSAGES messages"
python3 "$ROOT/Benchmarks/make_corpus.py" --out "$corpus" --messages "$MESSAGES" >&2
"$BIN" keygen --out "$SCRATCH/a" >/dev/null
"$BIN" keygen --encryption --out "$SCRATCH/b" >/dev/null
plain="$SCRATCH/x.mfa" sealed="$SCRATCH/y.mfa.age"

# timed PREP CMD...: one run under GNU time; sets T_ (wall seconds) and R_ (peak RSS, MB).
timed() {
    local prep="$1"; shift
    "$prep"
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$SCRATCH/rss" "$@" >/dev/null 2>"$SCRATCH/err" || { cat "$SCRATCH/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    T_=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    R_=$(awk '{ printf "%.1f", $1 / 1024 }' "$SCRATCH/rss")
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
# pair PREP_A ARRAY_A PREP_B ARRAY_B: a warm-up of each, then REPEAT rounds that alternate which goes first (so the
# drift of a shared VM falls on both); sets A_S A_R B_S B_R (median seconds, largest RSS).
pair() {
    local prep_a="$1" prep_b="$3"
    local -n cmd_a="$2" cmd_b="$4"
    local as=() ar=() bs=() br=() i
    timed "$prep_a" "${cmd_a[@]}"; timed "$prep_b" "${cmd_b[@]}"
    for ((i = 1; i <= REPEAT; i++)); do
        if ((i % 2)); then
            timed "$prep_a" "${cmd_a[@]}"; as+=("$T_"); ar+=("$R_")
            timed "$prep_b" "${cmd_b[@]}"; bs+=("$T_"); br+=("$R_")
        else
            timed "$prep_b" "${cmd_b[@]}"; bs+=("$T_"); br+=("$R_")
            timed "$prep_a" "${cmd_a[@]}"; as+=("$T_"); ar+=("$R_")
        fi
    done
    A_S=$(median "${as[@]}") A_R=$(maxof "${ar[@]}") B_S=$(median "${bs[@]}") B_R=$(maxof "${br[@]}")
}
no_prep() { sync; }
drop_plain() { rm -f "$plain"; sync; }
drop_sealed() { rm -f "$sealed"; sync; }
drop_t1() { rm -rf "$SCRATCH/t1" "$SCRATCH/journal"; sync; }
drop_t2() { rm -rf "$SCRATCH/t2" "$SCRATCH/journal"; sync; }

export_common=(export --source "maildir:$corpus" --user bench@example.com --sign-key "$SCRATCH/a.key.pem")
export_plain=("$BIN" "${export_common[@]}" --out "$plain")
export_sealed=("$BIN" "${export_common[@]}" --encrypt-to "$SCRATCH/b.age.pub" --out "$sealed")
log "export, plain and encrypted"
pair drop_plain export_plain drop_sealed export_sealed
e_plain=$A_S e_plain_rss=$A_R e_sealed=$B_S e_sealed_rss=$B_R
"${export_plain[@]}" >/dev/null 2>&1
"${export_sealed[@]}" >/dev/null 2>&1

log "verify: age -d | zstd -dc | sha256sum, and mailferry"
verify_base=(bash -c 'set -o pipefail; age -d -i "$1" "$2" | zstd -dc | sha256sum >/dev/null' _ "$SCRATCH/b.age.key" "$sealed")
verify_sealed=("$BIN" verify "$sealed" --trust "$SCRATCH/a.pub.pem" --identity "$SCRATCH/b.age.key")
pair no_prep verify_base no_prep verify_sealed
v_base=$A_S v_base_rss=$A_R v_sealed=$B_S v_sealed_rss=$B_R

log "import, plain and encrypted"
import_common=(--trust "$SCRATCH/a.pub.pem" --user bench@example.com --journal "$SCRATCH/journal")
import_plain=("$BIN" import "$plain" "${import_common[@]}" --target "maildir:$SCRATCH/t1")
import_sealed=("$BIN" import "$sealed" "${import_common[@]}" --identity "$SCRATCH/b.age.key" --target "maildir:$SCRATCH/t2")
pair drop_t1 import_plain drop_t2 import_sealed
i_plain=$A_S i_plain_rss=$A_R i_sealed=$B_S i_sealed_rss=$B_R

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
failed=0
row() { # TASK MF BASE GOAL RSS
    local r verdict
    r=$(ratio "$2" "$3")
    verdict=PASS
    if [ "$4" != - ] && ! awk -v a="$r" -v b="$4" 'BEGIN { exit !(a <= b) }'; then verdict=FAIL; failed=1; fi
    if ! awk -v a="$5" 'BEGIN { exit !(a < 100) }'; then verdict="$verdict, RSS FAIL"; failed=1; fi
    printf '%-34s %10s %10s %7s %6s %9s  %s\n' "$1" "$2" "$3" "$r" "$4" "$5" "$verdict"
}
printf '\nencryption (age v1), %s messages, %s MB archive, median of %s\n' "$MESSAGES" "$(du -m "$sealed" | cut -f1)" "$REPEAT"
printf '%-34s %10s %10s %7s %6s %9s\n' task "mailferry s" "baseline s" ratio goal "RSS MB"
row "export --encrypt-to / export" "$e_sealed" "$e_plain" 1.10 "$e_sealed_rss"
row "verify .age / age -d|zstd|sha256" "$v_sealed" "$v_base" 1.15 "$v_sealed_rss"
row "import .age / import .mfa" "$i_sealed" "$i_plain" - "$i_sealed_rss"
printf '(plain export peak RSS %s MB, baseline verify %s MB, plain import %s MB)\n' "$e_plain_rss" "$v_base_rss" "$i_plain_rss"
if [ "$failed" = 1 ] && [ "${MAILFERRY_BENCH_SMOKE:-0}" != 1 ]; then exit 1; fi
exit 0
