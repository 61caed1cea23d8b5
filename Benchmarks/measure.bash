# Sourced by the benchmark scripts that time whole processes one run at a time (dsync_bench.sh, scaling_bench.sh).
# Not a benchmark itself (Benchmarks/smoke.sh runs *.sh). Needs SCRATCH set and GNU time at /usr/bin/time.

# timed NAME CMD...: runs CMD once after a sync; sets T (wall seconds) and RSS (peak, MB); output in
# $SCRATCH/NAME.out. A failing command ends the script with its output's tail.
timed() {
    local name="$1" t0 t1; shift
    sync
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$SCRATCH/$name.rss" "$@" >"$SCRATCH/$name.out" 2>&1 || {
        echo "$(basename "$0"): $name failed: $*" >&2; tail -n 30 "$SCRATCH/$name.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    RSS=$(awk -v k="$(tail -n 1 "$SCRATCH/$name.rss")" 'BEGIN { printf "%.0f", k / 1024 }')
    printf '==> %s: %s s, peak RSS %s MB\n' "$name" "$T" "$RSS" >&2
}
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
