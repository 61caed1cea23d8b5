#!/usr/bin/env bash
# Runs every benchmark script in Benchmarks/ once at a small size, so that none can break unnoticed (.ci/run calls
# this after the tests). A smoke run checks that each script completes and prints its table; it enforces no timing
# target (MAILFERRY_BENCH_SMOKE=1), and the figures it prints mean nothing: measure with a release build and the
# scripts' default sizes (Benchmarks/README.md).
#
#   bash Benchmarks/smoke.sh --bin PATH      # the mailferry binary to run (a debug build is fine here)
#
# A script added to Benchmarks/ without a size below makes this fail: give it one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN="$2"; shift 2 ;;
        -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$BIN" ] || { echo "smoke.sh: give the binary with --bin PATH" >&2; exit 2; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
export MAILFERRY_BENCH_SMOKE=1

scratch=$(mktemp -d /tmp/mailferry-bench-smoke.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The small size of each script.
small_arguments() {
    case "$1" in
        run.sh) echo "--messages 300 --big-message-mb 4 --repeat 1 --scratch $scratch/run" ;;
        imap_bench.sh) echo "--messages 300 --repeat 1" ;;
        imap_export_jobs.sh) echo "--users 2 --messages 150 --jobs 2 --repeat 1" ;;
        buffer_bench.sh) echo "--seconds 2 --clients 4 --store both" ;;
        dsync_bench.sh) echo "--messages 200 --new 20 --reflag 30" ;;
        age_bench.sh) echo "--messages 300 --repeat 1 --scratch $scratch/age" ;;
        scaling_bench.sh) echo "--messages 200 --sizes 2" ;;
        dav_bench.sh) echo "--contacts 150 --events 150" ;;
        *) return 1 ;;
    esac
}

passed=0
failed=0
for script in Benchmarks/*.sh; do
    name=$(basename "$script")
    [ "$name" = smoke.sh ] && continue
    if ! arguments=$(small_arguments "$name"); then
        echo "smoke.sh: $name has no small size here; add one to small_arguments" >&2
        failed=$((failed + 1))
        continue
    fi
    echo "==> smoke: bash $script $arguments --bin $BIN"
    started=$(date +%s)
    # shellcheck disable=SC2086  # the arguments are words
    if bash "$script" $arguments --bin "$BIN" >"$scratch/$name.log" 2>&1; then
        echo "    $name completed in $(($(date +%s) - started)) s; its table:"
        grep -v '^==> ' "$scratch/$name.log" | tail -n 12 | sed 's/^/    | /'
        passed=$((passed + 1))
    else
        echo "    $name FAILED after $(($(date +%s) - started)) s:"
        tail -n 30 "$scratch/$name.log" | sed 's/^/    | /'
        failed=$((failed + 1))
    fi
done
echo "benchmarks: $passed passed, $failed failed"
[ "$failed" = 0 ]
