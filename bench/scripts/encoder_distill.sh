#!/usr/bin/env bash
# Issue 14's encoder measurement: a BERT-style encoder (6 layers, hidden 96, 4 heads, FFN 384, three inputs, dynamic
# axes) trained by masked-token prediction on the KJV text (bench/fixtures/make_bert_bench_encoder.py, written to
# bench/out/encoder/ if absent), pruned in one run to 75% of its heads and 50% of its FFN width, then distilled from the
# dense model on unlabeled training verses; mean cosine to the dense outputs on 300 held-out verses, before and after
# distillation. Also the hidden size -25% (approximate) in the same run, and ONNX Runtime latency (bench encoder).
# Usage: bash bench/scripts/encoder_distill.sh [distill examples (default 1000)] [epochs (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out/encoder
examples=${1:-1000}
epochs=${2:-2}
[[ -s $out/bert_encoder_trained.onnx ]] || STEPS=${STEPS:-3000} /usr/bin/python3 bench/fixtures/make_bert_bench_encoder.py
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
cli() { dotnet src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli.dll "$@"; }
dense=$out/bert_encoder_trained.onnx
text=(--tokenizer "wordpiece:$out/vocab.txt" --context 32)
head -n "$examples" "$out/distill_sentences.txt" > "$out/distill_$examples.txt"

cli prune "$dense" --structured head --method l2 --ratio 0.25 --ffn-ratio 0.5 -o "$out/heads_ffn.onnx" | tail -3
echo "== heads -25% + FFN -50%, no recovery, held-out verses"
cli eval "$out/heads_ffn.onnx" --reference "$dense" --data "$out/heldout_sentences.txt" "${text[@]}" | tail -3
start=$SECONDS
cli prune "$dense" --structured head --method l2 --ratio 0.25 --ffn-ratio 0.5 \
  --data "$out/distill_$examples.txt" "${text[@]}" --recover distill --finetune-epochs "$epochs" \
  --batch-size 32 --optimizer adamw --lr 1e-3 --lr-schedule cosine -o "$out/heads_ffn_distilled.onnx" | tail -2
echo "pruning and distillation: $((SECONDS - start)) s wall"
echo "== heads -25% + FFN -50%, distilled on $examples verses x $epochs epochs, held-out verses"
cli eval "$out/heads_ffn_distilled.onnx" --reference "$dense" --data "$out/heldout_sentences.txt" "${text[@]}" | tail -3
cli prune "$dense" --structured head --method l2 --ratio 0.25 --ffn-ratio 0.5 --hidden-ratio 0.25 --approximate -o "$out/heads_ffn_hidden.onnx" | tail -2
dotnet run --project bench/PruneSharp.Bench -c Release -- encoder "$dense" --length 128 --rounds 100 --threads 1
