#!/usr/bin/env bash
# Peak memory of layer-by-layer SparseGPT on a checkpoint larger than one wants in memory: a random-weight
# Llama-architecture checkpoint of about 1.03 billion parameters written by `bench llm-synthetic` (default F32, 4.1 GB;
# DTYPE=BF16 for 2.1 GB), pruned with SparseGPT at 50% from 16 calibration windows of 256 tokens. Prints the peak
# resident memory of the prune process against the checkpoint's size, and the time.
# Usage: bash bench/llm/memory_1b.sh WORK_DIR   (needs about 9 GB of disk for F32: the input and the output)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: memory_1b.sh WORK_DIR}
dtype=${DTYPE:-F32}
mkdir -p "$work"
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
cli=src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli
tokenizer=tests/PruneSharp.Tests/Llm/Tokenizers/Fixtures/kjv-bytelevel/tokenizer.json
[[ -s $work/kjv/kjv-train.txt ]] || bash bench/llm/kjv_split.sh "$work/kjv" >/dev/null
[[ -s $work/llama-1b-$dtype/model.safetensors.index.json ]] || \
  bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench llm-synthetic "$work/llama-1b-$dtype" "$tokenizer" "$dtype"
size=$(du -cb "$work/llama-1b-$dtype"/*.safetensors | tail -1 | cut -f1)
/usr/bin/time -f "%e %M" -o "$work/time.txt" "$cli" llm prune "$work/llama-1b-$dtype" --method sparsegpt --sparsity 0.5 \
  --calibration "$work/kjv/kjv-train.txt" --nsamples 16 --seqlen 256 --replace -o "$work/llama-1b-$dtype-sparsegpt" | tail -4
read -r seconds peak_kb < "$work/time.txt"
python3 -c "
size, peak, s = $size, $peak_kb * 1024, $seconds
print(f'checkpoint {size / 2**30:.2f} GiB ($dtype), peak resident {peak / 2**30:.3f} GiB = {100 * peak / size:.1f}% of the checkpoint, {s:.0f} s')"
