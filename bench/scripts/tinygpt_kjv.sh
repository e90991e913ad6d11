#!/usr/bin/env bash
# TinyGPT on the King James Bible (Debian's bible-kjv): byte-level tokens, the last 10% of the text held out
# (Acts 22:1 to the end of Revelation, 3,398 verses), held-out perplexity and training tokens/s.
# Usage: bash bench/scripts/tinygpt_kjv.sh [extra prunesharp train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out
mkdir -p "$out"
command -v bible >/dev/null || { echo "bible-kjv is not installed (apt-get install bible-kjv)" >&2; exit 1; }
[[ -s $out/kjv.txt ]] || bible -f gen1:1-rev22:21 </dev/null | sed 's/^[^ ]* //' > "$out/kjv.txt"
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
/usr/bin/time -f "%e s wall, %U s user, %M KB peak" \
  dotnet run -c Release --no-build --project src/PruneSharp.Cli -- train --model tiny-gpt --data "$out/kjv.txt" \
  --gpt-layers 4 --gpt-heads 4 --gpt-width 128 --context 128 --batch-size 32 --epochs 1 \
  --optimizer adamw --lr 3e-3 --weight-decay 0.01 --schedule cosine -o "$out/tinygpt-kjv.onnx" "$@"
