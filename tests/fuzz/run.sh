#!/bin/sh
# Run every fuzz target in DIR for SECONDS each: first every input of its
# seed corpus tests/fuzz/corpus/<name>/ (hand-made seeds and the regression
# inputs of crashes once found), then new inputs until the budget is spent.
# New interesting inputs go to build-fuzz/corpus/<name>/ (not the repo);
# a crash stops the run with the input saved under build-fuzz/crashes/.
# Usage: tests/fuzz/run.sh DIR SECONDS [NAME...]
set -eu
dir=$1
seconds=$2
shift 2
names=${*:-$(ls "$dir" | sed -n 's/^fuzz_//p')}
out=$(dirname "$dir")
mkdir -p "$out/crashes"
failed=""
for name in $names; do
    seeds=tests/fuzz/corpus/$name
    work=$out/corpus/$name
    mkdir -p "$work"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    echo "fuzz $name: ${seconds}s, seeds $(ls "$seeds" 2>/dev/null | wc -l)"
    # shellcheck disable=SC2086
    if ! "$dir/fuzz_$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 $dict \
        -artifact_prefix="$out/crashes/$name-" "$work" "$seeds" >"$out/fuzz_$name.log" 2>&1; then
        tail -60 "$out/fuzz_$name.log"
        failed="$failed $name"
    else
        grep -E '^stat::number_of_executed_runs|^Done' "$out/fuzz_$name.log" | tr '\n' ' '
        echo
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: FAILED:$failed (inputs in $out/crashes/)" >&2
    exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
