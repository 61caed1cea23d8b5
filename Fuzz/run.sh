#!/usr/bin/env bash
# Fuzz/run.sh [SECONDS] [TARGET...]: builds mailferry-fuzz with libFuzzer (it ships with the Swift toolchain; no
# other install), runs each target (all by default) for SECONDS (60 by default) on its corpus, prints a table, and
# exits 1 when a target crashed, hung or ran out of memory. Inputs that did so are kept in Fuzz/crashes/TARGET/;
# new coverage goes to .build-fuzz/corpus/TARGET (MERGE=1 merges it into Fuzz/corpus/TARGET, keeping only inputs
# that add coverage). See Fuzz/README.md.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# Fuzz/run.sh --list PRODUCT: the targets one product holds (CI runs those of mailferry-fuzz only).
if [ "${1:-}" = "--list" ]; then
    sed -n 's/.*FuzzTarget(name: "\([a-z0-9-]*\)".*/\1/p' "Fuzz/Sources/${2:?--list PRODUCT}/FuzzMain.swift"
    exit 0
fi

duration="${1:-60}"
[ $# -gt 0 ] && shift
# Targets and the product that holds each, read from the two dispatchers.
declare -A product_of
for product in mailferry-fuzz mailferry-fuzz-config; do
    for t in $(sed -n 's/.*FuzzTarget(name: "\([a-z0-9-]*\)".*/\1/p' "Fuzz/Sources/$product/FuzzMain.swift"); do
        product_of[$t]=$product
    done
done
all_targets=$(for product in mailferry-fuzz mailferry-fuzz-config; do
    sed -n 's/.*FuzzTarget(name: "\([a-z0-9-]*\)".*/\1/p' "Fuzz/Sources/$product/FuzzMain.swift"; done)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && read -r -d '' -a targets <<<"$all_targets"
for target in "${targets[@]}"; do
    if [ -z "${product_of[$target]:-}" ]; then
        echo "Fuzz/run.sh: no target $target (targets: $(echo $all_targets))" >&2
        exit 2
    fi
done

scratch=.build-fuzz
mkdir -p "$scratch"
for product in $(for t in "${targets[@]}"; do echo "${product_of[$t]}"; done | sort -u); do
    echo "==> building $product with -sanitize=fuzzer (release, scratch path $scratch)"
    # SwiftPM points main at the module's entry point while libFuzzer links its own main: muldefs lets both stand.
    if ! swift build -c release --scratch-path "$scratch" --product "$product" \
        -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xlinker -z -Xlinker muldefs >"$scratch/build-$product.log" 2>&1; then
        tail -n 40 "$scratch/build-$product.log"
        echo "Fuzz/run.sh: the fuzz build failed (log: $scratch/build-$product.log)" >&2
        exit 2
    fi
done
[ -d Fuzz/corpus ] || bash Fuzz/seed.sh

status=0
rows=()
for target in "${targets[@]}"; do
    binary="$scratch/release/${product_of[$target]}"
    [ -d "Fuzz/corpus/$target" ] || bash Fuzz/seed.sh
    mkdir -p "Fuzz/crashes/$target" "$scratch/corpus/$target" "$scratch/logs"
    log="$scratch/logs/$target.log"
    before=$(ls "Fuzz/crashes/$target" | wc -l)
    # SWIFT_BACKTRACE=enable=no: otherwise Swift's backtracer takes the trap and libFuzzer writes no crash file.
    SWIFT_BACKTRACE=enable=no MAILFERRY_FUZZ_TARGET="$target" "$binary" \
        -max_total_time="$duration" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="Fuzz/crashes/$target/" "$scratch/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1
    rc=$?
    after=$(ls "Fuzz/crashes/$target" | wc -l)
    new=$((after - before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
        status=1
        echo "---- $target: exit $rc, $new new crash file(s); the end of $log:"
        grep -E 'ERROR|SUMMARY|Fatal error|fatal|Test unit written|deadly signal|timeout|out-of-memory' "$log" | tail -n 8
    fi
    if [ "${MERGE:-0}" = 1 ]; then
        SWIFT_BACKTRACE=enable=no MAILFERRY_FUZZ_TARGET="$target" "$binary" -merge=1 -timeout=10 \
            "Fuzz/corpus/$target" "$scratch/corpus/$target" >>"$log" 2>&1 || true
    fi
    rows+=("$(printf '%-13s %12s  %-20s %s' "$target" "${execs:-?}" "${cov:-?}" "$new")")
done

echo
printf '%-13s %12s  %-20s %s\n' target executions coverage "new crashes"
for row in "${rows[@]}"; do echo "$row"; done
if [ "$status" -ne 0 ]; then
    echo "Fuzz/run.sh: crashes, hangs or failures above; inputs in Fuzz/crashes/TARGET/, logs in $scratch/logs/" >&2
fi
exit "$status"
