#!/usr/bin/env bash
# What encryption to station B costs (issue 10, format-spec 13.2), measured in one run on one corpus:
#   export --encrypt-to   against the same export without encryption          (goal: at most 1.10x)
#   verify of the .mfa.age against `age -d | zstd -dc | sha256sum` on it       (goal: at most 1.15x)
#   import of the .mfa.age against the import of the plain archive            (reported)
# and the peak RSS of the encrypted export, verify and import (goal: under 100 MB).
#
#   bash Benchmarks/age_bench.sh [--messages N] [--repeat N] [--bin PATH] [--scratch DIR]
#
# Defaults: 20000 messages (~450 MB, Benchmarks/make_corpus.py), 3 timed runs after a warm-up, median kept; each pair
# is timed baseline first. Exit 1 when a goal is missed (0 with MAILFERRY_BENCH_SMOKE=1, where the figures mean
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

SECONDS_=0 RSS_=0
# measure PREP CMD...: a warm-up, then REPEAT timed runs; sets SECONDS_ (median wall) and RSS_ (largest peak, MB).
measure() {
    local prep="$1"; shift
    "$prep"; "$@" >/dev/null 2>"$SCRATCH/err" || { cat "$SCRATCH/err" >&2; exit 1; }
    local runs=() rss=0 t0 t1 r i
    for ((i = 1; i <= REPEAT; i++)); do
        "$prep"
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$SCRATCH/rss" "$@" >/dev/null 2>"$SCRATCH/err" || { cat "$SCRATCH/err" >&2; exit 1; }
        t1=$(date +%s.%N)
        runs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
        r=$(awk '{ printf "%.1f", $1 / 1024 }' "$SCRATCH/rss")
        rss=$(awk -v a="$rss" -v b="$r" 'BEGIN { print (a > b ? a : b) }')
    done
    SECONDS_=$(printf '%s\n' "${runs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    RSS_=$rss
}
no_prep() { sync; }
drop_plain() { rm -f "$plain"; sync; }
drop_sealed() { rm -f "$sealed"; sync; }
drop_targets() { rm -rf "$SCRATCH/t1" "$SCRATCH/t2" "$SCRATCH/journal"; sync; }

export_args=(export --source "maildir:$corpus" --user bench@example.com --sign-key "$SCRATCH/a.key.pem")
log "export, plain then encrypted"
measure drop_plain "$BIN" "${export_args[@]}" --out "$plain"
e_plain=$SECONDS_ e_plain_rss=$RSS_
measure drop_sealed "$BIN" "${export_args[@]}" --encrypt-to "$SCRATCH/b.age.pub" --out "$sealed"
e_sealed=$SECONDS_ e_sealed_rss=$RSS_
"$BIN" export "${export_args[@]:1}" --encrypt-to "$SCRATCH/b.age.pub" --out "$sealed" >/dev/null 2>&1

log "verify: age -d | zstd -dc | sha256sum, then mailferry"
measure no_prep bash -c 'set -o pipefail; age -d -i "$1" "$2" | zstd -dc | sha256sum >/dev/null' _ "$SCRATCH/b.age.key" "$sealed"
v_base=$SECONDS_ v_base_rss=$RSS_
measure no_prep "$BIN" verify "$sealed" --trust "$SCRATCH/a.pub.pem" --identity "$SCRATCH/b.age.key"
v_sealed=$SECONDS_ v_sealed_rss=$RSS_

log "import, plain then encrypted"
"$BIN" export "${export_args[@]:1}" --out "$plain" >/dev/null 2>&1
import_args=(--trust "$SCRATCH/a.pub.pem" --user bench@example.com --journal "$SCRATCH/journal")
measure drop_targets "$BIN" import "$plain" "${import_args[@]}" --target "maildir:$SCRATCH/t1"
i_plain=$SECONDS_ i_plain_rss=$RSS_
measure drop_targets "$BIN" import "$sealed" "${import_args[@]}" --identity "$SCRATCH/b.age.key" --target "maildir:$SCRATCH/t2"
i_sealed=$SECONDS_ i_sealed_rss=$RSS_

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
