#!/usr/bin/env bash
# Minimises every target's corpus to the inputs that reach a coverage edge no other does
# (cargo fuzz cmin; -use_counters=0: edges, not hit counts), keeping
# the hand-made seed-* files. Run from anywhere; the result is what gets committed.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in $(cargo +nightly fuzz list); do
    keep=$(mktemp -d)
    cp corpus/"$target"/seed-* "$keep"/ 2>/dev/null || true
    cargo +nightly fuzz cmin -O "$target" -- -rss_limit_mb=2048 -timeout=10 -max_len=65536 -use_counters=0 \
        >/dev/null 2>&1
    cp "$keep"/* corpus/"$target"/ 2>/dev/null || true
    rm -rf "$keep"
    echo "$target: $(ls corpus/"$target" | wc -l) inputs, $(du -sk corpus/"$target" | cut -f1) KB"
done
