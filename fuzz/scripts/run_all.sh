#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after another, each on its committed corpus.
# Usage (from fuzz/): scripts/run_all.sh [SECONDS_PER_TARGET]   (default 300)
# New inputs that add coverage are written into corpus/<target>/; a crash stops that target
# and leaves its input in artifacts/<target>/ (see docs/fuzzing.md for what to do next).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
status=0
for target in $(cargo +nightly fuzz list); do
    echo "== $target: ${seconds}s"
    # 2 GB of memory at most (libFuzzer also fails any single allocation above it), 10 s
    # per input, inputs up to 64 KB.
    if ! cargo +nightly fuzz run -O "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|stat::peak_rss_mb)|thread '.*' panicked|SUMMARY|Test unit written"; then
        :
    fi
    if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
        echo "!! $target: crashes in artifacts/$target"
        status=1
    fi
done
exit "$status"
