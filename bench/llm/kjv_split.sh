#!/usr/bin/env bash
# The KJV text of Debian's bible-kjv split as make_checkpoints.py splits it: the first 90% of the lines for training and
# calibration (kjv-train.txt), the rest held out for perplexity (kjv-heldout.txt).
# Usage: bash bench/llm/kjv_split.sh OUT_DIR
set -euo pipefail
out=${1:?usage: kjv_split.sh OUT_DIR}
command -v bible >/dev/null || { echo "bible-kjv is not installed (apt-get install bible-kjv)" >&2; exit 1; }
mkdir -p "$out"
bible -f gen1:1-rev22:21 </dev/null | sed 's/^[^ ]* //' > "$out/kjv.txt"
lines=$(wc -l < "$out/kjv.txt")
cut=$(( lines * 9 / 10 ))
head -n "$cut" "$out/kjv.txt" > "$out/kjv-train.txt"
tail -n +"$(( cut + 1 ))" "$out/kjv.txt" > "$out/kjv-heldout.txt"
